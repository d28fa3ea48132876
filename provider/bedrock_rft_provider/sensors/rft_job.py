"""BedrockRFTJobSensor: wait for an RFT job started elsewhere, by name or ARN."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.sensors.base_aws import AwsBaseSensor
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowSensorTimeout, conf

from bedrock_rft_provider.errors import JobFailedError
from bedrock_rft_provider.hooks.bedrock_rft import FAILURE_STATES, SUCCESS_STATES, BedrockRFTHook
from bedrock_rft_provider.jobs import waiting

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_rft_provider.jobs.spend_guard import WaitGuard

# Task-state-store key (Airflow >= 3.3) holding when this task first checked the job, per job.
FIRST_CHECK_KEY = "bedrock_rft_first_check:{job}"


class BedrockRFTJobSensor(AwsBaseSensor[BedrockRFTHook]):
    """Succeed when the RFT job is Completed; fail with Bedrock's failureMessage when it ends otherwise.

    It also takes BaseSensorOperator's ``timeout`` (seconds), ``mode`` and ``soft_fail``. The wait ends
    ``min(timeout, poke_interval * max_retries)`` after the task's first check, deferred or not, with
    ``AirflowSensorTimeout``; retries and clears continue that wait rather than start a new one (the
    first check's time is kept in the task state store on Airflow >= 3.3; older Airflow counts from
    the try's first check).

    :param job_identifier: job name or ARN.
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    :param poke_interval: seconds between checks.
    :param max_retries: checks before giving up, deferred or not (default 720: 24 h at 120 s).
    :param spend_guard: caps and health actions to enforce (``jobs.spend_guard.WaitGuard`` fields). The
        sensor never stops a job on its own, except here: when you give it caps and one is reached (or
        a ``stop`` health check fires), it stops the job and fails with what was spent and why (also
        in XCom ``spend_stop``).
    """

    aws_hook_class = BedrockRFTHook
    template_fields: Sequence[str] = aws_template_fields("job_identifier", "spend_guard")
    SUCCESS_STATES = SUCCESS_STATES
    FAILURE_STATES = FAILURE_STATES

    def __init__(
        self,
        *,
        job_identifier: str,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float = 120,
        max_retries: int = 720,
        spend_guard: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.job_identifier = job_identifier
        self.deferrable = deferrable
        self.max_retries = max_retries
        self.spend_guard = spend_guard
        self.wait_limit()  # a bad interval, count or timeout fails at DAG parse time
        self._first_check: datetime | None = None

    def wait_limit(self, elapsed: float = 0.0) -> waiting.WaitLimit:
        """What is left of the wait ``elapsed`` seconds after the first check (the whole wait at 0)."""
        return waiting.wait_limit(
            waiter_delay=self.poke_interval,
            waiter_max_attempts=self.max_retries,
            timeout=self.timeout,
            elapsed=elapsed,
            delay_field="poke_interval",
            attempts_field="max_retries",
        )

    def execute(self, context: Context) -> Any:
        from bedrock_rft_provider.triggers.rft_job import BedrockRFTJobTrigger

        if not self.deferrable:
            return super().execute(context=context)
        if self.poke(context):
            return None
        limit = self.wait_limit(self._elapsed(context))
        self.log.info(
            "Deferring until RFT job %s ends (at most %s more)", self.job_identifier, limit.describe()
        )
        self.defer(
            trigger=BedrockRFTJobTrigger(
                job_identifier=self.job_identifier,
                waiter_delay=int(self.poke_interval),
                waiter_max_attempts=limit.waiter_max_attempts,
                stop_on_kill=False,  # the sensor did not start this job; only its explicit caps stop it
                spend_guard=self._guard().to_dict() if self._guard().active else None,
                aws_conn_id=self.aws_conn_id,
                region_name=self.region_name,
                verify=self.verify,
                botocore_config=self.botocore_config,
            ),
            method_name="execute_complete",
            timeout=limit.defer_timeout,
        )
        return None

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> None:
        from bedrock_rft_provider.triggers import spend_watch

        validated = validate_execute_complete_event(event)
        if validated.get("guard"):
            watch = spend_watch.NativeWatch(self.hook, self.job_identifier, self._guard(), self.log)
            raise spend_watch.fail_stopped(context, watch, validated["guard"], self.log)
        if validated["status"] != "success":
            job = self.hook.describe_job(self.job_identifier)
            if job.get("status") not in self.FAILURE_STATES:
                # The trigger ran out of checks: the same end as a sensor that waited on a worker.
                raise AirflowSensorTimeout(self._timed_out(job.get("status")))
            raise JobFailedError(
                f"RFT job {self.job_identifier} ended {job.get('status')}: "
                f"{job.get('failureMessage') or validated.get('message')}"
            )
        self.log.info("RFT job %s completed", self.job_identifier)

    def _guard(self) -> WaitGuard:
        from bedrock_rft_provider.jobs.spend_guard import WaitGuard

        return WaitGuard.from_dict(self.spend_guard)

    def poke(self, context: Context) -> bool:
        from bedrock_rft_provider.triggers import spend_watch

        guard = self._guard()
        if guard.active:
            watch = spend_watch.NativeWatch(self.hook, self.job_identifier, guard, self.log)
            check = watch.check()
            if check.outcome == spend_watch.GUARD_STOP:
                assert check.verdict is not None
                raise spend_watch.fail_stopped(context, watch, check.verdict.as_dict(), self.log)
        job = self.hook.describe_job(self.job_identifier)
        status = job.get("status")
        self.log.info("RFT job %s is %s", self.job_identifier, status)
        if status in self.FAILURE_STATES:
            reason = job.get("failureMessage") or "no failureMessage"
            raise JobFailedError(f"RFT job {self.job_identifier} ended {status}: {reason}")
        if status in self.SUCCESS_STATES:
            return True
        if self.wait_limit(self._elapsed(context)).expired:
            raise AirflowSensorTimeout(self._timed_out(status))
        return False

    def _timed_out(self, status: Any) -> str:
        return (
            f"RFT job {self.job_identifier} is still {status} after {self.wait_limit().describe()} "
            "(min(timeout, poke_interval * max_retries) since the first check)"
        )

    def _elapsed(self, context: Context) -> float:
        """Seconds since this task first checked the job, across retries and clears where possible."""
        now = datetime.now(timezone.utc)
        if self._first_check is None:
            self._first_check = self._recall_first_check(context, now)
        return (now - self._first_check).total_seconds()

    def _recall_first_check(self, context: Context, now: datetime) -> datetime:
        store = context.get("task_state_store")
        key = FIRST_CHECK_KEY.format(job=self.job_identifier)
        if store is not None:
            try:
                stored = store.get(key)
                if stored:
                    return datetime.fromisoformat(str(stored))
                store.set(key, now.isoformat())
            except Exception as exc:  # a store outage must not fail the wait; count from now instead
                self.log.warning("Cannot read or keep the first check's time (%s); counting from now", exc)
            return now
        if self.reschedule:  # no store (Airflow < 3.3): Airflow's own anchor for rescheduled sensors
            first = context["ti"].get_first_reschedule_date(context)
            return first or now
        return now
