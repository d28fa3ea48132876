"""One check of a training job against its :class:`~jobs.spend_guard.WaitGuard`, for either backend.

The trigger (through ``sync_to_async``), the sensor and the worker's poll loops all call
:meth:`JobWatch.check`: describe the job, read the metrics it has written so far, judge them, and when
the verdict is to stop a live job, ask the service to stop it. The decision is re-made from the job's
own state on every check, so a stop request that failed (or a triggerer that restarted between
deciding and stopping) is sent again on the next check; stop and cancel are idempotent. A job the
guard stopped ends as ``Stopped``/``cancelled`` and every later check still says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException

from bedrock_rft_provider.jobs import run_spend, spend_guard
from bedrock_rft_provider.jobs.spend_guard import Verdict, WaitGuard

SUCCESS = "success"
FAILED = "failed"
GUARD_STOP = "guard_stop"
RUNNING = "running"
# XCom key under which a task stopped by its guard records why, what it spent and (open-weight) the
# best checkpoint so far: the task fails, so this is where downstream tasks and people find them.
XCOM_KEY = "spend_stop"


class SpendStopError(AirflowFailException):
    """The wait stopped the job (a cap or a ``stop`` health check). Not retried: a retry would pay again.

    ``details`` is what was pushed to XCom ``spend_stop``.
    """

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class Check:
    """One check's result: the job's description, its status, the verdict and what it means now."""

    job: dict[str, Any]
    status: str
    verdict: Verdict | None
    outcome: str  # SUCCESS, FAILED, GUARD_STOP or RUNNING


class JobWatch:
    """Checks one job against a guard; subclasses know their backend's calls and states."""

    live_states: frozenset[str] = frozenset()
    success_states: frozenset[str] = frozenset()
    failure_states: frozenset[str] = frozenset()
    # The failure states a stop ends in (a guard stop is reported as such, not as a plain failure).
    stopped_states: frozenset[str] = frozenset()

    def __init__(self, hook: Any, job: str, guard: WaitGuard, log: logging.Logger | Any) -> None:
        self.hook = hook
        self.job_ref = job
        self.guard = guard
        self.log = log
        self._warned: set[str] = set()

    # backend calls
    def describe(self) -> dict[str, Any]:
        raise NotImplementedError

    def spend_and_metrics(self, job: dict[str, Any]) -> tuple[spend_guard.Spend, Any]:
        raise NotImplementedError

    def request_stop(self) -> None:
        raise NotImplementedError

    def record_stop(self, job: dict[str, Any], verdict: Verdict) -> None:
        """Durably note why the guard stops the job (native backend: a ``jobs.run_spend`` marker)."""

    def check(self, *, enforce: bool = True) -> Check:
        """Describe, judge and (``enforce``) stop a live job whose verdict is to stop."""
        job = self.describe()
        status = str(job.get("status"))
        verdict = None
        if status not in self.success_states:
            spend, metrics = self.spend_and_metrics(job)
            verdict = spend_guard.judge(spend, metrics, self.guard)
            for warning in verdict.warnings:
                if warning not in self._warned:
                    self._warned.add(warning)
                    self.log.warning("Job %s: %s", self.job_ref, warning)
        if status in self.success_states:
            outcome = SUCCESS
        elif verdict is not None and verdict.stop and status not in self.failure_states - self.stopped_states:
            outcome = GUARD_STOP
        elif status in self.failure_states:
            outcome = FAILED
        else:
            outcome = RUNNING
        if outcome == GUARD_STOP and enforce and status in self.live_states:
            assert verdict is not None
            self.log.warning("%s", verdict.message(self.job_ref))
            try:  # before the stop: a clear then knows this attempt was stopped (jobs.run_spend)
                self.record_stop(job, verdict)
            except Exception as exc:  # never keep paying for a marker; a clear still sums the spend
                self.log.warning("Could not record the stop of job %s (%s)", self.job_ref, exc)
            self.request_stop()
        return Check(job, status, verdict, outcome)


class NativeWatch(JobWatch):
    """A ``CreateModelCustomizationJob`` job; ``hook`` is a ``BedrockRFTHook``."""

    live_states = frozenset({"InProgress"})
    success_states = frozenset({"Completed"})
    failure_states = frozenset({"Failed", "Stopped", "Stopping"})
    stopped_states = frozenset({"Stopped", "Stopping"})

    def describe(self) -> dict[str, Any]:
        return dict(self.hook.describe_job(self.job_ref))

    def spend_and_metrics(self, job: dict[str, Any]) -> tuple[spend_guard.Spend, Any]:
        metrics = self.hook.read_training_metrics(job)
        batch, per_prompt = spend_guard.native_hyperparameters(job)
        spend = spend_guard.observe(
            metrics,
            training_seconds=spend_guard.native_training_seconds(job),
            guard=self.guard,
            batch_size=batch,
            samples_per_prompt=per_prompt,
        )
        return spend, metrics

    def request_stop(self) -> None:
        self.hook.stop_job(self.job_ref)

    def record_stop(self, job: dict[str, Any], verdict: Verdict) -> None:
        output, name = (job.get("outputDataConfig") or {}).get("s3Uri"), job.get("jobName")
        if output and name:
            marker = run_spend.stop_marker(str(name), verdict, self.guard)
            self.hook.storage.write_text(run_spend.marker_uri(output, str(name)), marker)


