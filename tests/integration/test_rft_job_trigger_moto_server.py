"""The deferrable path for real: BedrockRFTJobTrigger on aiobotocore against moto's server mode."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from airflow.exceptions import TaskDeferred
from airflow.triggers.base import TriggerEvent
from moto.bedrock.models import bedrock_backends

from bedrock_rft_provider.errors import JobFailedError
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.sensors.rft_job import BedrockRFTJobSensor
from bedrock_rft_provider.triggers.rft_job import BedrockRFTJobTrigger
from support.airflow_context import make_context
from support.bedrock_jobs import ACCOUNT, REGION, valid_job_args
from support.supervisor import supervisor_reports


def _set_status(job_name: str, status: str, failure_message: str | None = None) -> None:
    job = bedrock_backends[ACCOUNT][REGION].model_customization_jobs[job_name]
    job.status, job.failure_message = status, failure_message


def _run_trigger(trigger: BedrockRFTJobTrigger) -> TriggerEvent:
    async def first_event() -> TriggerEvent:
        async for event in trigger.run():
            return event
        raise AssertionError("trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first_event(), timeout=60))


def _defer(operator: Any, context: dict[str, Any]) -> BedrockRFTJobTrigger:
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    assert deferred.value.method_name == "execute_complete"
    trigger = deferred.value.trigger
    assert isinstance(trigger, BedrockRFTJobTrigger)
    return trigger


@pytest.fixture
def server(moto_server: str, aws_conn_to: Callable[[str], None]) -> str:
    aws_conn_to(moto_server)
    return moto_server


def _operator(job_name: str) -> BedrockRFTJobOperator:
    return BedrockRFTJobOperator(
        task_id="train",
        job_name=job_name,
        custom_model_name=f"{job_name}-model",
        deferrable=True,
        waiter_delay=1,
        **valid_job_args(),
    )


def test_trigger_serializes_and_round_trips() -> None:
    trigger = BedrockRFTJobTrigger(
        job_identifier="rft-x", waiter_delay=5, waiter_max_attempts=9, region_name=REGION
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "bedrock_rft_provider.triggers.rft_job.BedrockRFTJobTrigger"
    rebuilt = BedrockRFTJobTrigger(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["job_identifier"] == "rft-x" and kwargs["stop_on_kill"] is True


def test_deferred_job_completes_through_the_trigger(server: str) -> None:
    operator = _operator("rft-deferred-ok")
    context = make_context()
    trigger = _defer(operator, context)
    threading.Timer(1.5, _set_status, args=("rft-deferred-ok", "Completed")).start()
    event = _run_trigger(trigger)
    assert event.payload == {"status": "success", "job_identifier": "rft-deferred-ok"}
    result = operator.execute_complete(context, event.payload)
    assert result["status"] == "Completed" and result["custom_model_arn"]


@pytest.mark.slow
def test_a_cleared_task_that_reattaches_and_defers_reports_reattached(server: str) -> None:
    _defer(_operator("rft-deferred-again"), make_context(try_number=1))
    context = make_context(try_number=2)  # the task was cleared: its next try
    with pytest.raises(TaskDeferred) as deferred:
        _operator("rft-deferred-again").execute(context)
    threading.Timer(1.5, _set_status, args=("rft-deferred-again", "Completed")).start()
    event = _run_trigger(deferred.value.trigger)  # type: ignore[arg-type]
    result = _operator("rft-deferred-again").execute_complete(
        context, event.payload, **(deferred.value.kwargs or {})
    )
    assert result["reattached"] is True and result["job_name"] == "rft-deferred-again"


def test_deferred_job_failure_surfaces_the_failure_message(server: str) -> None:
    operator = _operator("rft-deferred-fail")
    context = make_context()
    trigger = _defer(operator, context)
    threading.Timer(1.5, _set_status, args=("rft-deferred-fail", "Failed", "grader raised KeyError")).start()
    event = _run_trigger(trigger)
    assert event.payload["status"] == "error"
    assert "grader raised KeyError" in event.payload["message"]
    with pytest.raises(JobFailedError, match="ended Failed: grader raised KeyError"):
        operator.execute_complete(context, event.payload)


@pytest.mark.parametrize(
    ("state_after_action", "expected_status"),
    [
        ("failed", {"Stopping", "Stopped"}),  # marked failed: the documented way to stop training
        (None, {"InProgress"}),  # cleared: the next try reattaches, the job keeps training
        ("scheduled", {"InProgress"}),  # cleared and already rescheduled
        ("success", {"InProgress"}),  # marked success: the user keeps the job's outcome
    ],
)
def test_trigger_on_kill_stops_the_job_only_when_the_task_was_marked_failed(
    server: str, monkeypatch: pytest.MonkeyPatch, state_after_action: str | None, expected_status: set[str]
) -> None:
    job_name = f"rft-killed-{state_after_action or 'cleared'}"
    context = make_context()
    trigger = _defer(_operator(job_name), context)
    trigger.task_instance = context["ti"]  # the triggerer sets this on every task trigger
    supervisor = supervisor_reports(monkeypatch, context["ti"], state_after_action)
    asyncio.run(trigger.on_kill())
    assert supervisor.requests, "on_kill did not ask for the task's state"
    bedrock = boto3.client("bedrock", region_name=REGION, endpoint_url=server)
    assert bedrock.get_model_customization_job(jobIdentifier=job_name)["status"] in expected_status


def test_trigger_on_kill_leaves_the_job_running_when_the_state_cannot_be_read(server: str) -> None:
    context = make_context()
    trigger = _defer(_operator("rft-killed-unknown"), context)
    trigger.task_instance = context["ti"]  # no supervisor channel here: the state cannot be read
    asyncio.run(trigger.on_kill())
    bedrock = boto3.client("bedrock", region_name=REGION, endpoint_url=server)
    assert bedrock.get_model_customization_job(jobIdentifier="rft-killed-unknown")["status"] == "InProgress"


def test_sensor_defers_for_a_job_started_elsewhere(server: str) -> None:
    bedrock = boto3.client("bedrock", region_name=REGION, endpoint_url=server)
    request = _operator("rft-external").build_spec(make_context()).to_request()
    bedrock.create_model_customization_job(**request)
    sensor = BedrockRFTJobSensor(
        task_id="wait", job_identifier="rft-external", deferrable=True, poke_interval=1
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(make_context())
    trigger = deferred.value.trigger
    assert trigger.serialize()[1]["stop_on_kill"] is False
    threading.Timer(1.0, _set_status, args=("rft-external", "Completed")).start()
    event = _run_trigger(trigger)
    sensor.execute_complete(make_context(), event.payload)  # does not raise


def test_sensor_poke_fails_with_the_failure_message(server: str) -> None:
    bedrock = boto3.client("bedrock", region_name=REGION, endpoint_url=server)
    request = _operator("rft-external-bad").build_spec(make_context()).to_request()
    bedrock.create_model_customization_job(**request)
    _set_status("rft-external-bad", "Failed", "Training data has 40 records; at least 100 are required")
    sensor = BedrockRFTJobSensor(task_id="wait", job_identifier="rft-external-bad")
    with pytest.raises(JobFailedError, match="at least 100 are required"):
        sensor.poke(make_context())
