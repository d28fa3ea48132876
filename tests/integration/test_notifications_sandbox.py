"""BedrockRFTNotifier: the evaluation brief as message, sent to SNS in the sandbox (read back via SQS)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bedrock_rft_provider.evaluation.brief import evaluation_brief, is_budget_stop, subject
from bedrock_rft_provider.iam import policy_bundle
from bedrock_rft_provider.notifications import BedrockRFTNotifier
from bedrock_rft_provider.sandbox.server import Sandbox
from support.caller_policy import recording_calls
from unit.test_iam_policy import allows, iam_action

pytestmark = pytest.mark.integration

SUMMARY = {
    "model_id": "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/challenger01",
    "n": 120,
    "mean_reward": 0.71,
    "delta": 0.09,
    "delta_ci95": [0.05, 0.13],
    "p_value": 0.001,
    "error_rate": 0.0,
    "response_length": {"mean": 210.0},
    "baseline": {"model_id": "amazon.nova-2-lite-v1:0:256k", "mean_reward": 0.62, "error_rate": 0.01,
                 "response_length": {"mean": 190.0}},
}  # fmt: skip
DECISION = {"promote": True, "reasons": ["ok delta mean reward +0.0900 (min_improvement +0.0200)"]}


class FakeTI:
    """What a callback's ``context["ti"]`` offers a notifier: ids and XCom pulls of this run."""

    def __init__(self, task_id: str, xcoms: dict[tuple[str, str], Any]) -> None:
        self.dag_id, self.run_id, self.task_id = "bedrock_rft_retraining", "manual__1", task_id
        self.xcoms = xcoms

    def xcom_pull(self, task_ids: str, key: str = "return_value") -> Any:
        return self.xcoms.get((task_ids, key))


def context(task_id: str, **extra: Any) -> dict[str, Any]:
    xcoms = {
        ("evaluate", "return_value"): SUMMARY,
        ("quality_gate", "gate_decision"): DECISION,
        ("promote", "return_value"): {"version": 3, "record": {"custom_model_arn": "arn:model-b",
                                                               "deployment_arn": "arn:stable"}},
    }  # fmt: skip
    return {"ti": FakeTI(task_id, xcoms), **extra}


def test_the_brief_has_delta_with_ci_guards_reasons_and_report() -> None:
    text = evaluation_brief(SUMMARY, DECISION, report_uri="s3://b/run/evaluation/report.html", family="gsm8k")
    assert "mean reward delta +0.0900, 95% CI [+0.0500, +0.1300], p-value 0.001, n=120" in text
    assert "| response_length.mean | 210 | 190 |" in text and "| error_rate | 0 | 0.01 |" in text
    assert "Gate: **PROMOTE**" in text and "- ok delta mean reward +0.0900" in text
    assert text.endswith("Report: s3://b/run/evaluation/report.html")


def test_a_summary_without_baseline_still_renders() -> None:
    assert "95% CI n/a" in evaluation_brief({"n": 3, "mean_reward": 0.5})


@pytest.mark.parametrize(
    ("error", "budget"),
    [
        (RuntimeError("job stopped: max_budget 40.00 USD crossed (spent 41.20 USD)"), True),
        (RuntimeError("max_training_hours 2 reached after 2.1 h"), True),
        (type("BudgetExceededError", (Exception,), {})("stopped"), True),
        (RuntimeError("job failed: grader Lambda timed out"), False),
        (None, False),
    ],
)
def test_budget_stops_are_told_apart_from_failures(error: BaseException | None, budget: bool) -> None:
    assert is_budget_stop(error) is budget


def test_subjects_are_one_line_within_the_sns_limit() -> None:
    long = subject("gate decision", "f" * 200, "promote\nnow")
    assert len(long) == 100 and "\n" not in long


