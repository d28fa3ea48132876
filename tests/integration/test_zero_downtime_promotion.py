"""Zero-downtime promotion in the sandbox: UpdateCustomModelDeployment, promote, retry, rollback, fallback."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from bedrock_rft_provider.hooks.champion_serving import ChampionServing
from bedrock_rft_provider.hooks.deployment import (
    BedrockCustomModelDeploymentHook,
    DeploymentBusyError,
    DeploymentUpdateImpossibleError,
)
from bedrock_rft_provider.sandbox.server import Sandbox
from support.champion_records import record_maker
from unit.sandbox.sandbox_helpers import (
    GRADER_RIGHT_NUMBER,
    World,
    active_deployment,
    make_world,
    unique,
    wait_for_job,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(bedrock_rft_sandbox: Sandbox) -> World:
    return make_world(bedrock_rft_sandbox)


@pytest.fixture(scope="module")
def models(world: World) -> dict[str, str]:
    """Three trained custom models: a and b of Nova 2 Lite 256k, c of Nova 2 Lite (another base)."""
    bedrock = world.sandbox.client("bedrock")
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    out = {}
    for key, base in (("a", None), ("b", None), ("c", "amazon.nova-2-lite-v1:0")):
        request = world.job_request(grader)
        if base:
            request["baseModelIdentifier"] = base
        job = wait_for_job(bedrock, bedrock.create_model_customization_job(**request)["jobArn"])
        assert job["status"] == "Completed", job.get("failureMessage")
        out[key] = job["outputModelArn"]
    return out


def deploy(sandbox: Sandbox, model_arn: str) -> str:
    return active_deployment(sandbox.client("bedrock"), model_arn)


@pytest.fixture
def serving(bedrock_rft_sandbox_airflow_conn: Sandbox) -> ChampionServing:
    return ChampionServing(
        BedrockRFTChampionHook(aws_conn_id="aws_default"),
        BedrockCustomModelDeploymentHook(aws_conn_id="aws_default"),
        waiter_delay=0.2,
        waiter_max_attempts=300,
    )


def live_deployments(sandbox: Sandbox) -> dict[str, str]:
    summaries = sandbox.client("bedrock").list_custom_model_deployments()["modelDeploymentSummaries"]
    return {d["customModelDeploymentArn"]: d["modelArn"] for d in summaries}


def test_update_repoints_the_deployment_and_the_old_model_answers_meanwhile(
    bedrock_rft_sandbox: Sandbox, models: dict[str, str]
) -> None:
    bedrock = bedrock_rft_sandbox.client("bedrock")
    arn = deploy(bedrock_rft_sandbox, models["a"])
    answer = bedrock.update_custom_model_deployment(customModelDeploymentIdentifier=arn, modelArn=models["b"])
    assert answer["customModelDeploymentArn"] == arn
    record = bedrock_rft_sandbox.app.deployments.records[arn]
    record.update_ready_at = time.time() + 3600  # hold the update in progress
    during = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)
    assert during["modelArn"] == models["a"] and during["status"] == "Active"
    assert during["updateDetails"] == {"modelArn": models["b"], "updateStatus": "Updating"}
    assert bedrock_rft_sandbox.app.deployments.serving_model(arn).arn == models["a"]
    with pytest.raises(ClientError, match="being updated"):
        bedrock.update_custom_model_deployment(customModelDeploymentIdentifier=arn, modelArn=models["a"])
    record.update_ready_at = 0.0  # the update ends
    after = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)
    assert after["modelArn"] == models["b"]
    assert after["updateDetails"] == {"modelArn": models["b"], "updateStatus": "UpdateCompleted"}
    assert bedrock_rft_sandbox.app.deployments.serving_model(arn).arn == models["b"]
    bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=arn)


def test_an_update_to_another_base_model_is_refused(
    bedrock_rft_sandbox: Sandbox, models: dict[str, str]
) -> None:
    bedrock = bedrock_rft_sandbox.client("bedrock")
    arn = deploy(bedrock_rft_sandbox, models["a"])
    with pytest.raises(ClientError, match=r"ValidationException.*base model"):
        bedrock.update_custom_model_deployment(customModelDeploymentIdentifier=arn, modelArn=models["c"])
    assert bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)["modelArn"] == models["a"]
    bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=arn)


def test_point_at_waits_until_served_and_reports_impossible_updates(
    bedrock_rft_sandbox_airflow_conn: Sandbox, models: dict[str, str]
) -> None:
    hook = BedrockCustomModelDeploymentHook(aws_conn_id="aws_default")
    arn = deploy(bedrock_rft_sandbox_airflow_conn, models["a"])
    hook.point_at(arn, models["b"], waiter_delay=0.2, waiter_max_attempts=300)
    assert hook.describe(arn)["modelArn"] == models["b"]  # type: ignore[index]
    hook.point_at(arn, models["b"], waiter_delay=0.2, waiter_max_attempts=0)  # already serving: no call
    with pytest.raises(DeploymentUpdateImpossibleError, match="base model"):
        hook.point_at(arn, models["c"], waiter_delay=0.2, waiter_max_attempts=10)
    hook.delete(arn)
    with pytest.raises(DeploymentUpdateImpossibleError, match="gone"):
        hook.point_at(arn, models["a"], waiter_delay=0.2, waiter_max_attempts=10)


def test_point_at_fails_at_once_when_another_update_lands_while_it_waits(
    bedrock_rft_sandbox_airflow_conn: Sandbox, models: dict[str, str]
) -> None:
    sandbox = bedrock_rft_sandbox_airflow_conn
    hook = BedrockCustomModelDeploymentHook(aws_conn_id="aws_default")
    arn = deploy(sandbox, models["a"])
    checks: list[str] = []

    def another_update_lands(**_: Any) -> None:
        # Ours (to b) completes, then another promotion re-points the deployment back at a and that
        # update completes too, all before our first check.
        record = sandbox.app.deployments.records[arn]
        record.update_ready_at = 0.0
        sandbox.client("bedrock").update_custom_model_deployment(
            customModelDeploymentIdentifier=arn, modelArn=models["a"]
        )
        record.update_ready_at = 0.0

    events = hook.conn.meta.events
    events.register("after-call.bedrock.UpdateCustomModelDeployment", another_update_lands)
    events.register("before-call.bedrock.GetCustomModelDeployment", lambda **_: checks.append("get"))
    with pytest.raises(DeploymentBusyError) as raised:
        hook.point_at(arn, models["b"], waiter_delay=0.2, waiter_max_attempts=300)
    message = str(raised.value)
    assert "\n" not in message
    assert f"deployment {arn} now serves {models['a']}, not {models['b']}: another update" in message
    assert len(checks) == 2  # the check before the request and the first one after: no polling on
    assert hook.describe(arn)["modelArn"] == models["a"]  # type: ignore[index]
    hook.delete(arn)


def test_promotions_keep_one_stable_arn_retries_change_nothing_and_rollback_repoints(
    bedrock_rft_sandbox_airflow_conn: Sandbox, models: dict[str, str], serving: ChampionServing
) -> None:
    sandbox = bedrock_rft_sandbox_airflow_conn
    family = unique("zdt")
    challenger_a = deploy(sandbox, models["a"])
    first = serving.promote(family, models["a"], challenger_a, record_maker(family, models["a"], "run-a"))
    stable = first.record["deployment_arn"]
    assert stable == challenger_a  # the first champion adopts its challenger's deployment

    challenger_b = deploy(sandbox, models["b"])
    second = serving.promote(family, models["b"], challenger_b, record_maker(family, models["b"], "run-b"))
    assert second.version == 2 and second.record["deployment_arn"] == stable
    assert second.record["model_id"] == stable and second.record["custom_model_arn"] == models["b"]
    assert second.record["previous_model_arn"] == models["a"]
    assert live_deployments(sandbox)[stable] == models["b"]

    # A retry of run a (a clear after run b promoted) finds its version and leaves the deployment alone.
    again = serving.promote(family, models["a"], challenger_a, record_maker(family, models["a"], "run-a"))
    assert again.version == 1 and live_deployments(sandbox)[stable] == models["b"]
    assert len(serving.champions.history(family)) == 2

    rolled = serving.rollback(family, 1)
    assert rolled.version == 3 and rolled.record["rollback_of_version"] == 1
    assert rolled.record["deployment_arn"] == stable and rolled.record["custom_model_arn"] == models["a"]
    assert live_deployments(sandbox)[stable] == models["a"]
    assert serving.rollback(family, 1).version == 3  # retried: nothing new
    serving.deployments.delete(challenger_b)
    serving.deployments.delete(stable)


def test_when_the_update_is_impossible_the_challenger_takes_over_and_the_old_deployment_goes(
    bedrock_rft_sandbox_airflow_conn: Sandbox, models: dict[str, str], serving: ChampionServing
) -> None:
    sandbox = bedrock_rft_sandbox_airflow_conn
    family = unique("zdt")
    old = deploy(sandbox, models["a"])
    serving.promote(family, models["a"], old, record_maker(family, models["a"], "run-a"))
    challenger_c = deploy(sandbox, models["c"])  # another base model: no in-place update
    promoted = serving.promote(family, models["c"], challenger_c, record_maker(family, models["c"], "run-c"))
    assert promoted.record["deployment_arn"] == challenger_c
    assert promoted.record["replaced_deployment_arn"] == old
    live = live_deployments(sandbox)
    assert old not in live and live[challenger_c] == models["c"]
    retried = serving.promote(family, models["c"], challenger_c, record_maker(family, models["c"], "run-c"))
    assert retried.version == promoted.version
    serving.deployments.delete(challenger_c)


def test_the_operators_promote_in_place_and_roll_back(
    bedrock_rft_sandbox_airflow_conn: Sandbox, models: dict[str, str]
) -> None:
    from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator, BedrockRFTRollbackOperator
    from support.airflow_context import make_context

    sandbox = bedrock_rft_sandbox_airflow_conn
    family = unique("zdt-op")

    def promote(model: str, challenger: str, run_id: str) -> dict[str, Any]:
        operator = BedrockRFTPromoteOperator(
            task_id="promote",
            family=family,
            custom_model_arn=model,
            deployment_arn=challenger,
            dataset_sha256={"test": "ab" * 32},
            stable_deployment=True,
            waiter_delay=0.2,
        )
        return operator.execute({**make_context(task_id="promote", run_id=run_id), "run_id": run_id})  # type: ignore[arg-type]

    first = promote(models["a"], deploy(sandbox, models["a"]), "run-1")
    stable = first["record"]["deployment_arn"]
    challenger_b = deploy(sandbox, models["b"])
    second = promote(models["b"], challenger_b, "run-2")
    assert (second["version"], second["record"]["deployment_arn"]) == (2, stable)
    assert live_deployments(sandbox)[stable] == models["b"]

    rollback = BedrockRFTRollbackOperator(task_id="rollback", family=family, version="1", waiter_delay=0.2)
    rolled = rollback.execute(make_context(task_id="rollback"))  # type: ignore[arg-type]
    assert rolled["version"] == 3 and rolled["record"]["custom_model_arn"] == models["a"]
    assert live_deployments(sandbox)[stable] == models["a"]
    with pytest.raises(ValueError, match="version"):
        BedrockRFTRollbackOperator(task_id="rb", family=family, version="latest").execute(make_context())  # type: ignore[arg-type]
    for arn in (stable, challenger_b):
        BedrockCustomModelDeploymentHook(aws_conn_id="aws_default").delete(arn)
