"""The event-driven path: retraining with ``completion=event`` hands over to ``bedrock_rft_post_training``."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.hooks.events import BedrockRFTEventsHook
from bedrock_rft_provider.jobs.events import EventRoute
from bedrock_rft_provider.triggers.job_events import (
    MESSAGING_PACKAGE,
    QUEUE_URL_ENV,
    EventsUnavailableError,
    job_events_trigger,
)
from support.airflow_compat import DagBag
from support.example_dags import EXAMPLE_DAGS, PROMOTABLE, read_champion, run_example_dag
from unit.sandbox.sandbox_helpers import unique, wait_for_job

DAG_ID = "bedrock_rft_post_training"
DAG_FILE = EXAMPLE_DAGS / f"{DAG_ID}.py"
SLOW_TIMEOUT_S = 900  # a safety net (>= 10x what these runs take on 2 busy cores), not a speed limit


def _parse(monkeypatch: pytest.MonkeyPatch, queue_url: str | None) -> Any:
    if queue_url is None:
        monkeypatch.delenv(QUEUE_URL_ENV, raising=False)
    else:
        monkeypatch.setenv(QUEUE_URL_ENV, queue_url)
    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


def test_with_a_queue_the_dag_is_scheduled_on_an_sqs_asset_watcher(monkeypatch: pytest.MonkeyPatch) -> None:
    queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/bedrock-rft-job-events"
    dag = _parse(monkeypatch, queue_url)
    (asset,) = dag.timetable.asset_condition.objects
    (watcher,) = asset.watchers
    classpath, kwargs = watcher.trigger.serialize()
    assert classpath == "airflow.providers.amazon.aws.triggers.sqs.SqsSensorTrigger"
    assert kwargs["sqs_queue"] == queue_url and kwargs["delete_message_on_reception"] is True


def test_without_a_queue_the_dag_runs_only_when_triggered_and_says_why(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        dag = _parse(monkeypatch, None)
    assert type(dag.timetable).__name__ == "NullTimetable"  # schedule=None
    assert f"set {QUEUE_URL_ENV}" in caplog.text


def test_without_the_messaging_provider_the_message_names_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "airflow.providers.common.messaging.triggers.msg_queue", None)
    with pytest.raises(EventsUnavailableError, match=f"pip install {MESSAGING_PACKAGE}.*polling path"):
        job_events_trigger("https://sqs.us-east-1.amazonaws.com/123456789012/q")


def test_every_param_is_documented_at_the_top_of_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    dag = _parse(monkeypatch, None)
    assert [name for name in dag.params if f"\n{name} " not in (dag.doc_md or "")] == []


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_a_completion_event_dispatches_a_post_training_run_that_promotes_the_job(
    dagbag: Any, sandbox_env: Any, airflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = BedrockRFTEventsHook().ensure_route(
        EventRoute.build(rule_name=unique("dag-rule"), queue_name=unique("dag-queue"))
    )
    monkeypatch.setenv(QUEUE_URL_ENV, made.queue_url)  # what the workers see once the path is set up
    family = "events-dag"
    retrain = run_example_dag(
        dagbag,
        "bedrock_rft_retraining",
        datetime(2026, 11, 25, tzinfo=timezone.utc),
        {
            "model_family": family,
            "dataset_input": "400",
            "min_eval_samples": 20,
            "force_retrain": True,
            "completion": "event",
            **PROMOTABLE,
        },
    )
    states = {ti.task_id: ti.state for ti in retrain.get_task_instances()}
    assert states["train"] == "success" and states["completes_here"] == "success"
    assert states["training_health"] == states["evaluate"] == states["promote"] == "skipped"
    submitted = retrain.get_task_instance("train").xcom_pull(task_ids="train")
    job = wait_for_job(sandbox_env.client("bedrock"), submitted["job_arn"], timeout=SLOW_TIMEOUT_S / 3)
    assert job["status"] == "Completed"

    # The dispatching run's first step, on the messages the watcher would hand over.
    sqs = sandbox_env.client("sqs")
    messages = sqs.receive_message(QueueUrl=made.queue_url, MaxNumberOfMessages=10)["Messages"]
    event = {"extra": {"from_trigger": True, "payload": {"status": "success", "message_batch": messages}}}
    dag = dagbag.get_dag(DAG_ID)
    runs = dag.get_task("job_runs").python_callable(triggering_asset_events={"a": [event]})
    assert runs == [{"trigger_run_id": f"job__{job['jobName']}", "conf": {"job": job["jobArn"]}}]

    conf = runs[0]["conf"] | PROMOTABLE | {"model_family": family, "min_eval_samples": 20}
    post = run_example_dag(dagbag, DAG_ID, datetime(2026, 11, 25, 1, tzinfo=timezone.utc), conf)
    states = {ti.task_id: ti.state for ti in post.get_task_instances()}
    assert states["job_runs"] == "skipped" and states["promote"] == "success"
    champion = read_champion(sandbox_env, family)
    assert champion and champion["job_arn"] == job["jobArn"]
    assert champion["custom_model_arn"] == job["outputModelArn"]
    deployment = sandbox_env.client("bedrock").get_custom_model_deployment(
        customModelDeploymentIdentifier=champion["deployment_arn"]
    )
    assert deployment["status"] == "Active"  # the champion's deployment is not torn down


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_completion_event_without_the_queue_falls_back_to_polling_in_the_run(
    dagbag: Any, sandbox_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(QUEUE_URL_ENV, raising=False)
    conf = {
        "model_family": "events-unset",
        "dataset_input": "400",
        "min_eval_samples": 20,
        "force_retrain": True,
    }
    run = run_example_dag(
        dagbag,
        "bedrock_rft_retraining",
        datetime(2026, 11, 26, tzinfo=timezone.utc),
        {**conf, "completion": "event", **PROMOTABLE},
    )
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["completes_here"] == states["evaluate"] == states["quality_gate"] == "success"
    assert run.get_task_instance("train").xcom_pull(task_ids="train")["status"] == "Completed"
