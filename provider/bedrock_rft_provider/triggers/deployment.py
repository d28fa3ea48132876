"""BedrockCustomModelDeploymentActiveTrigger: waits in the triggerer until a deployment is Active."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger

from bedrock_rft_provider.hooks.deployment import STATUS_QUERIES, BedrockCustomModelDeploymentHook


class BedrockCustomModelDeploymentActiveTrigger(AwsBaseWaiterTrigger):
    """Fire ``success`` with the deployment ARN once it is Active; ``error`` if it Fails.

    :param deployment_arn: the deployment's ARN (or name).
    """

    aws_hook_class = BedrockCustomModelDeploymentHook

    def __init__(
        self,
        *,
        deployment_arn: str,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 120,
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            serialized_fields={"deployment_arn": deployment_arn},
            waiter_name="custom_model_deployment_active",
            waiter_args={"customModelDeploymentIdentifier": deployment_arn},
            failure_message=f"Deployment {deployment_arn} did not become Active",
            status_message=f"Deployment {deployment_arn}",
            status_queries=STATUS_QUERIES,
            return_key="deployment_arn",
            return_value=deployment_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            **kwargs,
        )
