"""The grader handler survives anything a reward or an event does: one finite score per input, in order."""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from typing import Any

import pytest

from bedrock_rft_provider.rewards import make_handler
from bedrock_rft_provider.rewards.builtin import code_tests, regex_match
from bedrock_rft_provider.rewards.contract import check_results

from .conftest import grader_sample


def _metric(result: dict[str, Any], name: str) -> float | None:
    return next((m["value"] for m in result["metrics_list"] if m["name"] == name), None)


def _raiser(exc: BaseException) -> Any:
    def reward(sample: Any) -> float:
        if sample.response == "bad":
            raise exc
        return 1.0

    return reward


def _recurse(n: int = 0) -> int:
    return _recurse(n + 1) + 1


@pytest.mark.parametrize(
    "exc",
    [
        SystemExit(3),
        KeyboardInterrupt(),
        MemoryError(),
        GeneratorExit(),
        RecursionError("deep"),
        ValueError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_base_exceptions_from_the_reward_score_zero_and_the_batch_goes_on(exc: BaseException) -> None:
    batch = [grader_sample("good", "x", "a"), grader_sample("bad", "x", "b"), grader_sample("good", "x", "c")]
    results = make_handler(_raiser(exc))(batch, None)
    assert [r["id"] for r in results] == ["a", "b", "c"]
    assert [r["aggregate_reward_score"] for r in results] == [1.0, 0.0, 1.0]
    assert [_metric(r, "reward_error") for r in results] == [0.0, 1.0, 0.0]


def test_real_recursion_in_the_reward_is_contained() -> None:
    results = make_handler(lambda sample: float(_recurse()))([grader_sample("x", "x")], None)
    assert results[0]["aggregate_reward_score"] == 0.0
    assert _metric(results[0], "reward_error") == 1.0


def test_a_slow_sample_is_cut_off_by_the_per_sample_budget() -> None:
    def slow(sample: Any) -> float:
        if sample.response == "slow":
            time.sleep(600)
        return 1.0

    handler = make_handler(slow, sample_timeout_s=0.5)
    started = time.monotonic()
    results = handler([grader_sample("slow", "x", "a"), grader_sample("fast", "x", "b")], None)
    assert time.monotonic() - started < 120  # a safety net: ~0.5 s idle, 600 s unbounded
    assert [r["aggregate_reward_score"] for r in results] == [0.0, 1.0]
    assert _metric(results[0], "reward_timeout") == 1.0


def test_a_slow_sample_is_cut_off_in_the_thread_pool_too() -> None:
    # The slow sample is held until the handler has returned (not for a fixed time), so the handler
    # can only have returned by cutting it off, however slow the machine; then it is released.
    release = threading.Event()

    def slow(sample: Any) -> float:
        if sample.response == "slow":
            release.wait(120)
        return 1.0

    handler = make_handler(slow, sample_timeout_s=0.5, max_workers=2)
    try:
        results = handler([grader_sample("fast", "x", "a"), grader_sample("slow", "x", "b")], None)
        assert not release.is_set()
    finally:
        release.set()
    assert [r["aggregate_reward_score"] for r in results] == [1.0, 0.0]
    assert _metric(results[1], "reward_timeout") == 1.0


def test_catastrophic_regex_backtracking_is_time_bounded() -> None:
    sample = grader_sample("a" * 34 + "!", {"pattern": "^(a+)+$"})
    started = time.monotonic()
    results = make_handler(regex_match)(
        [sample, grader_sample("AB-1234", {"pattern": r"AB-\d{4}"}, "t")], None
    )
    assert time.monotonic() - started < 120  # bounded: ~1 s; unbounded: ~30 min idle, doubling per 'a'
    assert [r["aggregate_reward_score"] for r in results] == [0.0, 1.0]
    assert _metric(results[0], "regex_timed_out") == 1.0


@pytest.mark.parametrize("value", [1000.0, -5.0, 1.0000001])
def test_scores_outside_the_declared_range_are_clamped_with_a_metric(value: float) -> None:
    result = make_handler(lambda sample: value)([grader_sample("x", "x")], None)[0]
    assert result["aggregate_reward_score"] == min(1.0, max(0.0, value))
    assert _metric(result, "reward_out_of_range") == 1.0


def test_scores_outside_the_range_can_be_rejected_instead() -> None:
    handler = make_handler(lambda sample: 7.0, out_of_range="reject")
    result = handler([grader_sample("x", "x")], None)[0]
    assert result["aggregate_reward_score"] == 0.0
    assert (_metric(result, "reward_out_of_range"), _metric(result, "reward_error")) == (1.0, 1.0)


def test_a_declared_range_is_honoured() -> None:
    def signed(sample: Any) -> float:
        return -0.5

    signed.score_range = (-1.0, 1.0)  # type: ignore[attr-defined]
    result = make_handler(signed)([grader_sample("x", "x")], None)[0]
    assert result["aggregate_reward_score"] == -0.5
    assert _metric(result, "reward_out_of_range") is None


@pytest.mark.parametrize(
    "sample_id",
    [10**5000, 7, 2.5, float("nan"), True, None, {"a": 1}, [1, 2], "", "é"],
    ids=["huge-int", "int", "float", "nan", "bool", "null", "object", "list", "empty", "unicode"],
)
def test_ids_of_any_json_type_are_echoed_safely(sample_id: Any) -> None:
    sample = grader_sample("x", "x")
    sample["id"] = sample_id
    results = make_handler(lambda s: 1.0)([sample], None)
    assert check_results([sample], results) == []
    assert isinstance(results[0]["id"], str)
    json.dumps(results)


def test_a_deeply_nested_json_text_event_is_safe() -> None:
    depth = sys.getrecursionlimit() * 4
    assert make_handler(lambda s: 1.0)("[" * depth + "]" * depth, None) == []


def test_deeply_nested_sample_content_scores_zero_not_a_crash() -> None:
    content: Any = "x"
    for _ in range(sys.getrecursionlimit() * 2):
        content = [content]
    sample = {"id": "deep", "messages": [{"role": "assistant", "content": content}]}
    results = make_handler(lambda s: 1.0)([sample, grader_sample("x", "x", "ok")], None)
    assert [r["id"] for r in results] == ["deep", "ok"]
    assert all(math.isfinite(r["aggregate_reward_score"]) for r in results)


def _running_children() -> list[int]:
    from bedrock_rft_provider.rewards.isolation import _descendants

    alive = []
    for pid in _descendants(os.getpid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if b"_CONFINE_ARGS" in cmdline.read():
                    alive.append(pid)
        except OSError:
            continue
    return alive


def test_a_budget_that_interrupts_code_tests_leaves_no_child_running() -> None:
    sleeper = "```python\nimport time\ntime.sleep(600)\n```"
    handler = make_handler(code_tests, sample_timeout_s=1)
    started = time.monotonic()
    results = handler([grader_sample(sleeper, {"tests": ["assert True"]})], None)
    assert time.monotonic() - started < 120  # a 1 s budget; the code sleeps 600 s
    assert _metric(results[0], "reward_timeout") == 1.0
    assert _running_children() == []
