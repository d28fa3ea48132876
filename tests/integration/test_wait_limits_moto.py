"""Deferred and non-deferred waits give up at the same limit, against moto's Bedrock (jobs stay InProgress).

The operator counts checks (``waiter_delay`` apart, at most ``waiter_max_attempts``); the sensor also
honours ``timeout``, counted from its first check, also across retries (the task state store).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from airflow.exceptions import AirflowSensorTimeout, TaskDeferred
from moto import mock_aws

from bedrock_rft_provider.errors import JobFailedError
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.sensors.rft_job import FIRST_CHECK_KEY, BedrockRFTJobSensor
from bedrock_rft_provider.triggers.rft_job import BedrockRFTJobTrigger
from support.airflow_context import make_context
from support.bedrock_jobs import REGION, valid_job_args

HOUR = 3600
JOB = "rft-waited-on"


class FakeTaskStateStore:
    """Airflow 3.3's ``context["task_state_store"]``: values that outlive a try."""

    def __init__(self, **values: Any) -> None:
        self.values = dict(values)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, *, retention: timedelta | None = None) -> None:
        self.values[key] = value


@pytest.fixture
def bedrock() -> Iterator[Any]:
    with mock_aws():
        _operator(wait_for_completion=False).execute(make_context())  # moto keeps the job InProgress
        yield boto3.client("bedrock", region_name=REGION)


def _operator(**overrides: Any) -> BedrockRFTJobOperator:
    return BedrockRFTJobOperator(
        task_id="train", aws_conn_id=None, region_name=REGION, job_name=JOB, **valid_job_args(**overrides)
    )


def _sensor(**kwargs: Any) -> BedrockRFTJobSensor:
    return BedrockRFTJobSensor(
        task_id="wait", job_identifier=JOB, aws_conn_id=None, region_name=REGION, **kwargs
    )


def _context_first_checked(ago: timedelta) -> dict[str, Any]:
    """A later try's context: the task first checked the job ``ago``."""
    first = (datetime.now(timezone.utc) - ago).isoformat()
    return {
        **make_context(try_number=2),
        "task_state_store": FakeTaskStateStore(**{FIRST_CHECK_KEY.format(job=JOB): first}),
    }


def _deferred(task: Any, context: dict[str, Any]) -> TaskDeferred:
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    assert isinstance(deferred.value.trigger, BedrockRFTJobTrigger)
    return deferred.value


def test_the_operator_makes_as_many_checks_on_a_worker_as_its_trigger_would(
    bedrock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    trigger = _deferred(
        _operator(deferrable=True, waiter_delay=0, waiter_max_attempts=3), make_context()
    ).trigger
    with caplog.at_level(logging.INFO), pytest.raises(Exception, match="max attempts reached"):
        _operator(deferrable=False, waiter_delay=0, waiter_max_attempts=3).execute(make_context(try_number=2))
    checks = [r for r in caplog.records if r.getMessage().startswith(f"RFT job {JOB}: ")]
    assert len(checks) == 3
    assert (trigger.waiter_delay, trigger.attempts) == (0, 3)


def test_the_operator_defers_for_its_whole_limit_plus_one_check(bedrock: Any) -> None:
    deferred = _deferred(_operator(deferrable=True, waiter_delay=60, waiter_max_attempts=90), make_context())
    assert (deferred.trigger.waiter_delay, deferred.trigger.attempts) == (60, 90)
    assert deferred.timeout == timedelta(minutes=90, seconds=60)


def test_a_deferred_sensor_honours_a_48_hour_timeout_not_300_s_times_720(bedrock: Any) -> None:
    sensor = _sensor(deferrable=True, poke_interval=300, timeout=48 * HOUR)
    deferred = _deferred(sensor, make_context())
    trigger = deferred.trigger
    assert trigger.waiter_delay * trigger.attempts == 48 * HOUR  # was 300 * 720 s = 60 h
    # The safety net, one check later (less the instant between the first check and the deferral).
    assert timedelta(hours=48) < deferred.timeout <= timedelta(hours=48, seconds=300)
    assert sensor.wait_limit().seconds == 48 * HOUR  # the limit a non-deferred sensor polls against


def test_a_non_deferred_sensor_times_out_at_the_same_48_hours(bedrock: Any) -> None:
    sensor = _sensor(poke_interval=300, timeout=48 * HOUR)
    assert sensor.poke(_context_first_checked(timedelta(hours=48) - timedelta(minutes=1))) is False
    with pytest.raises(AirflowSensorTimeout, match=f"RFT job {JOB} is still InProgress after 48 h"):
        _sensor(poke_interval=300, timeout=48 * HOUR).poke(_context_first_checked(timedelta(hours=48)))


def test_a_retried_deferred_sensor_waits_only_what_is_left(bedrock: Any) -> None:
    sensor = _sensor(deferrable=True, poke_interval=300, timeout=48 * HOUR)
    trigger = _deferred(sensor, _context_first_checked(timedelta(hours=47))).trigger
    assert trigger.waiter_delay * trigger.attempts == pytest.approx(HOUR, abs=300)


def test_a_retried_sensor_past_its_limit_times_out_instead_of_deferring_again(bedrock: Any) -> None:
    sensor = _sensor(deferrable=True, poke_interval=300, timeout=48 * HOUR)
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute(_context_first_checked(timedelta(hours=49)))


def test_the_first_check_is_kept_for_the_next_try(bedrock: Any) -> None:
    context = {**make_context(), "task_state_store": FakeTaskStateStore()}
    _deferred(_sensor(deferrable=True), context)
    stored = datetime.fromisoformat(context["task_state_store"].values[FIRST_CHECK_KEY.format(job=JOB)])
    assert timedelta(0) <= datetime.now(timezone.utc) - stored < timedelta(minutes=5)


def test_a_trigger_out_of_checks_is_a_sensor_timeout_not_a_job_failure(bedrock: Any) -> None:
    sensor = _sensor(deferrable=True, poke_interval=300, timeout=48 * HOUR)
    event = {"status": "error", "message": "Waiter error: max attempts reached", "job_identifier": JOB}
    with pytest.raises(AirflowSensorTimeout, match="still InProgress after 48 h"):
        sensor.execute_complete(make_context(), event)


def test_a_job_that_failed_while_deferred_still_fails_with_its_reason(bedrock: Any) -> None:
    bedrock.stop_model_customization_job(jobIdentifier=JOB)
    event = {"status": "error", "message": "RFT job did not complete", "job_identifier": JOB}
    with pytest.raises(JobFailedError, match=f"RFT job {JOB} ended Stopp"):
        _sensor(deferrable=True).execute_complete(make_context(), event)
