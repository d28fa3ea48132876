"""The example DAGs: they parse cleanly and fast, and run green end to end on the sandbox.

Each end-to-end run also records every AWS call it makes and checks that the Airflow caller policy
`bedrock-rft iam-policy` prints allows it (support/caller_policy.py).
"""

from __future__ import annotations

import ast
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider import demo
from support.airflow_compat import DagBag
from support.caller_policy import assert_caller_policy_allows, recording_calls
from support.example_dags import EXAMPLE_DAGS, PROMOTABLE, read_champion, run_example_dag

DAGS = EXAMPLE_DAGS
DAG_IDS = {
    "bedrock_rft_retraining",
    "bedrock_rft_evaluation",
    "bedrock_rft_post_training",
    "bedrock_rft_post_training_events",
}
# A safety net (>= 10x the 15-47 s these DAG runs took with the suite on 2 busy cores), not a speed limit.
SLOW_TIMEOUT_S = 900


def test_dagbag_imports_every_example_dag_without_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) >= DAG_IDS


def test_parsing_makes_no_aws_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.client import BaseClient

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a DAG file made an AWS call at parse time")

    monkeypatch.setattr(BaseClient, "_make_api_call", refuse)
    assert DagBag(dag_folder=str(DAGS)).import_errors == {}


@pytest.mark.parametrize("path", sorted(DAGS.glob("bedrock_rft_*.py")), ids=lambda p: p.name)
def test_dag_files_use_the_task_sdk_only(path: Path) -> None:
    imports = [
        node.module or ""
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
    ]
    legacy = [
        m for m in imports if m.startswith(("airflow.models", "airflow.operators", "airflow.decorators"))
    ]
    assert legacy == []


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_every_param_is_documented_at_the_top_of_the_file(dagbag: Any, dag_id: str) -> None:
    dag = dagbag.get_dag(dag_id)
    doc = dag.doc_md or ""
    missing = [name for name in dag.params if f"\n{name} " not in doc]
    assert missing == []


def test_evaluation_dag_has_a_data_interval_timetable_for_backfills(dagbag: Any) -> None:
    from airflow.timetables.interval import CronDataIntervalTimetable

    assert isinstance(dagbag.get_dag("bedrock_rft_evaluation").timetable, CronDataIntervalTimetable)


def test_retraining_tear_down_always_runs(dagbag: Any) -> None:
    dag = dagbag.get_dag("bedrock_rft_retraining")
    assert dag.get_task("tear_down").trigger_rule == "all_done"
    assert dag.get_task("deployment_to_tear_down").trigger_rule == "all_done"


# -- end to end on the sandbox --------------------------------------------------------------------


