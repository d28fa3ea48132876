"""The provider's operators in ``dag.test()`` on the sandbox: dataset, grader, preflight, job, deployment.

The job operator and the deployment operator run deferrable, so their triggers poll the sandbox through
aiobotocore. A reward that raises on every sample is stopped by the preflight; without the preflight,
a grader whose Lambda cannot run (a dependency missing from its zip) fails the job after creation and
the task failure carries the grader's error. (A reward wrapped by ``make_handler`` never raises: its
per-sample errors become score 0, which the service trains on as a flat curve.)
"""

from __future__ import annotations

import csv
import io
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.sandbox.server import Sandbox
from support.airflow_compat import dagbag_for_test

pytestmark = pytest.mark.integration
SLOW_TIMEOUT_S = 900  # a safety net (~10x a run on 2 busy cores: 91 s at load 15-20), not a speed limit

BROKEN_REWARD = """
def score(sample):
    raise ValueError("this reward cannot read the reference answer")
"""

# Works on the author's machine (PyYAML is installed there) but its zip does not ship PyYAML.
UNPACKAGED_DEPENDENCY_REWARD = """
import yaml


def score(sample):
    return 1.0
"""

DAG_TEMPLATE = """
from __future__ import annotations

from airflow.sdk import DAG

from bedrock_rft_provider.operators.dataset import BedrockRFTDatasetOperator
from bedrock_rft_provider.operators.deployment import BedrockCustomModelDeploymentOperator
from bedrock_rft_provider.operators.reward import (
    BedrockRewardFunctionOperator,
    BedrockRewardPreflightOperator,
)
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator

with DAG(dag_id="{dag_id}", schedule=None, catchup=False) as dag:
    prepare = BedrockRFTDatasetOperator(
        task_id="prepare",
        source="synthetic",
        input_uri="300",
        output_uri="s3://{bucket}/datasets",
        require_reference_answer=True,
        multiple_outputs=True,
    )
    deploy_reward = BedrockRewardFunctionOperator(
        task_id="deploy_reward",
        function_name="{function}",
        reward="{reward}",
        role_arn="{role}",
        timeout=60,
        multiple_outputs=True,
    )
    train = BedrockRFTJobOperator(
        task_id="train",
        base_model_id="amazon.nova-2-lite-v1:0:256k",
        role_arn="{role}",
        training_data_uri=prepare.output["train_uri"],
        validation_data_uri=prepare.output["validation_uri"],
        output_data_uri="s3://{bucket}/rft-output/",
        reward_lambda_arn=deploy_reward.output["alias_arn"],
        hyperparameters={{"epoch_count": 1, "batch_size": 16, "learning_rate": 1e-4, "eval_interval": 5}},
        deferrable=True,
        waiter_delay=1,
        multiple_outputs=True,
    )
    deploy_tuned = BedrockCustomModelDeploymentOperator(
        task_id="deploy_tuned", model_arn=train.output["custom_model_arn"], deferrable=True, waiter_delay=1
    )
    if {with_preflight}:
        preflight = BedrockRewardPreflightOperator(
            task_id="preflight", function_name="{function}", training_data_uri=prepare.output["train_uri"]
        )
        [prepare, deploy_reward] >> preflight >> train
    train >> deploy_tuned
"""


LOGICAL_DATE: Any = datetime(2026, 11, 20, tzinfo=timezone.utc)


@pytest.fixture
def sandbox(bedrock_rft_sandbox_airflow_conn: Sandbox, airflow_db: Path) -> Sandbox:
    return bedrock_rft_sandbox_airflow_conn


@pytest.fixture
def run_dag(sandbox: Sandbox, airflow_home: Path) -> Iterator[Any]:
    written: list[Path] = []

    def run(
        reward: str, *, with_preflight: bool, again: dict[str, str] | None = None
    ) -> tuple[Any, dict[str, str]]:
        # A fixed logical date and run_after give the same run_id: dag.test clears and reruns that run.
        if again is not None:
            dagbag = dagbag_for_test(str(airflow_home / "dags" / f"{again['dag_id']}.py"))
            return dagbag.get_dag(again["dag_id"]).test(
                logical_date=LOGICAL_DATE, run_after=LOGICAL_DATE
            ), again

        names = {
            "dag_id": f"sandbox_pipeline_{uuid.uuid4().hex[:8]}",
            "bucket": f"sandbox-pipeline-{uuid.uuid4().hex[:8]}",
            "function": f"grader-{uuid.uuid4().hex[:8]}",
            "role": sandbox.client("iam").create_role(
                RoleName=f"role-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}"
            )["Role"]["Arn"],
        }
        sandbox.client("s3").create_bucket(Bucket=names["bucket"])
        path = airflow_home / "dags" / f"{names['dag_id']}.py"
        path.write_text(DAG_TEMPLATE.format(reward=reward, with_preflight=with_preflight, **names))
        written.append(path)
        dagbag = dagbag_for_test(str(path))
        assert dagbag.import_errors == {}
        return dagbag.get_dag(names["dag_id"]).test(logical_date=LOGICAL_DATE, run_after=LOGICAL_DATE), names

    yield run
    for path in written:
        path.unlink(missing_ok=True)
    shutil.rmtree(airflow_home / "dags" / "__pycache__", ignore_errors=True)


