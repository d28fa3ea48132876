"""The retraining DAG promotes without downtime: the champion's deployment is re-pointed, not replaced."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from bedrock_rft_provider.evaluation.champion import build_record
from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from support.example_dags import PROMOTABLE, read_champion, run_example_dag
from unit.sandbox.sandbox_helpers import GRADER_FLAT, active_deployment, make_world, wait_for_job

SLOW_TIMEOUT_S = 900  # a safety net (>= 10x a run here), not a speed limit
FAMILY = "zdt-dag"


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_a_promotion_repoints_the_champion_deployment_and_tears_down_the_challengers(
    dagbag: Any, sandbox_env: Any
) -> None:
    bedrock = sandbox_env.client("bedrock")
    # The current champion: a model trained with a flat reward (it learned nothing), serving on the
    # family's champion deployment, the ARN applications call.
    world = make_world(sandbox_env)
    job = wait_for_job(
        bedrock,
        bedrock.create_model_customization_job(**world.job_request(world.deploy_grader(GRADER_FLAT)))[
            "jobArn"
        ],
    )
    weak = job["outputModelArn"]
    stable = active_deployment(bedrock, weak, name="zdt-champion")
    seeded = build_record(
        family=FAMILY,
        custom_model_arn=weak,
        deployment_arn=stable,
        run_id="seeded",
        promoted_at=datetime.now(timezone.utc),
    )
    BedrockRFTChampionHook(aws_conn_id="aws_default").put(FAMILY, seeded)

    conf = {"model_family": FAMILY, "dataset_input": "400", "min_eval_samples": 20, **PROMOTABLE}
    run = run_example_dag(dagbag, "bedrock_rft_retraining", datetime(2026, 11, 25, tzinfo=timezone.utc), conf)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["approve_promotion"] == "success" and states["promote"] == "success", states

    champion = read_champion(sandbox_env, FAMILY)
    trained = run.get_task_instance("train").xcom_pull(task_ids="train")["custom_model_arn"]
    assert champion is not None and champion["custom_model_arn"] == trained
    assert champion["deployment_arn"] == stable and champion["model_id"] == stable  # the same ARN
    assert champion["previous_model_arn"] == weak
    assert bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=stable)["modelArn"] == trained
    challenger = run.get_task_instance("deploy_tuned").xcom_pull(task_ids="deploy_tuned")
    live = {
        d["customModelDeploymentArn"]
        for d in bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
    }
    assert challenger != stable and challenger not in live  # torn down: the champion needs no second one
    bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=stable)