def test_each_event_composes_its_subject_and_body() -> None:
    gate = BedrockRFTNotifier(event="gate_decision", topic_arn="", family="gsm8k")
    title, body = gate.compose(context("quality_gate"))
    assert title == "Bedrock RFT gsm8k: gate decision - promote"
    assert "95% CI [+0.0500, +0.1300]" in body and "Gate: **PROMOTE**" in body
    promo = BedrockRFTNotifier(event="promotion", topic_arn="", family="gsm8k")
    title, body = promo.compose(context("promote"))
    assert title == "Bedrock RFT gsm8k: promotion - version 3"
    assert "arn:model-b is the new champion (SSM version 3), served by arn:stable" in body
    failure = BedrockRFTNotifier(event="job_failure", topic_arn="", family="gsm8k")
    title, _ = failure.compose(context("train", exception=RuntimeError("max_budget crossed")))
    assert title == "Bedrock RFT gsm8k: budget stop"
    title, body = failure.compose(context("train", exception=RuntimeError("ValidationException: bad data")))
    assert title == "Bedrock RFT gsm8k: training job failed" and "bad data" in body


def test_an_unknown_event_is_refused_at_parse_time() -> None:
    with pytest.raises(ValueError, match="event 'promoted' is not one of"):
        BedrockRFTNotifier(event="promoted", topic_arn="")


@pytest.mark.parametrize("topic", ["", None, "None"])
def test_without_a_topic_nothing_is_sent_and_one_line_is_logged(
    topic: str | None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from botocore.client import BaseClient

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an AWS call was made without a topic")

    monkeypatch.setattr(BaseClient, "_make_api_call", refuse)
    BedrockRFTNotifier(event="gate_decision", topic_arn=topic, family="gsm8k").notify(context("quality_gate"))
    assert "No notification topic set (notify_topic_arn)" in capsys.readouterr().out


def test_a_promotion_reaches_the_topic_with_the_brief(bedrock_rft_sandbox_airflow_conn: Sandbox) -> None:
    sandbox = bedrock_rft_sandbox_airflow_conn
    sns, sqs = sandbox.client("sns"), sandbox.client("sqs")
    topic = sns.create_topic(Name="bedrock-rft-notify")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="bedrock-rft-notify-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    # As the DAG wires it: templated fields rendered from the run's params by BaseNotifier.__call__.
    notifier = BedrockRFTNotifier(
        event="promotion", topic_arn="{{ params.topic }}", family="{{ params.family }}", report_uri="s3://r"
    )
    with recording_calls(set()) as calls:
        notifier({**context("promote"), "params": {"topic": topic, "family": "gsm8k"}})
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=5)
    envelopes = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
    assert [e["Subject"] for e in envelopes] == ["Bedrock RFT gsm8k: promotion - version 3"]
    assert "95% CI [+0.0500, +0.1300]" in envelopes[0]["Message"]
    assert "Report: s3://r" in envelopes[0]["Message"]
    # `bedrock-rft iam-policy --notify-topic` grants exactly the call the notifier made, on that topic.
    assert {iam_action(*call) for call in calls} == {"sns:Publish"}
    caller = policy_bundle(bucket="my-rft-bucket", reward_function="grader", notify_topics=[topic])
    publish = [
        s
        for s in caller["airflow_caller"]["permissions_policy"]["Statement"]
        if allows({"Statement": [s]}, "sns:Publish")
    ]
    assert [s["Resource"] for s in publish] == [[topic]]


