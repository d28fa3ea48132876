"""deadline: per-sample budgets nest with an outer timer; regex searches are bounded on any thread."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import pytest

from bedrock_rft_provider.rewards.deadline import RewardTimeout, bounded_search, time_limit

BACKTRACKING = (r"^(a+)+$", "a" * 27 + "!")


def test_an_outer_timer_is_restored_with_its_remaining_time() -> None:
    def outer(signum: int, frame: Any) -> None:
        raise AssertionError("the outer timer fired too early")

    previous, previous_timer = signal.signal(signal.SIGALRM, outer), signal.getitimer(signal.ITIMER_REAL)
    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        with pytest.raises(RewardTimeout), time_limit(0.2):
            time.sleep(5)
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 20 < remaining < 30
        assert signal.getsignal(signal.SIGALRM) is outer
    finally:  # give pytest-timeout its own alarm back
        signal.signal(signal.SIGALRM, previous)
        signal.setitimer(signal.ITIMER_REAL, *previous_timer)


def test_an_outer_timer_that_fires_sooner_is_left_alone() -> None:
    previous_timer = signal.getitimer(signal.ITIMER_REAL)
    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        with time_limit(60) as armed:
            assert armed is False
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, *previous_timer)


def test_reward_timeout_is_not_an_exception_a_reward_would_swallow() -> None:
    assert not issubclass(RewardTimeout, Exception)


@pytest.mark.parametrize(
    "on_main_thread", [True, False], ids=["main-thread-alarm", "worker-thread-subprocess"]
)
def test_backtracking_is_bounded_on_any_thread(on_main_thread: bool) -> None:
    found: list[Any] = []

    def search() -> None:
        found.append(bounded_search(*BACKTRACKING, timeout_s=0.5))
        found.append(bounded_search(r"AB-\d{4}", "code AB-1234", timeout_s=20))

    started = time.monotonic()
    if on_main_thread:
        search()
    else:
        worker = threading.Thread(target=search)
        worker.start()
        worker.join()
    assert found == [None, True]
    assert time.monotonic() - started < 30
