"""BedrockRFTJobTrigger: waits in the triggerer (aiobotocore) until an RFT job leaves InProgress."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger
from airflow.triggers.base import TriggerEvent
from asgiref.sync import sync_to_async

from bedrock_rft_provider.hooks.bedrock_rft import STATUS_QUERIES, BedrockRFTHook
from bedrock_rft_provider.jobs.spend_guard import WaitGuard
from bedrock_rft_provider.triggers import spend_watch
from bedrock_rft_provider.triggers.kill_reason import user_stopped


class BedrockRFTJobTrigger(AwsBaseWaiterTrigger):
    """Fire once the RFT job is Completed (``status: success``) or ends Failed/Stopped (``error``).

    The error event's message carries the job status and Bedrock's ``failureMessage``. With an active
    ``spend_guard`` every check also reads the metrics written so far and stops the job when a cap is
    reached or a ``stop`` health check fires; the error event then carries ``guard`` (the verdict: why,
    and what was spent). A restarted trigger decides the same again and re-sends the stop (idempotent).

    :param job_identifier: job name or ARN.
    :param stop_on_kill: stop the job when a user marks the deferred task failed (Airflow >= 3.3
        calls ``on_kill`` on triggers; older versions never do). Clearing the task never stops the
        job: the next try reattaches to it (see :mod:`bedrock_rft_provider.triggers.kill_reason`).
    """

    aws_hook_class = BedrockRFTHook

    def __init__(
        self,
        *,
        job_identifier: str,
        waiter_delay: int = 120,
        waiter_max_attempts: int = 720,
        stop_on_kill: bool = True,
        aws_conn_id: str | None = "aws_default",
        spend_guard: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        fields: dict[str, Any] = {"job_identifier": job_identifier, "stop_on_kill": stop_on_kill}
        if spend_guard:
            fields["spend_guard"] = spend_guard
        super().__init__(
            serialized_fields=fields,
            waiter_name="rft_job_complete",
            waiter_args={"jobIdentifier": job_identifier},
            failure_message=f"RFT job {job_identifier} did not complete",
            status_message=f"RFT job {job_identifier}",
            status_queries=STATUS_QUERIES,
            return_key="job_identifier",
            return_value=job_identifier,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            **kwargs,
        )
        self.job_identifier = job_identifier
        self.stop_on_kill = stop_on_kill
        self.spend_guard = spend_guard

    async def run(self) -> AsyncIterator[TriggerEvent]:
        guard = WaitGuard.from_dict(self.spend_guard)
        if not guard.active:
            async for event in super().run():
                yield event
            return
        hook: BedrockRFTHook = self.hook()  # type: ignore[assignment]
        watch = spend_watch.NativeWatch(hook, self.job_identifier, guard, self.log)
        async for event in guarded_run(self, watch):
            yield event

    async def on_kill(self) -> None:
        """Stop the RFT job when a user marked the task failed; a clear leaves it for the next try."""
        if not self.stop_on_kill:
            return
        task_instance = getattr(self, "task_instance", None)
        if not await sync_to_async(user_stopped)(task_instance, self.job_identifier, self.log):
            return
        hook: BedrockRFTHook = self.hook()  # type: ignore[assignment]
        try:
            await sync_to_async(hook.stop_job)(self.job_identifier)
        except Exception:
            self.log.exception("Could not stop RFT job %s; it may still be running", self.job_identifier)


async def guarded_run(trigger: Any, watch: spend_watch.JobWatch) -> AsyncIterator[TriggerEvent]:
    """Poll ``watch`` every ``waiter_delay`` seconds, at most ``attempts`` times; one event at the end.

    A check that raises (throttling, a network error, a stop request that failed) is logged and made
    again at the next poll, so a decided stop is never lost while the wait lasts.
    """
    ref = {trigger.return_key: trigger.return_value}
    status = None
    for _ in range(max(1, trigger.attempts)):
        try:
            check = await sync_to_async(watch.check)()
        except Exception as exc:
            trigger.log.warning("Checking job %s failed (%s); trying again", watch.job_ref, exc)
            await asyncio.sleep(trigger.waiter_delay)
            continue
        if check.status != status:
            status = check.status
            trigger.log.info("Job %s is %s", watch.job_ref, status)
        if check.verdict is not None:
            trigger.log.info("Job %s so far: %s", watch.job_ref, check.verdict.spend.describe())
        if check.outcome == spend_watch.GUARD_STOP:
            yield TriggerEvent(
                {"status": "error", **ref, **spend_watch.guard_event_fields(check, watch.job_ref)}
            )
            return
        if check.outcome == spend_watch.SUCCESS:
            yield TriggerEvent({"status": "success", **ref})
            return
        if check.outcome == spend_watch.FAILED:
            reason = check.job.get("failureMessage") or (check.job.get("error") or {}).get("message")
            yield TriggerEvent(
                {"status": "error", **ref, "message": f"Job {watch.job_ref} ended {status}: {reason}"}
            )
            return
        await asyncio.sleep(trigger.waiter_delay)
    yield TriggerEvent(
        {"status": "error", **ref, "message": f"Job {watch.job_ref} is still {status} after waiting"}
    )
