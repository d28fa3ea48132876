"""The event-driven path: retraining with ``completion=event`` hands over, through the dispatcher DAG
``bedrock_rft_post_training_events``, to one ``bedrock_rft_post_training`` run per completed job."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from airflow.exceptions import ParamValidationError

from bedrock_rft_provider.hooks.events import BedrockRFTEventsHook
from bedrock_rft_provider.jobs.events import EventRoute, job_state_change_event
from bedrock_rft_provider.triggers.job_events import (
    MESSAGING_PACKAGE,
    QUEUE_URL_ENV,
    EventsUnavailableError,
    job_events_trigger,
)
from support.airflow_compat import DagBag
from support.caller_policy import assert_caller_policy_allows, recording_calls
from support.example_dags import EXAMPLE_DAGS, PROMOTABLE, read_champion, run_example_dag
from unit.sandbox.sandbox_helpers import unique, wait_for_job

DAG_ID = "bedrock_rft_post_training"
EVENTS_DAG_ID = "bedrock_rft_post_training_events"
DAG_FILE = EXAMPLE_DAGS / f"{DAG_ID}.py"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/bedrock-rft-job-events"
SLOW_TIMEOUT_S = 900  # a safety net (>= 10x what these runs take on 2 busy cores), not a speed limit


def _parse(monkeypatch: pytest.MonkeyPatch, queue_url: str | None) -> dict[str, Any]:
    if queue_url is None:
        monkeypatch.delenv(QUEUE_URL_ENV, raising=False)
    else:
        monkeypatch.setenv(QUEUE_URL_ENV, queue_url)
    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return dict(bag.dags)


def _message(job_name: str, status: str = "Completed", event_id: str = "e1") -> dict[str, Any]:
    """An SQS message as the watcher hands it over, holding Bedrock's state-change event for the job."""
    job = {
        "jobName": job_name,
        "jobArn": f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/{job_name}",
        "status": status,
    }
    event = job_state_change_event(
        job, account="123456789012", region="us-east-1", event_id=event_id, time="t"
    )
    return {"MessageId": event_id, "Body": json.dumps(event)}


def _asset_event(*messages: Any) -> dict[str, Any]:
    return {
        "extra": {"from_trigger": True, "payload": {"status": "success", "message_batch": list(messages)}}
    }


def test_with_a_queue_the_dispatcher_is_scheduled_on_an_sqs_asset_watcher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dispatcher = _parse(monkeypatch, QUEUE_URL)[EVENTS_DAG_ID]
    (asset,) = dispatcher.timetable.asset_condition.objects
    (watcher,) = asset.watchers
    classpath, kwargs = watcher.trigger.serialize()
    assert classpath == "airflow.providers.amazon.aws.triggers.sqs.SqsSensorTrigger"
    assert kwargs["sqs_queue"] == QUEUE_URL and kwargs["delete_message_on_reception"] is True


def test_the_dag_the_dispatcher_triggers_is_not_the_one_scheduled_on_the_asset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """apache/airflow#73032: a max_active_runs DAG whose runs are operator-triggered is not re-armed
    when they end, so it must never be the one that waits for asset events."""
    dags = _parse(monkeypatch, QUEUE_URL)
    start = dags[EVENTS_DAG_ID].get_task("start_job_runs")
    assert start.partial_kwargs["trigger_dag_id"] == DAG_ID != EVENTS_DAG_ID
    assert start.partial_kwargs["skip_when_already_exists"] is True  # a duplicate event starts nothing
    job_dag = dags[DAG_ID]
    assert type(job_dag.timetable).__name__ == "NullTimetable"  # schedule=None: only triggered
    assert job_dag.max_active_runs == 1  # promotions of a family stay serial


def test_without_a_queue_the_dispatcher_runs_only_when_triggered_and_says_why(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        dispatcher = _parse(monkeypatch, None)[EVENTS_DAG_ID]
    assert type(dispatcher.timetable).__name__ == "NullTimetable"  # schedule=None
    assert f"set {QUEUE_URL_ENV}" in caplog.text and DAG_ID in caplog.text


def test_without_the_messaging_provider_the_message_names_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "airflow.providers.common.messaging.triggers.msg_queue", None)
    with pytest.raises(EventsUnavailableError, match=f"pip install {MESSAGING_PACKAGE}.*polling path"):
        job_events_trigger("https://sqs.us-east-1.amazonaws.com/123456789012/q")