def _counts(sandbox: Any) -> dict[str, int]:
    bedrock, lam, s3 = sandbox.client("bedrock"), sandbox.client("lambda"), sandbox.client("s3")
    jobs = bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]
    deployments = bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
    functions = lam.list_functions()["Functions"]
    versions = sum(
        len(lam.list_versions_by_function(FunctionName=f["FunctionName"])["Versions"]) for f in functions
    )
    objects = sum(
        len(p.get("Contents", [])) for p in s3.get_paginator("list_objects_v2").paginate(Bucket=demo.BUCKET)
    )
    return {
        "jobs": len(jobs),
        "deployments": len([d for d in deployments if d.get("status") != "Deleting"]),
        "functions": len(functions),
        "versions": versions,
        "objects": objects,
    }


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_retraining_promotes_then_a_rerun_duplicates_nothing(dagbag: Any, sandbox_env: Any) -> None:
    conf = {"model_family": "e2e-promote", "dataset_input": "400", "min_eval_samples": 20, **PROMOTABLE}
    when = datetime(2026, 11, 23, tzinfo=timezone.utc)
    calls: set[tuple[str, str]] = set()
    with recording_calls(calls):
        run = run_example_dag(dagbag, "bedrock_rft_retraining", when, conf)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["promote"] == "success" and states["reject"] == "skipped"
    champion = read_champion(sandbox_env, "e2e-promote")
    assert champion and champion["custom_model_arn"].startswith("arn:aws:bedrock:")
    deployment = sandbox_env.client("bedrock").get_custom_model_deployment(
        customModelDeploymentIdentifier=champion["deployment_arn"]
    )
    assert deployment["status"] == "Active"  # the champion's deployment is kept
    before = _counts(sandbox_env)
    with recording_calls(calls):
        run_example_dag(dagbag, "bedrock_rft_retraining", when, conf)
    assert _counts(sandbox_env) == before
    seen = {"bedrock:CreateModelCustomizationJob", "bedrock:InvokeModel", "ssm:PutParameter"}
    assert_caller_policy_allows(calls, seen=seen)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_rejected_challenger_leaves_the_champion_and_tears_down(dagbag: Any, sandbox_env: Any) -> None:
    conf = {
        "model_family": "e2e-reject",
        "dataset_input": "400",
        "min_eval_samples": 20,
        "min_improvement": 5.0,
    }
    with recording_calls(set()) as calls:
        run = run_example_dag(
            dagbag, "bedrock_rft_retraining", datetime(2026, 11, 24, tzinfo=timezone.utc), conf
        )
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["promote"] == "skipped" and states["reject"] == "success"
    assert read_champion(sandbox_env, "e2e-reject") is None
    tuned = run.get_task_instance("deploy_tuned").xcom_pull(task_ids="deploy_tuned")
    described = sandbox_env.client("bedrock").list_custom_model_deployments()["modelDeploymentSummaries"]
    assert tuned not in [d["customModelDeploymentArn"] for d in described if d.get("status") != "Deleting"]
    assert_caller_policy_allows(calls, seen={"bedrock:DeleteCustomModelDeployment"})


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_evaluation_backfill_writes_a_partition_per_day_with_that_daysread_champion(
    dagbag: Any, sandbox_env: Any
) -> None:
    from moto.ssm.models import ssm_backends

    family = "e2e-backfill"
    runs = [datetime(2026, 11, d, tzinfo=timezone.utc) for d in (10, 11, 12)]
    # A run's data interval is the day before its logical date; its prompts are that day's partition.
    partitions = [(run - timedelta(days=1)).date() for run in runs]
    demo.write_daily_prompts(sandbox_env.session(), sandbox_env.endpoint_url, partitions)
    # Two promotions, dated as if they had happened at noon on Nov 10 and Nov 11.
    ssm = sandbox_env.client("ssm")
    name = f"/bedrock-rft/champion/{family}"
    bedrock = sandbox_env.client("bedrock")
    deployments = bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
    active = [d for d in deployments if d.get("status") == "Active"]
    if not active:  # this test ran alone: train a champion to evaluate first
        conf = {
            "model_family": "e2e-backfill-seed",
            "dataset_input": "400",
            "min_eval_samples": 20,
            **PROMOTABLE,
        }
        run_example_dag(dagbag, "bedrock_rft_retraining", datetime(2026, 11, 22, tzinfo=timezone.utc), conf)
        deployments = bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
        active = [d for d in deployments if d.get("status") == "Active"]
    for noon in (
        datetime(2026, 11, 10, 12, tzinfo=timezone.utc),
        datetime(2026, 11, 11, 12, tzinfo=timezone.utc),
    ):
        deployment = active[0]
        record = {
            "custom_model_arn": deployment["modelArn"],
            "deployment_arn": deployment["customModelDeploymentArn"],
            "model_id": deployment["customModelDeploymentArn"],
            "promoted_at": noon.isoformat(),
        }
        ssm.put_parameter(Name=name, Value=json.dumps(record), Type="String", Overwrite=True)
        ssm_backends[demo.ACCOUNT]["us-east-1"]._parameters[name][-1].last_modified_date = noon.timestamp()
    with recording_calls(set()) as calls:
        for run in runs:
            run_example_dag(dagbag, "bedrock_rft_evaluation", run, {"model_family": family})
    assert_caller_policy_allows(calls, seen={"bedrock:InvokeModel", "s3:PutObject"})
    s3 = sandbox_env.client("s3")
    picked = []
    for partition in partitions:
        key = f"evaluation/{family}/{partition}/summary.json"
        summary = json.loads(s3.get_object(Bucket=demo.BUCKET, Key=key)["Body"].read())
        picked.append((summary.get("champion") or {}).get("version") or summary["model_id"])
    # Interval ends: Nov 10 00:00 (no champion yet: the base model), Nov 11 00:00 (v1), Nov 12 00:00 (v2).
    assert picked == ["amazon.nova-2-lite-v1:0:256k", 1, 2]
