"""BedrockRFTJobOperator: start (or reattach to) a Bedrock RFT job and wait for it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import conf

from bedrock_rft_provider.errors import JobFailedError
from bedrock_rft_provider.hooks.bedrock_rft import FAILURE_STATES, SUCCESS_STATES, BedrockRFTHook
from bedrock_rft_provider.jobs.hyperparameters import RFTHyperParameters
from bedrock_rft_provider.jobs.naming import custom_model_name_for_run, job_name_for_run
from bedrock_rft_provider.jobs.spec import RFTJobSpec
from bedrock_rft_provider.links.bedrock import BedrockRFTJobLink
from bedrock_rft_provider.triggers.kill_reason import user_stopped
from bedrock_rft_provider.triggers.rft_job import BedrockRFTJobTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

DEFAULT_MAX_WAIT = timedelta(hours=24)


class BedrockRFTJobOperator(AwsBaseOperator[BedrockRFTHook]):
    """Start (or reattach to) a Bedrock RFT job and wait for it, deferring while it trains.

    Everything is validated before any AWS call. A retried task derives the same job name and
    idempotency token, so it reattaches to the job its earlier try started instead of paying twice.

    :param base_model_id: foundation model to tune, e.g. ``amazon.nova-2-lite-v1:0:256k``.
    :param role_arn: Bedrock service role (see ``bedrock-rft iam-policy``).
    :param training_data_uri: ``s3://`` URI of the training JSONL.
    :param output_data_uri: ``s3://`` prefix for the job's outputs and metrics.
    :param reward_lambda_arn: full ARN of the grader Lambda (version or alias qualifier allowed).
    :param hyperparameters: ``RFTHyperParameters`` or a dict (pythonic or API keys); unset = service default.
    :param validation_data_uri: optional ``s3://`` URI (or list of up to 10) of validation JSONL.
    :param job_name: optional; default ``rft-<dag>-<task>-<hash of dag_id, run_id, task_id>``.
    :param custom_model_name: optional; default derived from the run like ``job_name``.
    :param vpc_config: optional ``{"subnet_ids": [...], "security_group_ids": [...]}``.
    :param kms_key_id: optional KMS key for the custom model.
    :param tags: optional ``{key: value}`` applied to both the job and the custom model.
    :param wait_for_completion: wait until the job ends (default True).
    :param deferrable: free the worker while waiting (default ``[operators] default_deferrable``).
    :param poll_interval: seconds between status checks.
    :param max_wait: give up waiting after this long (default 24 h; RFT takes hours).
    :param stop_on_kill: stop the job when a user marks the task failed while it waits (default
        True). Clearing or retrying the task never stops the job: the next try reattaches to it.
    :return: ``{job_arn, job_name, custom_model_arn, status, reattached}``.
    """

    aws_hook_class = BedrockRFTHook
    template_fields: Sequence[str] = aws_template_fields(
        "base_model_id",
        "role_arn",
        "training_data_uri",
        "validation_data_uri",
        "output_data_uri",
        "reward_lambda_arn",
        "hyperparameters",
        "job_name",
        "custom_model_name",
        "vpc_config",
        "kms_key_id",
        "tags",
    )
    template_fields_renderers = {"hyperparameters": "json", "tags": "json", "vpc_config": "json"}
    operator_extra_links = (BedrockRFTJobLink(),)
    ui_color = "#f3e5ff"

    def __init__(
        self,
        *,
        base_model_id: str,
        role_arn: str,
        training_data_uri: str,
        output_data_uri: str,
        reward_lambda_arn: str,
        hyperparameters: RFTHyperParameters | Mapping[str, Any] | None = None,
        validation_data_uri: str | list[str] | None = None,
        job_name: str | None = None,
        custom_model_name: str | None = None,
        vpc_config: Mapping[str, list[str]] | None = None,
        kms_key_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: int = 120,
        max_wait: timedelta | float = DEFAULT_MAX_WAIT,
        stop_on_kill: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.base_model_id = base_model_id
        self.role_arn = role_arn
        self.training_data_uri = training_data_uri
        self.validation_data_uri = validation_data_uri
        self.output_data_uri = output_data_uri
        self.reward_lambda_arn = reward_lambda_arn
        self.hyperparameters = hyperparameters
        self.job_name = job_name
        self.custom_model_name = custom_model_name
        self.vpc_config = vpc_config
        self.kms_key_id = kms_key_id
        self.tags = tags
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.max_wait = max_wait if isinstance(max_wait, timedelta) else timedelta(seconds=max_wait)
        self.stop_on_kill = stop_on_kill
        self._job_name: str | None = None
        self._task_instance: Any = None

    def build_spec(self, context: Context) -> RFTJobSpec:
        """The validated job request for this run; raises before any AWS call on bad input."""
        ti = context["ti"]
        dag_id, run_id, task_id = ti.dag_id, ti.run_id, ti.task_id
        return RFTJobSpec.build(
            job_name=self.job_name or job_name_for_run(dag_id, run_id, task_id),
            custom_model_name=self.custom_model_name or custom_model_name_for_run(dag_id, run_id, task_id),
            base_model_id=self.base_model_id,
            role_arn=self.role_arn,
            training_data_uri=self.training_data_uri,
            output_data_uri=self.output_data_uri,
            reward_lambda_arn=self.reward_lambda_arn,
            hyperparameters=self.hyperparameters,
            validation_data_uri=self.validation_data_uri,
            vpc_config=self.vpc_config,
            kms_key_id=self.kms_key_id,
            job_tags=self.tags,
            custom_model_tags=self.tags,
        )

    def execute(self, context: Context) -> dict[str, Any]:
        spec = self.build_spec(context)
        self._task_instance = context["ti"]
        # Airflow reads the link's XCom when every try ends, also one that fails before a job exists;
        # without it the supervisor logs "XCom not found ... key='bedrock_rft_job'". An empty link first.
        self._persist_job_link(context, job_arn="")
        job = self.hook.start_or_reattach(spec, attempt=context["ti"].try_number)
        # Names are unique per account and region, and every Bedrock API takes a name or an ARN.
        self._job_name = job.job_name
        self._persist_job_link(context, job_arn=job.job_arn)
        if job.reattached and job.status in SUCCESS_STATES:
            self.log.info("RFT job %s already completed; returning its result", job.job_name)
            return self._result(job.description, reattached=True)
        if not self.wait_for_completion:
            return self._result(self.hook.describe_job(job.job_name), reattached=job.reattached)
        if self.deferrable:
            self.log.info("Deferring until RFT job %s finishes (max %s)", job.job_name, self.max_wait)
            self.defer(
                trigger=BedrockRFTJobTrigger(
                    job_identifier=job.job_name,
                    waiter_delay=self.poll_interval,
                    waiter_max_attempts=self._max_attempts,
                    stop_on_kill=self.stop_on_kill,
                    aws_conn_id=self.aws_conn_id,
                    region_name=self.region_name,
                    verify=self.verify,
                    botocore_config=self.botocore_config,
                ),
                method_name="execute_complete",
                # The result says whether this try reattached to an earlier try's job (e.g. after a clear).
                kwargs={"reattached": job.reattached},
                timeout=self.max_wait + timedelta(seconds=self.poll_interval),
            )
        final = self.hook.wait_for_job(
            job.job_name, poll_interval=self.poll_interval, max_attempts=self._max_attempts
        )
        return self._finish(final, reattached=job.reattached)

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, reattached: bool = False
    ) -> dict[str, Any]:
        validated = validate_execute_complete_event(event)
        job_identifier = validated["job_identifier"]
        self._job_name = job_identifier
        final = self.hook.describe_job(job_identifier)
        if validated["status"] != "success" and final.get("status") not in FAILURE_STATES | SUCCESS_STATES:
            raise JobFailedError(f"Stopped waiting for RFT job {job_identifier}: {validated.get('message')}")
        return self._finish(final, reattached=reattached)

    def on_kill(self) -> None:
        """Stop the job when a user marked the task failed; a clear leaves it for the next try."""
        if not (self.stop_on_kill and self._job_name):
            return
        if user_stopped(self._task_instance, self._job_name, self.log):
            self.hook.stop_job(self._job_name)

    def _persist_job_link(self, context: Context, *, job_arn: str) -> None:
        BedrockRFTJobLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            job_arn=job_arn,
        )

    @property
    def _max_attempts(self) -> int:
        return max(1, math.ceil(self.max_wait.total_seconds() / max(self.poll_interval, 1)))

    def _finish(self, job: dict[str, Any], *, reattached: bool) -> dict[str, Any]:
        status = job.get("status")
        if status in FAILURE_STATES:
            raise JobFailedError(
                f"RFT job {job.get('jobName')} ended {status}: "
                f"{job.get('failureMessage') or 'Bedrock gave no failureMessage'}"
            )
        if status not in SUCCESS_STATES:
            raise JobFailedError(
                f"RFT job {job.get('jobName')} is still {status} after waiting {self.max_wait}"
            )
        self.log.info("RFT job %s completed: custom model %s", job.get("jobName"), job.get("outputModelArn"))
        self._log_training_metrics(job)
        return self._result(job, reattached=reattached)

    def _log_training_metrics(self, job: dict[str, Any]) -> None:
        metrics = self.hook.read_training_metrics(job)
        for name, stats in metrics.summary().items():
            self.log.info(
                "metric %s: first %.4g, last %.4g, min %.4g, max %.4g over %d points",
                name,
                stats["first"],
                stats["last"],
                stats["min"],
                stats["max"],
                int(stats["steps"]),
            )

    @staticmethod
    def _result(job: dict[str, Any], *, reattached: bool) -> dict[str, Any]:
        return {
            "job_arn": job["jobArn"],
            "job_name": job["jobName"],
            "custom_model_arn": job.get("outputModelArn"),
            "status": job.get("status"),
            "reattached": reattached,
        }
