"""RFT from production traffic on the sandbox: the job operator previews synthetic invocation logs, then
the sandbox's CreateModelCustomizationJob accepts ``invocationLogsConfig`` and trains on exactly the
prompts the request-metadata filters select; invalid logs fail the task before any job exists."""

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

from bedrock_rft_provider.sandbox.invocation_logs import synthetic_invocation_logs, write_invocation_logs
from bedrock_rft_provider.sandbox.server import Sandbox
from support.airflow_compat import dagbag_for_test

pytestmark = pytest.mark.integration

DAG_TEMPLATE = """
from __future__ import annotations

from airflow.sdk import DAG

from bedrock_rft_provider.operators.reward import BedrockRewardFunctionOperator
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator

with DAG(dag_id="{dag_id}", schedule=None, catchup=False) as dag:
    deploy_reward = BedrockRewardFunctionOperator(
        task_id="deploy_reward",
        function_name="{function}",
        reward="bedrock_rft_provider.rewards.builtin:math_answer",
        role_arn="{role}",
        timeout=60,
    )
    train = BedrockRFTJobOperator(
        task_id="train",
        base_model_id="amazon.nova-2-lite-v1:0:256k",
        role_arn="{role}",
        invocation_logs={{
            "s3_uri": "{logs_uri}",
            "request_metadata_filters": {{"equals": {{"app": "tutor"}}}},
        }},
        output_data_uri="s3://{bucket}/rft-output/",
        reward_lambda_arn=deploy_reward.output["alias_arn"],
        hyperparameters={{"epoch_count": 1, "batch_size": 16, "learning_rate": 1e-4, "eval_interval": 5}},
        deferrable=True,
        waiter_delay=1,
    )
"""
WHEN: Any = datetime(2026, 11, 21, tzinfo=timezone.utc)
TUTOR_PROMPTS = 150  # selected by the filter; 40 "chat" logs are not


@pytest.fixture
def run_with_logs(
    bedrock_rft_sandbox_airflow_conn: Sandbox, airflow_db: Path, airflow_home: Path
) -> Iterator[Any]:
    sandbox = bedrock_rft_sandbox_airflow_conn
    written: list[Path] = []

    def run(broken_log: bool = False, again: dict[str, str] | None = None) -> tuple[Any, dict[str, str]]:
        if again is not None:  # the same run_id: dag.test clears and reruns that run
            dagbag = dagbag_for_test(str(airflow_home / "dags" / f"{again['dag_id']}.py"))
            return dagbag.get_dag(again["dag_id"]).test(logical_date=WHEN, run_after=WHEN), again
        tag = uuid.uuid4().hex[:8]
        names = {
            "dag_id": f"traffic_{tag}",
            "bucket": f"traffic-{tag}",
            "function": f"grader-{tag}",
            "role": sandbox.client("iam").create_role(RoleName=f"role-{tag}", AssumeRolePolicyDocument="{}")[
                "Role"
            ]["Arn"],
        }
        s3 = sandbox.client("s3")
        s3.create_bucket(Bucket=names["bucket"])
        logs = synthetic_invocation_logs(TUTOR_PROMPTS, request_metadata={"app": "tutor"})
        logs += synthetic_invocation_logs(40, seed=7, request_metadata={"app": "chat"})
        if broken_log:  # a screenshot a user pasted: not a text prompt
            logs[3]["input"]["inputBodyJson"]["messages"][0]["content"].append({"image": {"format": "png"}})
        names["logs_uri"] = write_invocation_logs(s3, f"s3://{names['bucket']}/bedrock-logs", logs)
        path = airflow_home / "dags" / f"{names['dag_id']}.py"
        path.write_text(DAG_TEMPLATE.format(**names))
        written.append(path)
        dagbag = dagbag_for_test(str(path))
        assert dagbag.import_errors == {}
        return dagbag.get_dag(names["dag_id"]).test(logical_date=WHEN, run_after=WHEN), names

    yield run
    for path in written:
        path.unlink(missing_ok=True)
    shutil.rmtree(airflow_home / "dags" / "__pycache__", ignore_errors=True)


def _jobs_training_on(sandbox: Sandbox, logs_uri: str) -> list[dict[str, Any]]:
    bedrock = sandbox.client("bedrock")
    found = []
    for summary in bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]:
        job = bedrock.get_model_customization_job(jobIdentifier=summary["jobArn"])
        config = job["trainingDataConfig"].get("invocationLogsConfig") or {}
        if config.get("invocationLogSource", {}).get("s3Uri") == logs_uri:
            found.append(job)
    return found


@pytest.mark.slow
def test_job_trains_on_the_prompts_the_filters_select(
    bedrock_rft_sandbox_airflow_conn: Sandbox, run_with_logs: Any
) -> None:
    sandbox = bedrock_rft_sandbox_airflow_conn
    run, names = run_with_logs()
    assert {ti.task_id: ti.state for ti in run.get_task_instances()} == {
        "deploy_reward": "success",
        "train": "success",
    }
    (job,) = _jobs_training_on(sandbox, names["logs_uri"])
    assert job["status"] == "Completed" and job["outputModelArn"]
    assert job["trainingDataConfig"]["invocationLogsConfig"]["requestMetadataFilters"] == {
        "equals": {"app": "tutor"}
    }
    body = sandbox.client("s3").get_object(
        Bucket=names["bucket"],
        Key=f"rft-output/{job['jobName']}/training_artifacts/step_wise_training_metrics.csv",
    )["Body"]
    rows = list(csv.DictReader(io.StringIO(body.read().decode())))
    # One epoch of the 150 selected prompts in batches of 16 (all 190 logs would make 12 steps).
    assert len(rows) == 10
    # The grader scored the logged prompts against the reference answers their request metadata carried.
    assert max(float(r["critic/rewards/max"]) for r in rows) == 1.0

    # New traffic (with a prompt RFT cannot use) lands; a clear of the run reattaches, it does not fail.
    late = synthetic_invocation_logs(3, seed=9, request_metadata={"app": "tutor"})
    late[0]["input"]["inputBodyJson"]["messages"][0]["content"].append({"image": {"format": "png"}})
    write_invocation_logs(sandbox.client("s3"), f"s3://{names['bucket']}/bedrock-logs", late)
    rerun, _ = run_with_logs(again=names)
    assert {ti.task_id: ti.state for ti in rerun.get_task_instances()}["train"] == "success"
    assert [j["jobArn"] for j in _jobs_training_on(sandbox, names["logs_uri"])] == [job["jobArn"]]


@pytest.mark.slow
def test_an_invalid_log_fails_the_task_before_any_job_exists(
    bedrock_rft_sandbox_airflow_conn: Sandbox, run_with_logs: Any
) -> None:
    run, names = run_with_logs(broken_log=True)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["train"] == "failed"
    assert _jobs_training_on(bedrock_rft_sandbox_airflow_conn, names["logs_uri"]) == []