class OpenWeightWatch(JobWatch):
    """A job of the OpenAI-compatible fine-tuning API; ``hook`` is a ``BedrockOpenWeightHook``."""

    live_states = frozenset({"validating_files", "queued", "running"})
    success_states = frozenset({"succeeded"})
    failure_states = frozenset({"failed", "cancelled"})
    stopped_states = frozenset({"cancelled"})

    def describe(self) -> dict[str, Any]:
        return dict(self.hook.retrieve_job(self.job_ref))

    def spend_and_metrics(self, job: dict[str, Any]) -> tuple[spend_guard.Spend, Any]:
        metrics = self.hook.read_training_metrics(self.job_ref)
        spend = spend_guard.observe(
            metrics,
            training_seconds=spend_guard.openweight_training_seconds(job),
            guard=self.guard,
            batch_size=spend_guard.openweight_batch_size(job),
        )
        return spend, metrics

    def request_stop(self) -> None:
        self.hook.cancel_job(self.job_ref)

    def best_checkpoint(self) -> dict[str, Any] | None:
        """The best checkpoint so far (by validation reward, else the latest): it stays usable."""
        from bedrock_rft_provider.errors import ConfigError
        from bedrock_rft_provider.evaluation.checkpoints import best_checkpoint

        checkpoints = self.hook.checkpoints(self.job_ref)
        if not checkpoints:
            return None
        try:
            best = best_checkpoint(self.job_ref, checkpoints)
        except ConfigError:  # no checkpoint reports the metric: the latest one is still a model
            last = checkpoints[-1]
            return {"model_id": last.get("fine_tuned_model_checkpoint"), "step": last.get("step_number")}
        return {"model_id": best.model_id, "step": best.step, "metric": best.metric, "value": best.value}


def poll_until_done(watch: JobWatch, delay: float, attempts: int, log: logging.Logger | Any) -> Check:
    """The worker's wait: check every ``delay`` seconds until the job ends, is stopped, or checks run out.

    A failed check (e.g. a stop request that errored) is logged and made again at the next poll.
    """
    import time

    check: Check | None = None
    for attempt in range(max(1, attempts)):
        try:
            check = watch.check()
        except Exception as exc:
            log.warning("Checking job %s failed (%s); trying again", watch.job_ref, exc)
        else:
            if check.verdict is not None:
                log.info(
                    "Job %s is %s; so far %s", watch.job_ref, check.status, check.verdict.spend.describe()
                )
            if check.outcome != RUNNING:
                return check
        if attempt < attempts - 1:
            time.sleep(delay)
    return check if check is not None else watch.check(enforce=False)


def guard_event_fields(check: Check, job: str) -> dict[str, Any]:
    """What a trigger's event carries about a guard stop (JSON-able)."""
    assert check.verdict is not None
    return {"guard": check.verdict.as_dict(), "message": check.verdict.message(job)}


def fail_stopped(
    context: Any, watch: JobWatch, verdict: dict[str, Any], log: logging.Logger | Any
) -> SpendStopError:
    """On the worker after a guard stop: make sure the stop was sent, record it in XCom, return the error.

    Re-checks the job and requests the stop again while it is live (the trigger may have lost its
    request); the open-weight backend's best checkpoint so far is named in the message and the XCom.
    """
    try:
        check = watch.check()
    except Exception as exc:  # the stop was already requested by the trigger; report what it decided
        log.warning("Could not re-check job %s after its guard stop (%s)", watch.job_ref, exc)
        check = None
    if check is not None and check.verdict is not None and check.verdict.stop:
        verdict = check.verdict.as_dict()
    details: dict[str, Any] = {"job": watch.job_ref, **verdict}
    message = (
        f"Stopped RFT job {watch.job_ref}: {'; '.join(verdict.get('reasons') or [])}. "
        f"Spent so far: {spend_guard.Spend(**verdict['spend']).describe()}."
    )
    if isinstance(watch, OpenWeightWatch):
        try:
            best = watch.best_checkpoint()
        except Exception as exc:
            log.warning("Could not list the checkpoints of job %s (%s)", watch.job_ref, exc)
            best = None
        details["best_checkpoint"] = best
        if best:
            message += (
                f" The best checkpoint so far stays usable: {best['model_id']} (step {best.get('step')})."
            )
        else:
            message += " The job wrote no checkpoint before it was stopped."
    ti = context.get("ti") if hasattr(context, "get") else None
    if ti is not None:
        try:
            ti.xcom_push(key=XCOM_KEY, value=details)
        except Exception as exc:  # the failure message still says everything
            log.warning("Could not push XCom %s (%s)", XCOM_KEY, exc)
    return SpendStopError(message, details)