def test_every_param_is_documented_at_the_top_of_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    dag = _parse(monkeypatch, None)[DAG_ID]
    assert [name for name in dag.params if f"\n{name} " not in (dag.doc_md or "")] == []


def test_a_post_training_run_without_a_job_is_refused_naming_the_param(dagbag: Any) -> None:
    dag = dagbag.get_dag(DAG_ID)
    for conf in ({}, {"job": ""}, {"job": " rft-a"}, {"job": "rft-a\n"}, {"job": "s3://b/k"}):
        with pytest.raises(ParamValidationError, match="param job"):
            dag.test(logical_date=datetime(2026, 10, 12, tzinfo=timezone.utc), run_conf=conf)


@pytest.fixture
def job_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The dispatcher's first task, on moto S3, with Bedrock describing any job: its output under
    ``s3://rft-post/output/<job>/``."""
    import boto3
    from moto import mock_aws

    from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook

    def describe(self: Any, identifier: str) -> dict[str, Any]:
        name = identifier.rsplit("/", 1)[-1]
        return {"jobName": name, "outputDataConfig": {"s3Uri": f"s3://rft-post/output/{name}/"}}

    monkeypatch.setattr(BedrockRFTHook, "describe_job", describe)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="rft-post")
        yield _parse(monkeypatch, None)[EVENTS_DAG_ID].get_task("job_runs").python_callable


