"""The one wait-limit rule: min(timeout, delay * attempts), counted from the first check."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.waiting import attempts_within, wait_limit

HOUR = 3600.0


def test_a_48_hour_timeout_caps_300_second_checks_at_48_hours_not_60() -> None:
    limit = wait_limit(waiter_delay=300, waiter_max_attempts=720, timeout=48 * HOUR)
    assert limit.seconds == 48 * HOUR
    assert limit.waiter_max_attempts * limit.waiter_delay == 48 * HOUR  # 576 checks, not 720
    assert limit.describe() == "48 h"


def test_without_a_timeout_the_count_of_checks_is_the_limit() -> None:
    limit = wait_limit(waiter_delay=120, waiter_max_attempts=720)
    assert (limit.seconds, limit.waiter_max_attempts) == (24 * HOUR, 720)


def test_a_timeout_longer_than_the_checks_changes_nothing() -> None:
    limit = wait_limit(waiter_delay=120, waiter_max_attempts=720, timeout=7 * 24 * HOUR)
    assert (limit.seconds, limit.waiter_max_attempts) == (24 * HOUR, 720)


def test_time_already_waited_is_taken_off_the_limit() -> None:
    limit = wait_limit(waiter_delay=300, waiter_max_attempts=720, timeout=48 * HOUR, elapsed=47 * HOUR)
    assert limit.seconds == HOUR
    assert limit.waiter_max_attempts == 12
    assert not limit.expired


def test_the_remaining_checks_round_up_so_the_last_one_reaches_the_limit() -> None:
    limit = wait_limit(waiter_delay=300, waiter_max_attempts=720, timeout=1000)
    assert limit.waiter_max_attempts == 4  # 4 * 300 >= 1000 > 3 * 300


def test_a_wait_past_its_limit_has_expired() -> None:
    limit = wait_limit(waiter_delay=300, waiter_max_attempts=720, timeout=48 * HOUR, elapsed=48 * HOUR)
    assert limit.expired and limit.waiter_max_attempts == 0


def test_the_deferral_safety_net_is_one_check_after_the_limit() -> None:
    limit = wait_limit(waiter_delay=30, waiter_max_attempts=120)
    assert limit.defer_timeout == timedelta(hours=1, seconds=30)


def test_checks_without_a_delay_are_bounded_by_their_count_alone() -> None:
    limit = wait_limit(waiter_delay=0, waiter_max_attempts=5)
    assert limit.waiter_max_attempts == 5 and not limit.expired
    assert math.isinf(limit.seconds) and limit.defer_timeout is None
    assert limit.describe() == "5 checks"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"waiter_delay": -1, "waiter_max_attempts": 3}, "waiter_delay: -1 seconds; use 0 or more"),
        ({"waiter_delay": 5, "waiter_max_attempts": 0}, "waiter_max_attempts: 0 checks; use 1 or more"),
        ({"waiter_delay": 5, "waiter_max_attempts": 2.5}, "waiter_max_attempts: 2.5 is not a whole number"),
        ({"waiter_delay": 5, "waiter_max_attempts": 3, "timeout": -2}, "timeout: -2 seconds; use 0 or more"),
        (
            {"waiter_delay": -1, "waiter_max_attempts": 3, "delay_field": "poke_interval"},
            "poke_interval: -1 seconds",
        ),
    ],
)
def test_bad_limits_name_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        wait_limit(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("duration_s", "delay", "attempts"),
    [(24 * HOUR, 120, 720), (120, 1, 120), (24 * HOUR, 60, 1440), (10, 0, 10), (1, 300, 1)],
)
def test_an_old_max_wait_becomes_the_checks_that_fill_it(
    duration_s: float, delay: int, attempts: int
) -> None:
    assert attempts_within(duration_s, delay) == attempts
