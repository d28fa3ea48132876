"""BedrockRFTJobOperator: start (or reattach to) a Bedrock RFT job and wait for it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import conf

from bedrock_rft_provider.deprecation import Renamed, renamed_parameters
from bedrock_rft_provider.errors import JobFailedError
from bedrock_rft_provider.hooks.bedrock_rft import (
    FAILURE_STATES,
    SUCCESS_STATES,
    BedrockRFTHook,
)
from bedrock_rft_provider.jobs import waiting
from bedrock_rft_provider.jobs.waiting import DEFAULT_WAITER_DELAY, DEFAULT_WAITER_MAX_ATTEMPTS
from bedrock_rft_provider.links.bedrock import BedrockRFTJobLink
from bedrock_rft_provider.operators.lineage_mixin import LineageMixin

# The job spec, spend model, lineage and triggers load when a task runs or defers, not when a DAG file
# is parsed (tests/unit/operators/test_import_weight.py).
if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_rft_provider.jobs.hyperparameters import RFTHyperParameters
    from bedrock_rft_provider.jobs.spec import RFTJobSpec
    from bedrock_rft_provider.jobs.spend_guard import WaitGuard
    from bedrock_rft_provider.lineage import TaskLineage


class BedrockRFTJobOperator(LineageMixin, AwsBaseOperator[BedrockRFTHook]):
    """Start (or reattach to) a Bedrock RFT job and wait for it, deferring while it trains.

    Everything is validated before any AWS call. A retried task derives the same job name and
    idempotency token, so it reattaches to the job its earlier try started instead of paying twice.

    :param base_model_id: foundation model to tune, e.g. ``amazon.nova-2-lite-v1:0:256k``.
    :param role_arn: Bedrock service role (see ``bedrock-rft iam-policy``).
    :param training_data_uri: ``s3://`` URI of the training JSONL (or give ``invocation_logs``).
    :param invocation_logs: train on Bedrock model invocation logs instead: ``{"s3_uri": "s3://...",
        "request_metadata_filters": {...}, "use_prompt_response": false}``; the logs are read and their
        prompts checked (at least 100 valid, none invalid) before the job is created.
    :param output_data_uri: ``s3://`` prefix for the job's outputs and metrics.
    :param reward_lambda_arn: full ARN of the grader Lambda (version or alias qualifier allowed).
    :param hyperparameters: ``RFTHyperParameters`` or a dict (pythonic or API keys); unset = service default.
    :param validation_data_uri: optional ``s3://`` URI (or list of up to 10) of validation JSONL.
    :param job_name: optional; default ``rft-<dag>-<task>-<hash of namespace, dag_id, run_id, task_id>``.
    :param custom_model_name: optional; default derived from the run like ``job_name``.
    :param vpc_config: optional ``{"subnet_ids": [...], "security_group_ids": [...]}``.
    :param kms_key_id: optional KMS key for the custom model.
    :param tags: optional ``{key: value}`` applied to both the job and the custom model.
    :param wait_for_completion: wait until the job ends (default True). False returns once the job is
        submitted (for event-driven completion: ``bedrock-rft events-setup``). A string (rendered
        template) must read true/false.
    :param deferrable: free the worker while waiting (default ``[operators] default_deferrable``).
    :param waiter_delay: seconds between status checks.
    :param waiter_max_attempts: status checks before giving up, deferred or not (default 720 checks of
        120 s = 24 h; RFT takes hours).
    :param stop_on_kill: stop the job when a user marks the task failed while it waits (default
        True). Clearing or retrying the task never stops the job: the next try reattaches to it.
    :param force_retrain: train even when a job with the same training key (data sha256, grader code,
        base model, hyperparameters, role, KMS key, namespace) is InProgress or Completed; by default
        such a job is reused — its model returned, or waited for — instead of paying again. A retry or
        clear reattaches to this run's own live job first. A string (rendered template) must read
        true/false (also 1/0, yes/no, on/off); anything else is a ConfigError before any AWS call.
    :param namespace: deployment namespace hashed into the derived names, the token and the training
        key (default: ``[bedrock_rft] namespace``, else this install's ``bedrock_rft_namespace``
        Variable; see ``bedrock_rft_provider.namespace``).
    :param backend: ``"auto"`` (default: chosen from ``base_model_id``), ``"native"``
        (``CreateModelCustomizationJob``: Nova) or ``"open-weight"`` (Bedrock's OpenAI-compatible
        fine-tuning API: ``openai.gpt-oss-20b``, ``qwen.qwen3-32b``, ``nvidia.nemotron-nano-3-30b``). An
        override that contradicts the model is a ConfigError naming ``backend``. On the open-weight
        backend ``role_arn`` and ``output_data_uri`` are not used, and ``job_name``, ``custom_model_name``,
        ``kms_key_id``, ``vpc_config`` and ``tags`` are refused; the result also carries
        ``backend``, ``job_id`` and ``fine_tuned_model`` (see ``operators.openweight_job``).
    :param spend_forecast: the ``BedrockRFTSpendForecastOperator`` result; with any cap set, checked
        before any AWS call (a cap without a forecast is a ConfigError naming ``spend_forecast``).
    :param max_budget: money cap (needs the forecast's prices); over a cap: AirflowFailException.
    :param max_training_hours: training-hours cap (``jobs.budget.SpendCaps``).
    :param max_grader_invocations: grader-invocation cap.
    :param spend_guard: caps and health actions enforced while the job trains, on either backend (a cap
        left unset here is taken from ``max_budget`` / ``max_training_hours`` / ``max_grader_invocations``):
        ``{"max_budget", "max_training_hours", "max_grader_invocations", "prices", "health", ...}`` (see
        ``jobs.spend_guard.WaitGuard``; rendered strings are coerced). When a cap is reached or a health
        check whose action is ``stop`` fires, the job is stopped and the task fails (not retried: a
        retry would pay again) with what was spent and why, also in XCom ``spend_stop``; on the
        open-weight backend that names the best checkpoint so far, which stays usable. The caps bound the
        DAG run: a clear after a stopped native job starts ``<name>-a<n>`` with only what the earlier
        jobs left of each cap, and is refused (``RunCapSpentError``) once a cap is spent (``jobs.run_spend``).
    :return: ``{job_arn, job_name, custom_model_arn, status, reattached, reused, training_key}``;
        ``reused`` is True when another run's job with the same training key was reused.
    """

    aws_hook_class = BedrockRFTHook
    template_fields: Sequence[str] = aws_template_fields(
        "base_model_id",
        "role_arn",
        "training_data_uri",
        "invocation_logs",
        "validation_data_uri",
        "output_data_uri",
        "reward_lambda_arn",
        "hyperparameters",
        "job_name",
        "custom_model_name",
        "vpc_config",
        "kms_key_id",
        "tags",
        "force_retrain",
        "namespace",
        "backend",
        "spend_guard",
        "wait_for_completion",
        "spend_forecast",
        "max_budget",
        "max_training_hours",
        "max_grader_invocations",
    )
    template_fields_renderers = {"hyperparameters": "json", "tags": "json", "vpc_config": "json"}
    operator_extra_links = (BedrockRFTJobLink(),)
    ui_color = "#f3e5ff"

    @renamed_parameters(
        Renamed("poll_interval", "waiter_delay", waiting.from_poll_interval),
        Renamed("max_wait", "waiter_max_attempts", waiting.from_max_wait),
    )
    def __init__(
        self,
        *,
        base_model_id: str,
        role_arn: str,
        training_data_uri: str | None = None,
        output_data_uri: str,
        reward_lambda_arn: str,
        hyperparameters: RFTHyperParameters | Mapping[str, Any] | None = None,
        validation_data_uri: str | list[str] | None = None,
        job_name: str | None = None,
        custom_model_name: str | None = None,
        vpc_config: Mapping[str, list[str]] | None = None,
        kms_key_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        wait_for_completion: bool | str = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        waiter_delay: int = DEFAULT_WAITER_DELAY,
        waiter_max_attempts: int = DEFAULT_WAITER_MAX_ATTEMPTS,
        stop_on_kill: bool = True,
        force_retrain: bool | str = False,
        namespace: str | None = None,
        backend: str | None = None,
        spend_guard: Mapping[str, Any] | None = None,
        invocation_logs: Mapping[str, Any] | None = None,
        spend_forecast: Mapping[str, Any] | str | None = None,
        max_budget: float | str | None = None,
        max_training_hours: float | str | None = None,
        max_grader_invocations: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        # Each key of the returned dict is also its own XCom, so ``task.output["key"]`` works (Airflow 3).
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.base_model_id = base_model_id
        self.role_arn = role_arn
        self.training_data_uri = training_data_uri
        self.invocation_logs = invocation_logs
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
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts
        self.wait_limit()  # a bad delay or count fails at DAG parse time
        self.stop_on_kill = stop_on_kill
        self.force_retrain = force_retrain
        self.namespace = namespace
        self.backend = backend
        self.spend_guard = spend_guard
        self.spend_forecast = spend_forecast
        self.max_budget, self.max_training_hours = max_budget, max_training_hours
        self.max_grader_invocations = max_grader_invocations
        self._open_weight_job_id: str | None = None
        self._job_name: str | None = None
        self._reused = False
        self._training_key: str | None = None
        self._task_instance: Any = None

    def build_spec(self, context: Context) -> RFTJobSpec:
        """The validated native job request for this run; raises before any AWS call on bad input."""
        from bedrock_rft_provider.operators import native_job

        return native_job.build_spec(self, context)

    def guard(self) -> WaitGuard:
        """The rendered ``spend_guard`` with this operator's caps (see ``spend_guard_with_caps``)."""
        from bedrock_rft_provider.jobs.submission_checks import spend_guard_with_caps

        return spend_guard_with_caps(self.spend_guard, self._caps())

    def _caps(self) -> dict[str, Any]:
        from bedrock_rft_provider.jobs.budget import CAP_NAMES

        return {name: getattr(self, name) for name in CAP_NAMES}

    def execute(self, context: Context) -> dict[str, Any]:
        from bedrock_rft_provider.jobs.backends import OPEN_WEIGHT
        from bedrock_rft_provider.jobs.submission_checks import check_submission
        from bedrock_rft_provider.operators import native_job
        from bedrock_rft_provider.operators.forecast import refuse_over_caps
        from bedrock_rft_provider.triggers.rft_job import BedrockRFTJobTrigger

        checked = check_submission(
            base_model_id=self.base_model_id,
            backend=self.backend,
            invocation_logs=self.invocation_logs,
            force_retrain=self.force_retrain,
            wait_for_completion=self.wait_for_completion,
            spend_guard=self.spend_guard,
            caps=self._caps(),
        )
        refuse_over_caps(self)  # before any AWS call: no job, no upload
        guard, force = checked.guard, checked.force_retrain
        self.wait_for_completion = checked.wait_for_completion
        self._task_instance = context["ti"]
        if checked.backend == OPEN_WEIGHT:
            self._persist_job_link(context, job_arn="")
            from bedrock_rft_provider.operators import openweight_job  # the openai client: when run

            return openweight_job.execute(self, context, force=force, limit=self.wait_limit())
        spec = self.build_spec(context)
        # Airflow reads the link's XCom when every try ends, also one that fails before a job exists;
        # without it the supervisor logs "XCom not found ... key='bedrock_rft_job'". An empty link first.
        self._persist_job_link(context, job_arn="")
        job, guard, self._reused, self._training_key = native_job.reuse_or_start(
            self, context, spec, guard, force=force
        )
        # Names are unique per account and region, and every Bedrock API takes a name or an ARN.
        # A reused job belongs to the run that started it, so this task never stops it.
        self._job_name = None if self._reused else job.job_name
        self._persist_job_link(context, job_arn=job.job_arn)
        if job.reattached and job.status in SUCCESS_STATES:
            self.log.info("RFT job %s already completed; returning its result", job.job_name)
            return self._result(job.description, reattached=True)
        if not self.wait_for_completion:
            return self._result(self.hook.describe_job(job.job_name), reattached=job.reattached)
        limit = self.wait_limit()
        if self.deferrable:
            self.log.info("Deferring until RFT job %s finishes (max %s)", job.job_name, limit.describe())
            self.defer(
                trigger=BedrockRFTJobTrigger(
                    job_identifier=job.job_name,
                    waiter_delay=self.waiter_delay,
                    waiter_max_attempts=limit.waiter_max_attempts,
                    # A reused job belongs to the run that started it: killing this task leaves it alone.
                    stop_on_kill=self.stop_on_kill and not self._reused,
                    # Another run's reused job is that run's to stop; this run's guard does not.
                    spend_guard=guard.to_dict() if guard.active and not self._reused else None,
                    aws_conn_id=self.aws_conn_id,
                    region_name=self.region_name,
                    verify=self.verify,
                    botocore_config=self.botocore_config,
                ),
                method_name="execute_complete",
                # A resumed task is a fresh operator: carry whether this try reattached to an earlier
                # try's job (e.g. after a clear), and what it decided about reuse.
                kwargs={
                    "reattached": job.reattached,
                    "reused": self._reused,
                    "training_key": self._training_key,
                },
                timeout=limit.defer_timeout,
            )
        if guard.active and not self._reused:
            final = native_job.guarded_wait(self, context, job.job_name, guard, limit.waiter_max_attempts)
        else:
            final = self.hook.wait_for_job(
                job.job_name, waiter_delay=self.waiter_delay, waiter_max_attempts=limit.waiter_max_attempts
            )
        return self._finish(final, reattached=job.reattached)

    def execute_complete(
        self,
        context: Context,
        event: dict[str, Any] | None = None,
        reattached: bool = False,
        reused: bool = False,
        training_key: str | None = None,
    ) -> dict[str, Any]:
        from bedrock_rft_provider.jobs.backends import OPEN_WEIGHT
        from bedrock_rft_provider.triggers import spend_watch

        if event and event.get("backend") == OPEN_WEIGHT:
            from bedrock_rft_provider.operators import openweight_job

            return openweight_job.execute_complete(
                self, event, context, reattached=reattached, training_key=training_key
            )
        validated = validate_execute_complete_event(event)
        job_identifier = validated["job_identifier"]
        if validated.get("guard"):
            watch = spend_watch.NativeWatch(self.hook, job_identifier, self.guard(), self.log)
            raise spend_watch.fail_stopped(context, watch, validated["guard"], self.log)
        self._reused, self._training_key = reused, training_key
        # A reused job belongs to the run that started it, so this task never stops it.
        self._job_name = None if reused else job_identifier
        final = self.hook.describe_job(job_identifier)
        if validated["status"] != "success" and final.get("status") not in FAILURE_STATES | SUCCESS_STATES:
            raise JobFailedError(f"Stopped waiting for RFT job {job_identifier}: {validated.get('message')}")
        return self._finish(final, reattached=reattached)

    def on_kill(self) -> None:
        """Stop the job when a user marked the task failed; a clear leaves it for the next try."""
        if self._open_weight_job_id:
            from bedrock_rft_provider.operators import openweight_job

            openweight_job.on_kill(self)
            return
        if not (self.stop_on_kill and self._job_name):
            return
        from bedrock_rft_provider.triggers.kill_reason import user_stopped

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

    def wait_limit(self) -> waiting.WaitLimit:
        """How long this task waits for the job: the same checks deferred or not."""
        return waiting.wait_limit(
            waiter_delay=self.waiter_delay, waiter_max_attempts=self.waiter_max_attempts
        )

    def _finish(self, job: dict[str, Any], *, reattached: bool) -> dict[str, Any]:
        status = job.get("status")
        if status in FAILURE_STATES:
            raise JobFailedError(
                f"RFT job {job.get('jobName')} ended {status}: "
                f"{job.get('failureMessage') or 'Bedrock gave no failureMessage'}"
            )
        if status not in SUCCESS_STATES:
            raise JobFailedError(
                f"RFT job {job.get('jobName')} is still {status} after waiting {self.wait_limit().describe()}"
            )
        self.log.info("RFT job %s completed: custom model %s", job.get("jobName"), job.get("outputModelArn"))
        self._log_training_metrics(job)
        return self._result(job, reattached=reattached)

    def _log_training_metrics(self, job: dict[str, Any]) -> None:
        for line in self.hook.read_training_metrics(job).describe():
            self.log.info("%s", line)

    def lineage(self) -> TaskLineage:
        """Data files + grader (the version and code its ARN resolves to now) -> the custom model."""
        from bedrock_rft_provider.operators.lineage_mixin import rft_job_lineage

        return rft_job_lineage(self)

    def _result(self, job: dict[str, Any], *, reattached: bool) -> dict[str, Any]:
        self.lineage_result = {
            "job_arn": job["jobArn"],
            "job_name": job["jobName"],
            "custom_model_arn": job.get("outputModelArn"),
            "status": job.get("status"),
            "reattached": reattached,
            "reused": self._reused,
            "training_key": self._training_key,
        }
        return dict(self.lineage_result)
