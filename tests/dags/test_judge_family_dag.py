"""The judge-graded (RLAIF) family on the retraining DAG: the recipe's params calibrate the grader's LLM
judge (the sandbox's SIMULATED judge) against the labelled validation records before training, train on
the composite reward, and evaluate on the labels with a confusion matrix; a judge below the agreement
threshold fails the run before any training job exists."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

import pytest

from bedrock_rft_provider import demo
from bedrock_rft_provider.task_families import recipe
from support.example_dags import PROMOTABLE, run_example_dag

DAG_ID = "bedrock_rft_retraining"
# A safety net (>= 10x the time such a run takes with the suite on 2 busy cores), not a speed limit.
SLOW_TIMEOUT_S = 900


def _conf(model_family: str, **overrides: Any) -> dict[str, Any]:
    return {
        **recipe("judge").retraining_conf,
        "model_family": model_family,
        "dataset_input": "400",
        "min_eval_samples": 20,
        **PROMOTABLE,
        **overrides,
    }


def _s3_text(sandbox: Any, suffix: str, run_id_part: str) -> str:
    """The one object of this run (its run id holds ``run_id_part``) whose key ends with ``suffix``."""
    s3 = sandbox.client("s3")
    keys = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=demo.BUCKET, Prefix="retraining/")
        for obj in page.get("Contents", [])
        if obj["Key"].endswith(suffix) and run_id_part in obj["Key"]
    ]
    assert len(keys) == 1, keys
    return str(s3.get_object(Bucket=demo.BUCKET, Key=keys[0])["Body"].read().decode())


def _jobs(sandbox: Any) -> int:
    bedrock = sandbox.client("bedrock")
    return len(bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"])


def test_the_demo_conf_and_the_readme_params_fit_the_dag(dagbag: Any) -> None:
    from unit.test_judge_recipe import readme_judge_conf

    for conf in (demo.retraining_conf(recipe("judge")), readme_judge_conf()):
        params = copy.deepcopy(dagbag.get_dag(DAG_ID).params)
        params.update(conf)
        validated = params.validate()  # raises naming the param that does not fit
        assert validated["judge_component"] == "policy_judge"


def test_the_calibration_task_is_wired_before_training(dagbag: Any) -> None:
    dag = dagbag.get_dag(DAG_ID)
    calibrate = dag.get_task("calibrate_judge")
    assert "train" in calibrate.downstream_task_ids
    assert {"prepare_dataset", "deploy_reward"} <= calibrate.upstream_task_ids
    assert dag.params["judge_component"] == ""  # no judge by default: the task logs and succeeds


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_judge_family_calibrates_trains_and_reports_a_confusion_matrix(dagbag: Any, sandbox_env: Any) -> None:
    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    run = run_example_dag(dagbag, DAG_ID, when, _conf("dag-judge"))
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["calibrate_judge"] == "success" and states["train"] == "success"
    calibration = run.get_task_instance("calibrate_judge").xcom_pull(task_ids="calibrate_judge")
    assert calibration["calibrated"] is True and calibration["judge_component"] == "policy_judge"
    assert 0.8 <= calibration["agreement"] <= 1.0
    confusion = calibration["confusion"]
    assert sum(sum(row.values()) for row in confusion.values()) == calibration["n"] == 48
    # Both verdicts occur: the simulated judge reads the reference, it does not answer a constant.
    assert confusion["pass"]["pass"] > 0 and confusion["fail"]["fail"] > 0
    stored = json.loads(_s3_text(sandbox_env, "/judge_calibration.json", "2026-11-20"))
    assert stored["agreement"] == calibration["agreement"]
    summary = run.get_task_instance("evaluate").xcom_pull(task_ids="evaluate")
    cells = {k: v for k, v in summary["metrics"].items() if k.startswith("label_") and "_as_" in k}
    assert len(cells) == 12 and abs(sum(cells.values()) - 1.0) < 1e-6
    report = _s3_text(sandbox_env, "/evaluation/report.md", "2026-11-20")
    assert "## Labels: confusion matrix" in report and "| remove |" in report


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_a_judge_below_the_agreement_threshold_fails_the_run_before_training(
    dagbag: Any, sandbox_env: Any
) -> None:
    from airflow.utils.state import DagRunState

    when = datetime(2026, 11, 21, tzinfo=timezone.utc)
    # The simulated judge agrees with the labels ~95% of the time (sandbox knob judge_accuracy).
    conf = _conf("dag-judge-strict", judge_min_agreement=1.0)
    jobs_before = _jobs(sandbox_env)
    run = dagbag.get_dag(DAG_ID).test(logical_date=when, run_after=when, run_conf=conf)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == DagRunState.FAILED
    assert states["calibrate_judge"] == "failed"
    assert states["train"] == "upstream_failed"
    report = json.loads(_s3_text(sandbox_env, "/judge_calibration.json", "2026-11-21"))
    assert report["passed"] is False and 0.8 <= report["agreement"] < 1.0
    assert _jobs(sandbox_env) == jobs_before  # no training was paid for
