"""Event-driven completion in the sandbox: rule -> queue setup, a job's events in the queue, the watcher."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bedrock_rft_provider.hooks.events import BedrockRFTEventsHook
from bedrock_rft_provider.jobs.events import EventRoute, parse_job_state_change, queue_policy
from bedrock_rft_provider.sandbox.server import Sandbox
from bedrock_rft_provider.triggers.job_events import job_events_trigger, job_state_changes
from unit.sandbox.sandbox_helpers import GRADER_RIGHT_NUMBER, World, make_world, unique, wait_for_job

pytestmark = pytest.mark.integration
JOB_TIMEOUT = 300.0  # a sandbox job takes seconds at time scale 0; the bound only catches a hang


@pytest.fixture(scope="module")
def world(bedrock_rft_sandbox: Sandbox) -> World:
    return make_world(bedrock_rft_sandbox)


def _route(**overrides: Any) -> EventRoute:
    return EventRoute.build(rule_name=unique("rule"), queue_name=unique("queue"), **overrides)


def _drain(sandbox: Sandbox, queue_url: str) -> list[dict[str, Any]]:
    """Every message now in the queue (the sandbox delivers synchronously, so nothing is in flight)."""
    sqs = sandbox.client("sqs")
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _run_job(world: World, grader_arn: str) -> dict[str, Any]:
    bedrock = world.sandbox.client("bedrock")
    arn = bedrock.create_model_customization_job(**world.job_request(grader_arn))["jobArn"]
    return wait_for_job(bedrock, arn, timeout=JOB_TIMEOUT)


@pytest.fixture(scope="module")
def grader(world: World) -> str:
    return world.deploy_grader(GRADER_RIGHT_NUMBER)


def test_setup_creates_rule_queue_and_least_privilege_policy_and_a_rerun_changes_nothing(
    bedrock_rft_sandbox_airflow_conn: Sandbox,
) -> None:
    sandbox = bedrock_rft_sandbox_airflow_conn
    route = _route(job_name_prefix="rft-")
    first = BedrockRFTEventsHook().ensure_route(route)
    again = BedrockRFTEventsHook().ensure_route(route)

    assert len(first.changed) == 4  # queue, rule, policy, target
    assert again.changed == () and again.as_dict() | {"changed": []} == first.as_dict() | {"changed": []}
    sqs, events = sandbox.client("sqs"), sandbox.client("events")
    assert [q for q in sqs.list_queues().get("QueueUrls", []) if q.endswith(route.queue_name)] == [
        first.queue_url
    ]
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=first.queue_url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage" and statement["Resource"] == first.queue_arn
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": first.rule_arn}}
    rule = events.describe_rule(Name=route.rule_name)
    assert json.loads(rule["EventPattern"]) == {
        "source": ["aws.bedrock"],
        "detail-type": ["Model Customization Job State Change"],
        "detail": {"jobStatus": ["Completed"], "jobName": [{"prefix": "rft-"}]},
    }
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule=route.rule_name)["Targets"]] == [
        first.queue_arn
    ]


def test_setup_repairs_a_changed_policy_and_pattern(bedrock_rft_sandbox_airflow_conn: Sandbox) -> None:
    sandbox = bedrock_rft_sandbox_airflow_conn
    route = _route()
    made = BedrockRFTEventsHook().ensure_route(route)
    wide_open = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*"}],
    }
    sandbox.client("sqs").set_queue_attributes(
        QueueUrl=made.queue_url, Attributes={"Policy": json.dumps(wide_open)}
    )
    widened = EventRoute.build(
        rule_name=route.rule_name, queue_name=route.queue_name, statuses=["Completed", "Failed"]
    )

    repaired = BedrockRFTEventsHook().ensure_route(widened)

    assert repaired.changed == (
        f"rule {route.rule_name} (pattern/state updated)",
        f"queue policy of {route.queue_name}",
    )
    attributes = sandbox.client("sqs").get_queue_attributes(
        QueueUrl=made.queue_url, AttributeNames=["Policy"]
    )
    assert json.loads(attributes["Attributes"]["Policy"]) == queue_policy(made.queue_arn, made.rule_arn)


def test_a_completed_jobs_event_lands_in_the_queue_and_in_progress_is_not_routed(
    bedrock_rft_sandbox_airflow_conn: Sandbox, world: World, grader: str
) -> None:
    made = BedrockRFTEventsHook().ensure_route(_route())

    job = _run_job(world, grader)

    assert job["status"] == "Completed"
    changes = [parse_job_state_change(m["Body"]) for m in _drain(world.sandbox, made.queue_url)]
    mine = [c for c in changes if c.job_arn == job["jobArn"]]
    assert [(c.status, c.job_name, c.output_model_arn) for c in mine] == [
        ("Completed", job["jobName"], job["outputModelArn"])
    ]


def test_every_state_change_is_routed_when_the_rule_asks_for_all_statuses(
    bedrock_rft_sandbox_airflow_conn: Sandbox, world: World, grader: str
) -> None:
    made = BedrockRFTEventsHook().ensure_route(
        _route(statuses=["InProgress", "Completed", "Failed", "Stopping", "Stopped"])
    )

    job = _run_job(world, grader)

    changes = [parse_job_state_change(m["Body"]) for m in _drain(world.sandbox, made.queue_url)]
    assert sorted(c.status for c in changes if c.job_arn == job["jobArn"]) == ["Completed", "InProgress"]


def test_a_queue_whose_policy_does_not_name_the_rule_receives_nothing(
    bedrock_rft_sandbox_airflow_conn: Sandbox, world: World, grader: str
) -> None:
    made = BedrockRFTEventsHook().ensure_route(_route())
    other_rule = made.rule_arn.rsplit("/", 1)[0] + "/someone-elses-rule"
    world.sandbox.client("sqs").set_queue_attributes(
        QueueUrl=made.queue_url, Attributes={"Policy": json.dumps(queue_policy(made.queue_arn, other_rule))}
    )

    job = _run_job(world, grader)

    assert job["status"] == "Completed"
    assert _drain(world.sandbox, made.queue_url) == []


def test_the_asset_watchers_trigger_fires_on_a_completed_jobs_event(
    bedrock_rft_sandbox_airflow_conn: Sandbox, world: World, grader: str
) -> None:
    made = BedrockRFTEventsHook().ensure_route(_route())
    job = _run_job(world, grader)
    trigger = job_events_trigger(made.queue_url, poll_seconds=1)

    async def first_event() -> Any:
        async for event in trigger.run():
            return event
        return None

    event = asyncio.run(asyncio.wait_for(first_event(), timeout=120))

    assert event is not None and event.payload["status"] == "success"
    changes, problems = job_state_changes([{"extra": {"from_trigger": True, "payload": event.payload}}])
    assert problems == []
    assert [(c.job_arn, c.status) for c in changes] == [(job["jobArn"], "Completed")]
    # The trigger deleted what it delivered: the next watcher run does not see the job again.
    assert _drain(world.sandbox, made.queue_url) == []


def test_the_cli_sets_up_the_route_prints_the_queue_url_and_a_rerun_changes_nothing(
    bedrock_rft_sandbox_airflow_conn: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    from bedrock_rft_provider.cli import main

    route = _route()
    argv = ["events-setup", "--rule-name", route.rule_name, "--queue-name", route.queue_name]

    assert main([*argv, "--job-name-prefix", "rft-"]) == 0
    first = capsys.readouterr().out
    assert main([*argv, "--job-name-prefix", "rft-"]) == 0
    again = capsys.readouterr().out

    queue_url = bedrock_rft_sandbox_airflow_conn.client("sqs").get_queue_url(QueueName=route.queue_name)
    assert f"export BEDROCK_RFT_EVENTS_QUEUE_URL={queue_url['QueueUrl']}\n" in first
    assert "changed: queue " in first and "changed: nothing (already set up)" in again
