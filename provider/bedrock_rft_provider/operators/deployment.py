"""Create-or-reuse (and wait for) an on-demand custom model deployment; delete it at teardown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import conf

from bedrock_rft_provider.deprecation import Renamed, renamed_parameters
from bedrock_rft_provider.hooks.deployment import BedrockCustomModelDeploymentHook
from bedrock_rft_provider.links.bedrock import BedrockCustomModelDeploymentLink
from bedrock_rft_provider.operators.lineage_mixin import LineageMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_rft_provider.jobs import waiting
    from bedrock_rft_provider.lineage import TaskLineage


class BedrockCustomModelDeploymentOperator(LineageMixin, AwsBaseOperator[BedrockCustomModelDeploymentHook]):
    """Deploy a custom model for on-demand inference and wait until it is Active.

    The name is ``deployment_name`` or derived from (dag_id, run_id, task_id, model ARN), so a retried
    task reuses the deployment its earlier try created; when that one Failed, the retry deploys
    ``<name>-a<try>`` instead and deletes the Failed one (an explicit ``deployment_name`` is never
    renamed). Pair it with ``BedrockCustomModelDeploymentDeleteOperator(trigger_rule="all_done")`` so
    no paid deployment outlives the run.

    :param model_arn: the custom model ARN (e.g. the RFT job's ``custom_model_arn``).
    :param deployment_name: optional explicit name (the custom model name pattern, at most 63 characters);
        None = derived from the run.
    :param description: optional description stored with the deployment.
    :param tags: optional ``{key: value}`` tags of the deployment.
    :param wait_for_completion: wait until the deployment is Active.
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    :param waiter_delay: seconds between status checks while waiting.
    :param waiter_max_attempts: status checks before giving up, deferred or not (default 120 checks of
        30 s = 1 h).
    :param namespace: deployment namespace hashed into the derived name and the clientRequestToken
        (default: ``[bedrock_rft] namespace``, else this install's ``bedrock_rft_namespace`` Variable).
    :return: the deployment ARN (use it as ``model_id`` for evaluation).
    """

    aws_hook_class = BedrockCustomModelDeploymentHook
    template_fields: Sequence[str] = aws_template_fields(
        "model_arn", "deployment_name", "description", "tags", "namespace"
    )
    template_fields_renderers = {"tags": "json"}
    operator_extra_links = (BedrockCustomModelDeploymentLink(),)
    ui_color = "#f0e5ff"

    def __init__(
        self,
        *,
        model_arn: str,
        deployment_name: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        waiter_delay: int = 30,
        waiter_max_attempts: int = 120,
        namespace: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.namespace = namespace
        self.model_arn = model_arn
        self.deployment_name = deployment_name
        self.description = description
        self.tags = tags
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts
        self.wait_limit()  # a bad delay or count fails at DAG parse time

    def wait_limit(self) -> waiting.WaitLimit:
        """How long this task waits: the same checks deferred or not."""
        from bedrock_rft_provider.jobs import waiting

        return waiting.wait_limit(
            waiter_delay=self.waiter_delay, waiter_max_attempts=self.waiter_max_attempts
        )

    def resolve_name(self, context: Context, namespace: str | None = None) -> str:
        """``deployment_name``, or the name derived from the run, the model ARN and the namespace."""
        from bedrock_rft_provider.evaluation.naming import check_deployment_name, deployment_name_for_run
        from bedrock_rft_provider.namespace import resolve_namespace

        if self.deployment_name:
            return check_deployment_name("deployment_name", self.deployment_name)
        ti = context["ti"]
        namespace = namespace or resolve_namespace(self.namespace)
        return deployment_name_for_run(ti.dag_id, ti.run_id, ti.task_id, self.model_arn, namespace=namespace)

    def execute(self, context: Context) -> str:
        from bedrock_rft_provider.namespace import resolve_namespace
        from bedrock_rft_provider.triggers.deployment import BedrockCustomModelDeploymentActiveTrigger

        namespace = resolve_namespace(self.namespace)
        name = self._name_for_try(context, self.resolve_name(context, namespace))
        deployment = self.hook.create_or_reuse(
            name,
            self.model_arn,
            description=self.description,
            tags=dict(self.tags or {}),
            namespace=namespace,
        )
        BedrockCustomModelDeploymentLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            deployment_arn=deployment.arn,
        )
        self.lineage_result = deployment.arn
        if deployment.status == "Active" or not self.wait_for_completion:
            return deployment.arn
        limit = self.wait_limit()
        if self.deferrable:
            self.log.info(
                "Deferring until deployment %s is Active (max %s)", deployment.arn, limit.describe()
            )
            self.defer(
                trigger=BedrockCustomModelDeploymentActiveTrigger(
                    deployment_arn=deployment.arn,
                    waiter_delay=self.waiter_delay,
                    waiter_max_attempts=limit.waiter_max_attempts,
                    aws_conn_id=self.aws_conn_id,
                    region_name=self.region_name,
                    verify=self.verify,
                    botocore_config=self.botocore_config,
                ),
                method_name="execute_complete",
                timeout=limit.defer_timeout,
            )
        self.hook.wait_until_active(
            deployment.arn, waiter_delay=self.waiter_delay, waiter_max_attempts=limit.waiter_max_attempts
        )
        return deployment.arn

    def _name_for_try(self, context: Context, base: str) -> str:
        """The derived name this try uses: an earlier try's deployment unless it Failed (then, like the
        RFT job, ``<name>-a<try>``), so a retry or clear is not doomed by a Failed deployment.

        An explicit ``deployment_name`` is the user's: it is never renamed (a Failed one is an error).
        """
        from bedrock_rft_provider.jobs.naming import attempt_name

        attempt = int(getattr(context["ti"], "try_number", 1) or 1)
        if self.deployment_name or attempt <= 1:
            return base
        for n in range(1, attempt):
            existing = self.hook.describe(attempt_name(base, n))
            if existing is not None and existing.get("status") != "Failed":
                return attempt_name(base, n)
            if existing is not None:
                self.log.warning(
                    "Deployment %s of an earlier try Failed (%s); deleting it (it serves nothing) and "
                    "deploying %s",
                    attempt_name(base, n),
                    existing.get("failureMessage") or "no failureMessage",
                    attempt_name(base, attempt),
                )
                # The run's teardown deletes only the deployment this try returns: no Failed leftovers.
                self.hook.delete(attempt_name(base, n))
        return attempt_name(base, attempt)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> str:
        from bedrock_rft_provider.hooks.deployment import DeploymentFailedError

        validated = validate_execute_complete_event(event)
        arn = str(validated["deployment_arn"])
        if validated["status"] != "success":
            described = self.hook.describe(arn) or {}
            raise DeploymentFailedError(
                f"deployment {arn} did not become Active: {validated.get('message')}; "
                f"status {described.get('status')}, {described.get('failureMessage') or 'no failureMessage'}"
            )
        self.lineage_result = arn
        return arn

    def lineage(self) -> TaskLineage:
        """The custom model -> the deployment serving it."""
        from bedrock_rft_provider.lineage import deployment_task

        return deployment_task(self.model_arn, self.lineage_result)


class BedrockCustomModelDeploymentDeleteOperator(AwsBaseOperator[BedrockCustomModelDeploymentHook]):
    """Delete a deployment; succeeds when it is already gone or was never created (teardown-safe).

    :param deployment_identifier: ARN or name, typically ``deploy.output``; empty/None is a no-op.
    :param wait_for_completion: block until ``get`` no longer finds it.
    :param waiter_delay: seconds between checks while waiting.
    :param waiter_max_attempts: checks before giving up (default 80 checks of 15 s = 20 min).
    """

    aws_hook_class = BedrockCustomModelDeploymentHook
    template_fields: Sequence[str] = aws_template_fields("deployment_identifier")
    ui_color = "#f0e5ff"

    @renamed_parameters(Renamed("wait_for_deletion", "wait_for_completion"))
    def __init__(
        self,
        *,
        deployment_identifier: str | None,
        wait_for_completion: bool = False,
        waiter_delay: int = 15,
        waiter_max_attempts: int = 80,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.deployment_identifier = deployment_identifier
        self.wait_for_completion = wait_for_completion
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts
        self.wait_limit()

    def wait_limit(self) -> waiting.WaitLimit:
        """How long this task waits: the same checks deferred or not."""
        from bedrock_rft_provider.jobs import waiting

        return waiting.wait_limit(
            waiter_delay=self.waiter_delay, waiter_max_attempts=self.waiter_max_attempts
        )

    def execute(self, context: Context) -> bool:
        identifier = (self.deployment_identifier or "").strip()
        if identifier in ("", "None"):
            self.log.info("No deployment to delete (the deploy task produced none)")
            return False
        deleted = self.hook.delete(identifier)
        if deleted and self.wait_for_completion:
            limit = self.wait_limit()
            self.hook.get_waiter("custom_model_deployment_deleted").wait(
                customModelDeploymentIdentifier=identifier,
                WaiterConfig={"Delay": self.waiter_delay, "MaxAttempts": limit.waiter_max_attempts},
            )
        return deleted
