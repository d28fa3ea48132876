"""BedrockRFTJobSensor: wait for an RFT job started elsewhere, by name or ARN."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.sensors.base_aws import AwsBaseSensor
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import conf

from bedrock_rft_provider.errors import JobFailedError
from bedrock_rft_provider.hooks.bedrock_rft import FAILURE_STATES, SUCCESS_STATES, BedrockRFTHook
from bedrock_rft_provider.triggers.rft_job import BedrockRFTJobTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


class BedrockRFTJobSensor(AwsBaseSensor[BedrockRFTHook]):
    """Succeed when the RFT job is Completed; fail with Bedrock's failureMessage when it ends otherwise.

    :param job_identifier: job name or ARN.
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    :param poke_interval: seconds between checks.
    :param max_retries: deferrable mode only: how many checks before giving up.
    """

    aws_hook_class = BedrockRFTHook
    template_fields: Sequence[str] = aws_template_fields("job_identifier")
    SUCCESS_STATES = SUCCESS_STATES
    FAILURE_STATES = FAILURE_STATES

    def __init__(
        self,
        *,
        job_identifier: str,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float = 120,
        max_retries: int = 720,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.job_identifier = job_identifier
        self.deferrable = deferrable
        self.max_retries = max_retries

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context=context)
        if not self.poke(context):
            self.defer(
                trigger=BedrockRFTJobTrigger(
                    job_identifier=self.job_identifier,
                    waiter_delay=int(self.poke_interval),
                    waiter_max_attempts=self.max_retries,
                    stop_on_kill=False,  # the sensor did not start this job; it must not stop it
                    aws_conn_id=self.aws_conn_id,
                    region_name=self.region_name,
                    verify=self.verify,
                    botocore_config=self.botocore_config,
                ),
                method_name="execute_complete",
                timeout=timedelta(seconds=self.poke_interval * (self.max_retries + 1)),
            )
        return None

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> None:
        validated = validate_execute_complete_event(event)
        if validated["status"] != "success":
            job = self.hook.describe_job(self.job_identifier)
            raise JobFailedError(
                f"RFT job {self.job_identifier} ended {job.get('status')}: "
                f"{job.get('failureMessage') or validated.get('message')}"
            )
        self.log.info("RFT job %s completed", self.job_identifier)

    def poke(self, context: Context) -> bool:
        job = self.hook.describe_job(self.job_identifier)
        status = job.get("status")
        self.log.info("RFT job %s is %s", self.job_identifier, status)
        if status in self.FAILURE_STATES:
            reason = job.get("failureMessage") or "no failureMessage"
            raise JobFailedError(f"RFT job {self.job_identifier} ended {status}: {reason}")
        return status in self.SUCCESS_STATES
