"""BedrockRFTJobTrigger: waits in the triggerer (aiobotocore) until an RFT job leaves InProgress."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger
from asgiref.sync import sync_to_async

from bedrock_rft_provider.hooks.bedrock_rft import STATUS_QUERIES, BedrockRFTHook
from bedrock_rft_provider.triggers.kill_reason import user_stopped


class BedrockRFTJobTrigger(AwsBaseWaiterTrigger):
    """Fire once the RFT job is Completed (``status: success``) or ends Failed/Stopped (``error``).

    The error event's message carries the job status and Bedrock's ``failureMessage``.

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
        **kwargs: Any,
    ) -> None:
        super().__init__(
            serialized_fields={"job_identifier": job_identifier, "stop_on_kill": stop_on_kill},
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
