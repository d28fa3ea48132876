"""Job state-change events: route validation, the pattern and policy, and reading hostile messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.events import (
    EventError,
    EventRoute,
    job_state_change_event,
    parse_job_state_change,
    queue_policy,
)
from bedrock_rft_provider.sandbox.events import allows_send

JOB_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-2-lite-v1:0:256k/abc123"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:bedrock-rft-job-events"
RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/bedrock-rft-job-state-change"


def _event(**detail: Any) -> dict[str, Any]:
    job = {"jobName": "rft-my-job", "jobArn": JOB_ARN, "status": "Completed", "outputModelArn": "arn:m"}
    event = job_state_change_event(job, account="123456789012", region="us-east-1", event_id="1", time="t")
    event["detail"].update(detail)
    return event


def test_the_documented_sample_shape_reads_back() -> None:
    change = parse_job_state_change(json.dumps(_event()))
    assert (change.job_arn, change.job_name, change.status, change.output_model_arn) == (
        JOB_ARN,
        "rft-my-job",
        "Completed",
        "arn:m",
    )


def test_status_spelling_is_normalised_to_the_apis() -> None:
    assert parse_job_state_change(_event(jobStatus="COMPLETED")).status == "Completed"


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"source": "aws.s3", "detail-type": "Object Created"}), "not a Bedrock job state-change"),
        (json.dumps({**_event(), "detail": "x"}), "event.detail is missing"),
        (json.dumps(_event(jobArn="arn:aws:s3:::bucket")), "event.detail.jobArn"),
        (json.dumps(_event(jobArn=JOB_ARN + " ; rm -rf /")), "event.detail.jobArn"),
        (json.dumps(_event(jobName="a" * 64)), "event.detail.jobName"),
        (json.dumps(_event(jobName="../../etc")), "event.detail.jobName"),
        (json.dumps(_event(jobStatus="Exploded")), "event.detail.jobStatus"),
        (json.dumps(_event(jobStatus=["Completed"])), "event.detail.jobStatus"),
        ("[" * 100_000, "not JSON"),
        (json.dumps({"pad": "x" * 300_000}), "above SQS's"),
    ],
    ids=lambda v: v[:30] if isinstance(v, str) else None,
)
def test_hostile_messages_are_refused_naming_the_problem(body: str, cause: str) -> None:
    with pytest.raises(EventError, match=cause.replace("(", r"\(")):
        parse_job_state_change(body)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("rule_name", {"rule_name": "has space"}),
        ("rule_name", {"rule_name": "r" * 65}),
        ("queue_name", {"queue_name": "events.fifo"}),
        ("statuses", {"statuses": []}),
        ("statuses", {"statuses": ["Done"]}),
        ("job_name_prefix", {"job_name_prefix": "p" * 64}),
    ],
)
def test_a_bad_route_names_its_field_before_any_aws_call(field: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as raised:
        EventRoute.build(**kwargs)
    assert raised.value.field == field


def test_the_pattern_matches_only_the_chosen_statuses_and_prefix() -> None:
    route = EventRoute.build(statuses=["Completed", "Failed", "Completed"], job_name_prefix="rft-")
    assert route.event_pattern() == {
        "source": ["aws.bedrock"],
        "detail-type": ["Model Customization Job State Change"],
        "detail": {"jobStatus": ["Completed", "Failed"], "jobName": [{"prefix": "rft-"}]},
    }


def test_our_policy_allows_exactly_the_rule() -> None:
    policy = json.dumps(queue_policy(QUEUE_ARN, RULE_ARN))
    assert allows_send(policy, queue_arn=QUEUE_ARN, source_arn=RULE_ARN)
    assert not allows_send(policy, queue_arn=QUEUE_ARN, source_arn=RULE_ARN + "-other")
    assert not allows_send(policy, queue_arn=QUEUE_ARN + "-other", source_arn=RULE_ARN)


@pytest.mark.parametrize(
    ("statement", "allowed"),
    [
        (
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:*",
                "Resource": "*",
            },
            False,
        ),
        ({"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Principal": "*", "Action": "sqs:ReceiveMessage", "Resource": "*"}, False),
        (
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            },
            False,
        ),
    ],
)
def test_the_sandbox_evaluates_other_policies_like_sqs(statement: dict[str, Any], allowed: bool) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    assert allows_send(policy, queue_arn=QUEUE_ARN, source_arn=RULE_ARN) is allowed


def test_a_deny_wins_and_no_policy_allows_nothing() -> None:
    allow = queue_policy(QUEUE_ARN, RULE_ARN)["Statement"][0]
    deny = {**allow, "Effect": "Deny", "Condition": {}}
    assert not allows_send(json.dumps({"Statement": [allow, deny]}), queue_arn=QUEUE_ARN, source_arn=RULE_ARN)
    assert not allows_send(None, queue_arn=QUEUE_ARN, source_arn=RULE_ARN)
