"""Spend safety in the retraining DAG (issue 16): the forecast runs before the job task and a cap below
it fails the run before anything is trained; a run within the caps records forecast vs actual with the
champion and shows it in the evaluation report."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

import pytest

from bedrock_rft_provider import demo
from bedrock_rft_provider.jobs.budget import CAP_NAMES, SpendCaps
from support.example_dags import PROMOTABLE, read_champion, run_example_dag
from unit.test_readme_open_weight import readme_trigger_confs

DAG_ID = "bedrock_rft_retraining"
# A safety net (>= 10x the ~40-90 s a run takes with the suite on 2 busy cores), not a speed limit.
SLOW_TIMEOUT_S = 900
PRICES = {"grader_million_requests": 0.2, "output_million_tokens": 1.0, "source": "test table"}


def test_the_forecast_runs_after_the_baseline_check_and_before_the_job(dagbag: Any) -> None:
    dag = dagbag.get_dag(DAG_ID)
    forecast = dag.get_task("spend_forecast")
    assert forecast.upstream_task_ids >= {"reward_preflight", "worth_training"}
    assert "prepare_dataset" in forecast.get_flat_relative_ids(upstream=True)
    assert "spend_forecast" in dag.get_task("train").upstream_task_ids
    assert all(name in dag.params for name in CAP_NAMES)
    # The job task enforces the same caps itself, from the same params.
    train = dag.get_task("train")
    assert {name: getattr(train, name) for name in CAP_NAMES} == {
        name: f"{{{{ params.{name} }}}}" for name in CAP_NAMES
    }


def test_the_readme_cap_conf_is_valid_for_the_dag(dagbag: Any) -> None:
    """README "What it costs and how to cap it": its ``airflow dags trigger --conf`` fits the params."""
    (conf,) = [c for c in readme_trigger_confs(DAG_ID) if set(c) & set(CAP_NAMES)]
    params = copy.deepcopy(dagbag.get_dag(DAG_ID).params)
    params.update(conf)
    validated = params.validate()  # raises naming the param that does not fit
    assert SpendCaps.from_params(validated).as_dict() == {
        "max_budget": None,
        "max_training_hours": 6.0,
        "max_grader_invocations": 20000,
    }


def _jobs(sandbox: Any) -> set[str]:
    summaries = sandbox.client("bedrock").list_model_customization_jobs(maxResults=100)
    return {job["jobArn"] for job in summaries["modelCustomizationJobSummaries"]}


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_a_cap_below_the_forecast_fails_the_run_before_training(
    dagbag: Any, sandbox_env: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow.utils.state import DagRunState

    before = _jobs(sandbox_env)
    conf = {"model_family": "spend-capped", "dataset_input": "400", "max_grader_invocations": 100}
    when = datetime(2026, 11, 26, tzinfo=timezone.utc)
    run = dagbag.get_dag(DAG_ID).test(logical_date=when, run_after=when, run_conf=conf)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == DagRunState.FAILED
    assert states["spend_forecast"] == "failed", states
    assert states["train"] == "upstream_failed", states
    logged = capfd.readouterr()
    assert "max_grader_invocations = 100: the forecast is" in logged.out + logged.err
    assert _jobs(sandbox_env) == before  # nothing was submitted
    prefix = f"retraining/{run.run_id.replace(':', '-').replace('+', '-')}/forecast.json"
    listed = sandbox_env.client("s3").list_objects_v2(Bucket=demo.BUCKET, Prefix=prefix)
    assert listed.get("KeyCount", 0) == 0  # a refused forecast writes nothing


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_forecast_vs_actual_is_in_the_report_and_the_champion_record(dagbag: Any, sandbox_env: Any) -> None:
    conf = {
        "model_family": "spend-recorded",
        "dataset_input": "400",
        "min_eval_samples": 20,
        "prices": PRICES,
        "max_grader_invocations": 1_000_000,
        # Its own job: data-level reuse could hand it another run's job (and that job's metrics).
        "force_retrain": True,
        **PROMOTABLE,
    }
    run = run_example_dag(dagbag, DAG_ID, datetime(2026, 11, 27, tzinfo=timezone.utc), conf)
    forecast = run.get_task_instance("spend_forecast").xcom_pull(task_ids="spend_forecast")
    assert forecast["graded_samples"] > 0 and forecast["currency"] == "USD"
    assert forecast["caps"]["max_grader_invocations"] == 1_000_000
    assert forecast["lambda_gb_seconds"] is not None  # measured by the preflight, memory read from Lambda

    champion = read_champion(sandbox_env, "spend-recorded")
    assert champion is not None
    spend = champion["spend"]
    assert spend["forecast"]["graded_samples"] == forecast["graded_samples"]
    actual = spend["actual"]
    # The sandbox trains at most 30 steps: whatever it ran, every graded sample was one the plan counted.
    assert 0 < actual["graded_training_samples"] <= forecast["graded_training_samples"]
    assert actual["training_hours"] is not None and actual["training_hours"] >= 0
    assert actual["eval_input_tokens"] > 0 and actual["eval_output_tokens"] > 0  # counted from the answers
    assert actual["total_money"] > 0

    s3 = sandbox_env.client("s3")
    prefix = f"retraining/{run.run_id.replace(':', '-').replace('+', '-')}/evaluation"
    report = s3.get_object(Bucket=demo.BUCKET, Key=f"{prefix}/report.md")["Body"].read().decode()
    assert "## Spend: forecast vs actual" in report
    assert f"| graded samples | {forecast['graded_samples']:,} |" in report
    summary = json.loads(s3.get_object(Bucket=demo.BUCKET, Key=f"{prefix}/summary.json")["Body"].read())
    assert summary["spend"]["actual"] == actual