def test_a_topic_that_cannot_be_published_to_logs_one_error_and_raises_nothing(
    bedrock_rft_sandbox_airflow_conn: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = "arn:aws:sns:us-east-1:123456789012:deleted-topic"
    BedrockRFTNotifier(event="promotion", topic_arn=gone, family="gsm8k").notify(context("promote"))
    out = capsys.readouterr().out
    assert f"Could not send 'Bedrock RFT gsm8k: promotion - version 3' to {gone}:" in out
    assert "NotFound" in out and "Sent " not in out


def _refuse_aws_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.client import BaseClient

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an AWS call was made without the named connection")

    monkeypatch.setattr(BaseClient, "_make_api_call", refuse)


def test_a_missing_connection_logs_one_line_naming_it_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not the amazon hook's silent fallback to the worker's own credentials, and no traceback."""
    _refuse_aws_calls(monkeypatch)
    topic = "arn:aws:sns:us-east-1:123456789012:rft"
    notifier = BedrockRFTNotifier(
        event="promotion", topic_arn=topic, family="gsm8k", aws_conn_id="no_such_conn"
    )
    notifier(context("promote"))  # as the task runner calls a callback; raises nothing
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines
    assert (
        f"Could not send 'Bedrock RFT gsm8k: promotion - version 3' to {topic}: "
        "AWS connection 'no_such_conn' is not defined (aws_conn_id)"
    ) in lines[0]


def test_a_missing_connection_reported_the_task_sdk_3_0_way_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Airflow 3.0's Task SDK raised AirflowRuntimeError(CONNECTION_NOT_FOUND), past the amazon hook."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowRuntimeError, ErrorType
    from airflow.sdk.execution_time.comms import ErrorResponse

    def not_found(conn_id: str) -> None:
        raise AirflowRuntimeError(
            ErrorResponse(error=ErrorType.CONNECTION_NOT_FOUND, detail={"conn_id": conn_id})
        )

    _refuse_aws_calls(monkeypatch)
    monkeypatch.setattr(BaseHook, "get_connection", classmethod(lambda cls, conn_id: not_found(conn_id)))
    BedrockRFTNotifier(
        event="gate_decision", topic_arn="arn:aws:sns:us-east-1:123456789012:rft", aws_conn_id="gone"
    )(context("quality_gate"))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "AWS connection 'gone' is not defined (aws_conn_id)" in lines[0], lines


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"region_name": 5}, "is not usable (aws_conn_id): TypeError: expected string"),
        (
            {"region_name": "us-east-1", "config_kwargs": "nope"},
            "is not usable (aws_conn_id): AttributeError",
        ),
        (
            {
                "region_name": "us-east-1",
                "role_arn": "arn:aws:iam::123456789012:role/r",
                "assume_role_method": "x",
            },
            "is not usable (aws_conn_id): NotImplementedError: Found assume_role_method='x'",
        ),
        ({"region_name": ""}, "is not usable (aws_conn_id): ValueError: Invalid endpoint"),
    ],
)
def test_a_connection_the_aws_hook_cannot_use_is_one_line_and_sends_nothing(
    extra: dict[str, Any], problem: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Broken shapes of a defined connection: the hook or botocore raises while building the client;
    that was a callback traceback."""
    _refuse_aws_calls(monkeypatch)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_BROKEN_AWS", json.dumps({"conn_type": "aws", "extra": extra}))
    BedrockRFTNotifier(
        event="promotion", topic_arn="arn:aws:sns:us-east-1:123456789012:rft", aws_conn_id="broken_aws"
    )(context("promote"))
    out = capsys.readouterr().out
    sent = [line for line in out.splitlines() if "Could not send" in line]
    assert len(sent) == 1 and f"AWS connection 'broken_aws' {problem}" in sent[0], out
    assert "Traceback" not in out


def test_a_connection_whose_extra_is_not_json_is_named_and_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Airflow reads such an extra as {} (no endpoint, region or role): sending with it would go
    somewhere else than the connection says."""
    _refuse_aws_calls(monkeypatch)
    monkeypatch.setenv("AIRFLOW_CONN_BROKEN_AWS", json.dumps({"conn_type": "aws", "extra": "{not json"}))
    BedrockRFTNotifier(
        event="promotion", topic_arn="arn:aws:sns:us-east-1:123456789012:rft", aws_conn_id="broken_aws"
    )(context("promote"))
    sent = [line for line in capsys.readouterr().out.splitlines() if "Could not send" in line]
    assert len(sent) == 1, sent
    assert "AWS connection 'broken_aws' has an extra that is not a JSON object (aws_conn_id)" in sent[0]