def test_the_dispatcher_starts_one_run_per_completed_job_and_ignores_the_rest(
    job_runs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events = {
        "asset": [
            _asset_event(_message("rft-b"), _message("rft-a"), {"MessageId": "x", "Body": "not json"}),
            _asset_event(_message("rft-a", event_id="e2"), _message("rft-c", status="Failed")),
            {"extra": {"something": "else"}},
        ]
    }
    runs = job_runs(triggering_asset_events=events)
    arn = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/"
    assert runs == [
        {"trigger_run_id": "job__rft-a", "conf": {"job": arn + "rft-a"}},
        {"trigger_run_id": "job__rft-b", "conf": {"job": arn + "rft-b"}},
    ]
    assert capsys.readouterr().out.count("Ignored: ") == 2  # the bad body and the foreign asset event


def test_a_job_handed_over_by_a_retraining_run_is_started_with_that_runs_params(
    job_runs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not with the post-training DAG's defaults (family gsm8k, math_answer, the demo bucket): a code
    family's job would be scored with the math reward and promoted as the gsm8k champion."""
    import boto3

    handover = {"model_family": "code", "reward": "acme:tests", "bucket": "acme", "min_eval_samples": 20}
    s3 = boto3.client("s3")
    s3.put_object(
        Bucket="rft-post",
        Key="output/rft-a/post-training-params.json",
        Body=json.dumps({**handover, "job": "rft-z", "unknown": 1}).encode(),
    )
    s3.put_object(Bucket="rft-post", Key="output/rft-b/post-training-params.json", Body=b"[1]")
    runs = job_runs(triggering_asset_events={"asset": [_asset_event(_message("rft-a"), _message("rft-b"))]})
    arn = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/"
    assert [run["conf"] for run in runs] == [{**handover, "job": arn + "rft-a"}, {"job": arn + "rft-b"}]
    out = capsys.readouterr().out
    assert (
        f"Ignored the handover of {arn}rft-b (the run takes the defaults): the handover is not a JSON" in out
    )


def test_a_dispatcher_run_without_events_starts_nothing(job_runs: Any) -> None:
    assert job_runs(triggering_asset_events=None) == []
    assert job_runs(triggering_asset_events={"asset": [_asset_event()]}) == []


@pytest.mark.parametrize(
    "job",
    [
        "rft-a",
        "rft.2026-11-30+b",
        "a" * 63,
        "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-2-lite-v1:0:256k/abcdefghijkl",
        "arn:aws-cn:bedrock:cn-north-1:123456789012:model-customization-job/x",
    ],
)
def test_a_job_name_or_arn_is_a_valid_job_param(job: str) -> None:
    """Everything the dispatcher passes (an ARN jobs.events.JOB_ARN accepts) and every job name."""
    import re

    from bedrock_rft_provider.jobs.events import JOB_ARN, JOB_NAME
    from bedrock_rft_provider.triggers.job_events import JOB_PARAM_PATTERN

    assert JOB_ARN.fullmatch(job) or JOB_NAME.fullmatch(job)
    assert re.search(JOB_PARAM_PATTERN, job)


JOB_ARN = (
    "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-2-lite-v1:0:256k/abc123def456"
)


JOB_TAGS: dict[str, str] = {}  # the Completed job's tags, as the tests set them


class _TI:
    def __init__(self, run_id: str) -> None:
        self.dag_id, self.run_id = DAG_ID, run_id


@pytest.fixture
def completed_job(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The post-training DAG's first task, on moto S3, with Bedrock answering for one Completed job
    known by its ARN and its name (as GetModelCustomizationJob is)."""
    import boto3
    from moto import mock_aws

    from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook

    job = {
        "jobName": "rft-a",
        "jobArn": JOB_ARN,
        "status": "Completed",
        "outputModelArn": "arn:aws:bedrock:us-east-1:123456789012:custom-model/x/abc",
        "trainingDataConfig": {"s3Uri": "s3://rft-data/d/train.jsonl"},
    }

    def describe(self: Any, identifier: str) -> dict[str, Any]:
        assert identifier in (JOB_ARN, "rft-a"), identifier
        return dict(job)

    monkeypatch.setattr(BedrockRFTHook, "describe_job", describe)
    monkeypatch.setattr(BedrockRFTHook, "job_tags", lambda self, arn: dict(JOB_TAGS))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="rft-post")
        yield _parse(monkeypatch, None)[DAG_ID].get_task("completed_job").python_callable


def _params(job: str) -> dict[str, Any]:
    return {"job": job, "bucket": "rft-post", "test_data_uri": "", "model_family": "post-family"}


def test_a_job_is_handled_by_one_run_and_a_clear_of_it_handles_it_again(
    completed_job: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A manual run for a job whose event came after all (by name, the event's run used the ARN) or a
    late duplicate event must not deploy and evaluate the model a second time: one paid deployment."""
    first = completed_job(params=_params(JOB_ARN), ti=_TI("job__rft-a"))
    assert first["job_name"] == "rft-a" and first["output_prefix"] == "s3://rft-post/post-training/rft-a"
    assert completed_job(params=_params("rft-a"), ti=_TI("manual__2026-11-30T03:00:00+00:00")) == {}
    out = capsys.readouterr().out
    assert f"RFT job rft-a is handled by {DAG_ID}/job__rft-a (s3://rft-post/post-training/rft-a/" in out
    assert completed_job(params=_params(JOB_ARN), ti=_TI("job__rft-a")) == first  # a clear is a rerun


@pytest.mark.parametrize(
    ("completion", "model", "queue", "tag"),
    [
        ("event", "amazon.nova-2-lite-v1:0:256k", True, "events"),
        ("poll", "amazon.nova-2-lite-v1:0:256k", True, "in-run"),
        ("event", "amazon.nova-2-lite-v1:0:256k", False, "in-run"),  # no queue: train waits after all
        ("poll", "openai.gpt-oss-20b", True, None),  # open-weight jobs take no tags
    ],
)
def test_the_retraining_job_is_tagged_with_who_post_trains_it(
    dagbag: Any, monkeypatch: pytest.MonkeyPatch, *, completion: str, model: str, queue: bool, tag: str | None
) -> None:
    from bedrock_rft_provider.triggers.job_events import HANDOVER_TAG

    if queue:
        monkeypatch.setenv(QUEUE_URL_ENV, QUEUE_URL)
    else:
        monkeypatch.delenv(QUEUE_URL_ENV, raising=False)
    dag = dagbag.get_dag("bedrock_rft_retraining")
    train = dag.get_task("train")
    params = {"completion": completion, "base_model_id": model}
    tags = dag.get_template_env().from_string(train.tags).render(params=params)
    assert tags == ({HANDOVER_TAG: tag} if tag else None)
    waits = dag.get_template_env().from_string(train.wait_for_completion).render(params=params)
    assert waits is (tag != "events")  # the tag says what train does


def test_a_job_its_own_run_waits_for_is_not_post_trained_again_by_its_event(
    completed_job: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """With events set up, a completion=poll retraining run evaluates and promotes its job itself; the
    job's event (the rule forwards every job's) would deploy it again and promote it with the
    dispatcher's default family and reward."""
    JOB_TAGS.update({"bedrock-rft-post-training": "in-run"})
    try:
        assert completed_job(params=_params(JOB_ARN), ti=_TI("job__rft-a")) == {}
        assert "post-trained by the run that submitted it" in capsys.readouterr().out
        # By hand it is handled: the user asked for it.
        assert completed_job(params=_params("rft-a"), ti=_TI("manual__1"))["job_name"] == "rft-a"
    finally:
        JOB_TAGS.clear()


def test_a_clear_of_a_run_that_promoted_its_job_deploys_nothing(
    completed_job: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import datetime, timezone

    from bedrock_rft_provider.evaluation.champion import build_record
    from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook

    first = completed_job(params=_params(JOB_ARN), ti=_TI("job__rft-a"))
    record = build_record(
        family="post-family", custom_model_arn=first["custom_model_arn"], job_arn=JOB_ARN,
        run_id="job__rft-a", promoted_at=datetime.now(timezone.utc),
    )  # fmt: skip
    BedrockRFTChampionHook(aws_conn_id=None).promote("post-family", record)  # what promote wrote
    assert completed_job(params=_params(JOB_ARN), ti=_TI("job__rft-a")) == {}
    assert "RFT job rft-a was promoted by this run (version 1): nothing to redo" in capsys.readouterr().out


def test_a_dispatched_run_for_another_job_is_refused(completed_job: Any) -> None:
    """A forged event (name of one job, ARN of another) would handle the wrong job under the first
    one's run id, and that job's own event would then start nothing."""
    from bedrock_rft_provider.errors import BedrockRFTError

    with pytest.raises(BedrockRFTError, match=r"run job__rft-b is for job rft-b, but job .* is rft-a"):
        completed_job(params=_params(JOB_ARN), ti=_TI("job__rft-b"))


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
        datetime(2026, 10, 10, tzinfo=timezone.utc),
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
    dispatcher = dagbag.get_dag(EVENTS_DAG_ID)
    runs = dispatcher.get_task("job_runs").python_callable(triggering_asset_events={"a": [event]})
    assert [run["trigger_run_id"] for run in runs] == [f"job__{job['jobName']}"]
    conf = runs[0]["conf"]  # the retraining run's params, handed over: not the post-training defaults
    test_uri = retrain.get_task_instance("prepare_dataset").xcom_pull(task_ids="prepare_dataset")["test_uri"]
    assert conf["job"] == job["jobArn"] and conf["model_family"] == family and conf["min_eval_samples"] == 20
    assert conf["gate_guards"] == PROMOTABLE["gate_guards"] and conf["test_data_uri"] == test_uri
    with recording_calls(set()) as calls:
        post = run_example_dag(dagbag, DAG_ID, datetime(2026, 10, 10, 1, tzinfo=timezone.utc), conf)
    assert_caller_policy_allows(
        calls, seen={"bedrock:GetModelCustomizationJob", "bedrock:CreateCustomModelDeployment"}
    )
    states = {ti.task_id: ti.state for ti in post.get_task_instances()}
    assert states["completed_job"] == "success" and states["promote"] == "success"
    champion = read_champion(sandbox_env, family)
    assert champion and champion["job_arn"] == job["jobArn"]
    assert champion["custom_model_arn"] == job["outputModelArn"]
    deployment = sandbox_env.client("bedrock").get_custom_model_deployment(
        customModelDeploymentIdentifier=champion["deployment_arn"]
    )
    assert deployment["status"] == "Active"  # the champion's deployment is not torn down

    # The same job by name in a manual run (its event came after all): nothing is deployed again.
    again = run_example_dag(
        dagbag, DAG_ID, datetime(2026, 10, 10, 2, tzinfo=timezone.utc), conf | {"job": job["jobName"]}
    )
    states = {ti.task_id: ti.state for ti in again.get_task_instances()}
    assert states["completed_job"] == "success"
    assert states["deploy_tuned"] == states["evaluate"] == states["promote"] == "skipped"
    assert read_champion(sandbox_env, family) == champion


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
        datetime(2026, 10, 11, tzinfo=timezone.utc),
        {**conf, "completion": "event", **PROMOTABLE},
    )
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["completes_here"] == states["evaluate"] == states["quality_gate"] == "success"
    assert run.get_task_instance("train").xcom_pull(task_ids="train")["status"] == "Completed"