def _counts(sandbox: Sandbox, names: dict[str, Any]) -> dict[str, int]:
    bedrock, lam, s3 = sandbox.client("bedrock"), sandbox.client("lambda"), sandbox.client("s3")
    objects = s3.get_paginator("list_objects_v2").paginate(Bucket=names["bucket"])
    return {
        "jobs": len(bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]),
        "deployments": len(bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]),
        "versions": len(lam.list_versions_by_function(FunctionName=names["function"])["Versions"]),
        "objects": sum(len(page.get("Contents", [])) for page in objects),
    }


def _states(run: Any) -> dict[str, str | None]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_the_pipeline_trains_and_deploys_with_deferrable_operators(sandbox: Sandbox, run_dag: Any) -> None:
    run, names = run_dag("bedrock_rft_provider.rewards.builtin:math_answer", with_preflight=True)

    assert _states(run) == dict.fromkeys(
        ["prepare", "deploy_reward", "preflight", "train", "deploy_tuned"], "success"
    )
    job = run.get_task_instance("train").xcom_pull(task_ids="train")
    described = sandbox.client("bedrock").get_model_customization_job(jobIdentifier=job["job_arn"])
    assert described["status"] == "Completed"
    assert described["outputModelArn"] == job["custom_model_arn"]
    metrics = (
        sandbox.client("s3")
        .get_object(
            Bucket=names["bucket"],
            Key=f"rft-output/{described['jobName']}/training_artifacts/step_wise_training_metrics.csv",
        )["Body"]
        .read()
        .decode()
    )
    rewards = [float(r["critic/rewards/mean"]) for r in csv.DictReader(io.StringIO(metrics))]
    assert len(rewards) == 15  # 240 training records / batchSize 16, one epoch
    assert sum(rewards[-4:]) / 4 > sum(rewards[:4]) / 4
    deployment = run.get_task_instance("deploy_tuned").xcom_pull(task_ids="deploy_tuned")
    deployment_arn = deployment["deployment_arn"] if isinstance(deployment, dict) else deployment
    answer = sandbox.client("bedrock-runtime").converse(
        modelId=deployment_arn, messages=[{"role": "user", "content": [{"text": "How many apples?"}]}]
    )
    assert answer["output"]["message"]["content"][0]["text"]

    before = _counts(sandbox, names)
    rerun, _ = run_dag("", with_preflight=True, again=names)
    assert set(_states(rerun).values()) == {"success"}
    assert rerun.run_id == run.run_id  # the same DAG run, cleared and run again
    assert rerun.get_task_instance("train").xcom_pull(task_ids="train")["job_arn"] == job["job_arn"]
    assert _counts(sandbox, names) == before


@pytest.mark.slow
def test_a_reward_that_raises_on_every_sample_fails_at_preflight(
    sandbox: Sandbox, run_dag: Any, tmp_path: Path
) -> None:
    reward_file = tmp_path / "broken_reward.py"
    reward_file.write_text(BROKEN_REWARD)
    jobs_before = len(
        sandbox.client("bedrock").list_model_customization_jobs()["modelCustomizationJobSummaries"]
    )

    run, _ = run_dag(f"{reward_file}:score", with_preflight=True)

    states = _states(run)
    assert states["preflight"] == "failed"
    assert states["train"] == "upstream_failed"
    jobs_after = len(
        sandbox.client("bedrock").list_model_customization_jobs()["modelCustomizationJobSummaries"]
    )
    assert jobs_after == jobs_before  # nothing paid for


@pytest.mark.slow
def test_without_preflight_a_grader_that_cannot_run_fails_the_job_with_its_error_in_the_task(
    sandbox: Sandbox, run_dag: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    reward_file = tmp_path / "yaml_reward.py"
    reward_file.write_text(UNPACKAGED_DEPENDENCY_REWARD)

    run, _ = run_dag(f"{reward_file}:score", with_preflight=False)

    states = _states(run)
    assert states["train"] == "failed"
    assert states["deploy_tuned"] == "upstream_failed"
    logs = "".join(capfd.readouterr())
    assert "Runtime.ImportModuleError" in logs
    assert "No module named 'yaml'" in logs
    assert "after 3 retries" in logs
