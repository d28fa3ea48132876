"""One wait vocabulary: the old names still work for a release, mapped and warned; old + new is an error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from airflow.exceptions import AirflowProviderDeprecationWarning

from bedrock_rft_provider import operator_reference as ref
from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.operators.deployment import (
    BedrockCustomModelDeploymentDeleteOperator,
    BedrockCustomModelDeploymentOperator,
)
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.sensors.rft_job import BedrockRFTJobSensor
from support.bedrock_jobs import valid_job_args


def _job(**kwargs: Any) -> BedrockRFTJobOperator:
    return BedrockRFTJobOperator(task_id="train", **valid_job_args(), **kwargs)


def test_poll_interval_becomes_waiter_delay_and_keeps_the_24_hour_wait() -> None:
    with pytest.warns(
        AirflowProviderDeprecationWarning, match="`poll_interval` is deprecated.*`waiter_delay`"
    ):
        operator = _job(poll_interval=60)
    assert (operator.waiter_delay, operator.waiter_max_attempts) == (60, 1440)
    assert operator.wait_limit().seconds == 24 * 3600


def test_max_wait_becomes_the_checks_that_fill_it() -> None:
    with pytest.warns(
        AirflowProviderDeprecationWarning, match="`max_wait` is deprecated.*`waiter_max_attempts`"
    ):
        operator = _job(waiter_delay=60, max_wait=timedelta(hours=2))
    assert operator.waiter_max_attempts == 120


def test_both_old_names_together_keep_their_old_meaning() -> None:
    with pytest.warns(AirflowProviderDeprecationWarning):
        operator = _job(poll_interval=1, max_wait=120)
    assert (operator.waiter_delay, operator.waiter_max_attempts) == (1, 120)


def test_the_warning_points_at_the_line_that_made_the_task() -> None:
    with pytest.warns(AirflowProviderDeprecationWarning) as warned:
        _job(poll_interval=30)
    assert [w.filename for w in warned] == [__file__]


def test_an_old_name_in_default_args_still_applies() -> None:
    with pytest.warns(AirflowProviderDeprecationWarning):
        operator = _job(default_args={"poll_interval": 30})
    assert operator.waiter_delay == 30


def test_wait_for_deletion_becomes_wait_for_completion() -> None:
    with pytest.warns(AirflowProviderDeprecationWarning, match="`wait_for_deletion`.*`wait_for_completion`"):
        operator = BedrockCustomModelDeploymentDeleteOperator(
            task_id="delete", deployment_identifier="d", wait_for_deletion=True
        )
    assert operator.wait_for_completion is True


@pytest.mark.parametrize(
    ("make", "old"),
    [
        (lambda: _job(poll_interval=30, waiter_delay=30), "poll_interval"),
        (lambda: _job(max_wait=3600, waiter_max_attempts=30), "max_wait"),
        (
            lambda: BedrockCustomModelDeploymentDeleteOperator(
                task_id="delete", deployment_identifier="d", wait_for_deletion=True, wait_for_completion=True
            ),
            "wait_for_deletion",
        ),
    ],
)
def test_an_old_name_with_its_replacement_is_an_error(make: Any, old: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{old}: deprecated name of \w+, which is also given; pass only"):
        make()


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: _job(waiter_delay=-5), "waiter_delay"),
        (lambda: _job(waiter_max_attempts=0), "waiter_max_attempts"),
        (
            lambda: BedrockCustomModelDeploymentOperator(task_id="d", model_arn="m", waiter_delay=-1),
            "waiter_delay",
        ),
        (lambda: BedrockRFTJobSensor(task_id="s", job_identifier="j", max_retries=0), "max_retries"),
    ],
)
def test_a_bad_wait_fails_when_the_dag_is_parsed(make: Any, field: str) -> None:
    with pytest.raises(ConfigError, match=f"^{field}: "):
        make()


def test_the_reference_lists_old_names_only_under_their_replacements() -> None:
    block = ref.render()
    assert "| `poll_interval` |" not in block and "| `max_wait` |" not in block
    assert "| `waiter_delay` |" in block and "| `waiter_max_attempts` |" in block
    assert "`poll_interval` (use `waiter_delay`), `max_wait` (use `waiter_max_attempts`)" in block
