"""BedrockOpenWeightJobTrigger: waits in the triggerer (async ``openai`` client) for an open-weight job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import openai
from airflow.triggers.base import BaseTrigger, TriggerEvent
from asgiref.sync import sync_to_async

from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook
from bedrock_rft_provider.jobs.backends import OPEN_WEIGHT
from bedrock_rft_provider.jobs.openweight import FAILURE_STATES, SUCCESS_STATES, TERMINAL_STATES
from bedrock_rft_provider.jobs.openweight_metrics import metric_point
from bedrock_rft_provider.jobs.spend_guard import WaitGuard
from bedrock_rft_provider.triggers import spend_watch
from bedrock_rft_provider.triggers.kill_reason import user_stopped

# Polling errors worth waiting out (network, throttling, 5xx); anything else ends the wait with an error.
TRANSIENT = (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)


class BedrockOpenWeightJobTrigger(BaseTrigger):
    """Fire once the job succeeds (``status: success``), fails or is cancelled (``error``), or the wait ends.

    Logs every status change, message event and metric event (step, reward, entropy, ...) while waiting.
    The event carries ``backend``, ``job_id``, ``job_status``, ``fine_tuned_model``, ``message`` (the job's
    error message on failure) and ``cursor`` (the newest event seen).

    :param job_id: the fine-tuning job id (``ftjob-...``).
    :param waiter_delay: seconds between polls.
    :param waiter_max_attempts: polls before giving up (``status: timeout``).
    :param stop_on_kill: cancel the job when a user marks the deferred task failed (a clear never does).
    :param spend_guard: ``WaitGuard.to_dict()`` of caps and health actions; when one fires the job is
        cancelled and the ``error`` event carries ``guard`` (why, and what was spent).
    """

    def __init__(
        self,
        *,
        job_id: str,
        waiter_delay: int = 120,
        waiter_max_attempts: int = 720,
        stop_on_kill: bool = True,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        cursor: str | None = None,
        spend_guard: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.job_id = job_id
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts
        self.stop_on_kill = stop_on_kill
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.cursor = cursor
        self.spend_guard = spend_guard

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{self.__class__.__module__}.{self.__class__.__qualname__}",
            {
                "job_id": self.job_id,
                "waiter_delay": self.waiter_delay,
                "waiter_max_attempts": self.waiter_max_attempts,
                "stop_on_kill": self.stop_on_kill,
                "aws_conn_id": self.aws_conn_id,
                "region_name": self.region_name,
                "verify": self.verify,
                "cursor": self.cursor,
                "spend_guard": self.spend_guard,
            },
        )

    def hook(self) -> BedrockOpenWeightHook:
        return BedrockOpenWeightHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self.hook()
        guard = WaitGuard.from_dict(self.spend_guard)
        watch = spend_watch.OpenWeightWatch(hook, self.job_id, guard, self.log) if guard.active else None
        status = None
        job: dict[str, Any] = {}
        for _ in range(max(1, self.waiter_max_attempts)):
            try:
                job = (await hook.async_client.fine_tuning.jobs.retrieve(self.job_id)).model_dump(
                    warnings=False
                )
                events, self.cursor = await hook.aevents_since(self.job_id, self.cursor)
            except TRANSIENT as exc:
                self.log.warning("Polling fine-tuning job %s failed (%s); trying again", self.job_id, exc)
                await asyncio.sleep(self.waiter_delay)
                continue
            for event in events:
                self._log_event(event)
            if job.get("status") != status:
                status = job.get("status")
                self.log.info("Fine-tuning job %s is %s", self.job_id, status)
            if watch is not None:
                try:  # a failed check (or cancel) is made again at the next poll: the stop is not lost
                    check = await sync_to_async(watch.check)()
                except Exception as exc:
                    self.log.warning("Checking job %s's spend failed (%s); trying again", self.job_id, exc)
                else:
                    if check.outcome == spend_watch.GUARD_STOP:
                        event = self._event("error", check.job)
                        event.update(spend_watch.guard_event_fields(check, self.job_id))
                        yield TriggerEvent(event)
                        return
            if status in TERMINAL_STATES:
                yield TriggerEvent(self._event("success" if status in SUCCESS_STATES else "error", job))
                return
            await asyncio.sleep(self.waiter_delay)
        yield TriggerEvent(self._event("timeout", job))

    def _log_event(self, event: dict[str, Any]) -> None:
        point = metric_point(event)
        if point is not None:
            self.log.info("Fine-tuning job %s %s", self.job_id, point.describe())
        else:
            self.log.info("Fine-tuning job %s: %s", self.job_id, event.get("message"))

    def _event(self, outcome: str, job: dict[str, Any]) -> dict[str, Any]:
        status = job.get("status")
        error = job.get("error") or {}
        if outcome == "success":
            message = f"fine-tuning job {self.job_id} succeeded"
        elif status in FAILURE_STATES:
            message = (
                f"fine-tuning job {self.job_id} ended {status}: {error.get('message') or 'no error message'}"
            )
        else:
            message = (
                f"fine-tuning job {self.job_id} is still {status} after {self.waiter_max_attempts} polls"
            )
        return {
            "status": outcome,
            "backend": OPEN_WEIGHT,
            "job_id": self.job_id,
            "job_status": status,
            "fine_tuned_model": job.get("fine_tuned_model"),
            "message": message,
            "cursor": self.cursor,
        }

    async def on_kill(self) -> None:
        """Cancel the job when a user marked the task failed; a clear leaves it for the next try."""
        if not self.stop_on_kill:
            return
        task_instance = getattr(self, "task_instance", None)
        if not await sync_to_async(user_stopped)(task_instance, self.job_id, self.log):
            return
        try:
            await sync_to_async(self.hook().cancel_job)(self.job_id)
        except Exception:
            self.log.exception("Could not cancel fine-tuning job %s; it may still be running", self.job_id)
