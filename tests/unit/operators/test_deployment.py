"""Custom model deployment: create-or-reuse by deterministic name, wait, teardown (Stubber-checked)."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.naming import deployment_name_for_run
from bedrock_rft_provider.hooks.deployment import DeploymentFailedError
from bedrock_rft_provider.operators.deployment import (
    BedrockCustomModelDeploymentDeleteOperator,
    BedrockCustomModelDeploymentOperator,
)
from bedrock_rft_provider.triggers.deployment import BedrockCustomModelDeploymentActiveTrigger

MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-2-lite-v1:0:256k/abcdefghijkl"
OTHER_MODEL = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-2-lite-v1:0:256k/zzzzzzzzzzzz"
DEPLOYMENT_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/a1b2c3d4e5f6"
CONTEXT: Any = {
    "ti": SimpleNamespace(
        dag_id="rft_retrain", run_id="scheduled__2026-11-01T00:00:00+00:00", task_id="deploy"
    )
}
NAME = deployment_name_for_run(
    "rft_retrain", "scheduled__2026-11-01T00:00:00+00:00", "deploy", MODEL_ARN, namespace="test-suite"
)


def described(status: str, model_arn: str = MODEL_ARN, **extra: Any) -> dict[str, Any]:
    return {
        "customModelDeploymentArn": DEPLOYMENT_ARN,
        "modelDeploymentName": NAME,
        "modelArn": model_arn,
        "createdAt": datetime(2026, 11, 1, tzinfo=timezone.utc),
        "status": status,
        **extra,
    }


def not_found(stubber: Stubber, method: str = "get_custom_model_deployment") -> None:
    stubber.add_client_error(method, "ResourceNotFoundException", "not found", 404)


def operator(**kwargs: Any) -> BedrockCustomModelDeploymentOperator:
    return BedrockCustomModelDeploymentOperator(
        task_id="deploy", model_arn=MODEL_ARN, waiter_delay=0, waiter_max_attempts=5, **kwargs
    )


def test_deterministic_name_fits_the_service_pattern() -> None:
    assert (
        deployment_name_for_run(
            "rft_retrain", "scheduled__2026-11-01T00:00:00+00:00", "deploy", MODEL_ARN, namespace="test-suite"
        )
        == NAME
    )
    assert NAME.startswith("rft-eval-rft-retrain-deploy-") and len(NAME) <= 63
    long = deployment_name_for_run("d" * 100, "r", "t" * 100, MODEL_ARN, namespace="n")
    assert len(long) == 63


def test_creates_when_absent_then_waits_until_active() -> None:
    op = operator(deferrable=False)
    with Stubber(op.hook.conn) as stub:
        not_found(stub)
        stub.add_response(
            "create_custom_model_deployment",
            {"customModelDeploymentArn": DEPLOYMENT_ARN},
            {"modelDeploymentName": NAME, "modelArn": MODEL_ARN, "clientRequestToken": ANY},
        )
        stub.add_response(
            "get_custom_model_deployment",
            described("Creating"),
            {"customModelDeploymentIdentifier": DEPLOYMENT_ARN},
        )
        stub.add_response(
            "get_custom_model_deployment",
            described("Active"),
            {"customModelDeploymentIdentifier": DEPLOYMENT_ARN},
        )
        assert op.execute(CONTEXT) == DEPLOYMENT_ARN
        stub.assert_no_pending_responses()


def test_retry_reuses_the_existing_deployment_without_creating() -> None:
    op = operator(deferrable=False)
    with Stubber(op.hook.conn) as stub:
        stub.add_response(
            "get_custom_model_deployment", described("Active"), {"customModelDeploymentIdentifier": NAME}
        )
        assert op.execute(CONTEXT) == DEPLOYMENT_ARN
        stub.assert_no_pending_responses()


def test_deferrable_wait_defers_to_the_active_trigger() -> None:
    from airflow.providers.common.compat.sdk import TaskDeferred

    op = operator(deferrable=True)
    with Stubber(op.hook.conn) as stub:
        stub.add_response(
            "get_custom_model_deployment", described("Creating"), {"customModelDeploymentIdentifier": NAME}
        )
        with pytest.raises(TaskDeferred) as deferred:
            op.execute(CONTEXT)
    trigger = deferred.value.trigger
    assert isinstance(trigger, BedrockCustomModelDeploymentActiveTrigger)
    classpath, kwargs = trigger.serialize()
    assert classpath == "bedrock_rft_provider.triggers.deployment.BedrockCustomModelDeploymentActiveTrigger"
    assert kwargs["deployment_arn"] == DEPLOYMENT_ARN
    assert BedrockCustomModelDeploymentActiveTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert (
        op.execute_complete(CONTEXT, {"status": "success", "deployment_arn": DEPLOYMENT_ARN})
        == DEPLOYMENT_ARN
    )


def test_a_name_serving_another_model_is_refused() -> None:
    op = operator(deferrable=False)
    with Stubber(op.hook.conn) as stub:
        stub.add_response(
            "get_custom_model_deployment",
            described("Active", OTHER_MODEL),
            {"customModelDeploymentIdentifier": NAME},
        )
        with pytest.raises(ConfigError, match="already serves"):
            op.execute(CONTEXT)


def test_a_failed_deployment_reports_bedrocks_message() -> None:
    op = operator(deferrable=False, deployment_name="my-deployment")
    with Stubber(op.hook.conn) as stub:
        stub.add_response(
            "get_custom_model_deployment",
            described("Failed", failureMessage="quota exceeded"),
            {"customModelDeploymentIdentifier": "my-deployment"},
        )
        with pytest.raises(DeploymentFailedError, match="quota exceeded"):
            op.execute(CONTEXT)


def test_explicit_name_is_validated_before_any_call() -> None:
    with pytest.raises(ConfigError, match="deployment_name"):
        operator(deployment_name="bad name!").execute(CONTEXT)


def test_waiter_fails_when_the_deployment_fails() -> None:
    op = operator(deferrable=False)
    with Stubber(op.hook.conn) as stub:
        stub.add_response(
            "get_custom_model_deployment", described("Creating"), {"customModelDeploymentIdentifier": NAME}
        )
        stub.add_response(
            "get_custom_model_deployment",
            described("Failed"),
            {"customModelDeploymentIdentifier": DEPLOYMENT_ARN},
        )
        with pytest.raises(Exception, match="did not become Active"):
            op.execute(CONTEXT)


@pytest.mark.parametrize("identifier", [None, "", "None"])
def test_delete_without_a_deployment_is_a_no_op(identifier: str | None) -> None:
    op = BedrockCustomModelDeploymentDeleteOperator(task_id="teardown", deployment_identifier=identifier)
    with Stubber(op.hook.conn):
        assert op.execute(CONTEXT) is False  # the stubber would fail on any call


def test_delete_is_idempotent() -> None:
    op = BedrockCustomModelDeploymentDeleteOperator(task_id="teardown", deployment_identifier=DEPLOYMENT_ARN)
    with Stubber(op.hook.conn) as stub:
        stub.add_response(
            "delete_custom_model_deployment", {}, {"customModelDeploymentIdentifier": DEPLOYMENT_ARN}
        )
        not_found(stub, "delete_custom_model_deployment")
        assert op.execute(CONTEXT) is True
        assert op.execute(CONTEXT) is False
