"""Grading fast paths give what the general paths give: the batch timer, number reading, reasoning,
the usual sample shape, results rendered once.

The batch timer: one SIGALRM handler per batch, a per-sample budget from each sample's own start, no
system call per sample, nothing left armed.

Under pytest the suite's own ``pytest-timeout`` alarm is running, which sends the handler down the
nesting path (:func:`time_limit` per sample); these tests pause that alarm so that the batch path — the
one a Lambda container takes — is the one exercised, and give it back afterwards.
"""

from __future__ import annotations

import copy
import json
import signal
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bedrock_rft_provider.rewards import make_handler
from bedrock_rft_provider.rewards.builtin import math_answer
from bedrock_rft_provider.rewards.contract import RewardResult, grader_sample, parse_sample
from bedrock_rft_provider.rewards.deadline import RewardTimeout, batch_timer
from bedrock_rft_provider.rewards.handler import constant_result, render
from bedrock_rft_provider.rewards.numeric import numbers_in, same_number


@pytest.fixture
def no_outer_timer() -> Iterator[None]:
    previous_timer = signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, *previous_timer)


def _metric(result: dict[str, Any], name: str) -> float:
    return next(m["value"] for m in result["metrics_list"] if m["name"] == name)


def test_a_slow_sample_times_out_and_the_rest_of_the_batch_is_scored(no_outer_timer: None) -> None:
    def slow(sample: Any) -> float:
        if sample.response == "slow":
            time.sleep(60)
        return 1.0

    before = signal.getsignal(signal.SIGALRM)
    handler = make_handler(slow, sample_timeout_s=0.3)
    batch = [grader_sample(f"s{i}", [{"role": "user", "content": "q"}], r) for i, r in enumerate("ab")]
    batch.insert(1, grader_sample("slow", [{"role": "user", "content": "q"}], "slow"))
    results = handler(batch, None)
    assert [r["aggregate_reward_score"] for r in results] == [1.0, 0.0, 1.0]
    assert [_metric(r, "reward_timeout") for r in results[1:2]] == [1.0]
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0.0


def test_the_batch_path_scores_exactly_like_the_nesting_path(no_outer_timer: None) -> None:
    prompt = [{"role": "user", "content": "How many?"}]
    responses = ["#### 42", "The answer is 41.", "\\boxed{42}", "no number", "<think>7</think> 42"]
    batch = [grader_sample(f"s{i}", prompt, r, "42") for i, r in enumerate(responses)]
    handler = make_handler(math_answer)
    fast = handler(batch, None)
    signal.setitimer(signal.ITIMER_REAL, 600)  # an outer timer: each sample gets its own time_limit
    try:
        nested = handler(batch, None)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    assert fast == nested
    assert [r["aggregate_reward_score"] for r in fast] == [1.0, 0.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize(
    ("seconds", "outer"),
    [(None, 0.0), (0, 0.0), (30.0, 600.0)],
    ids=["no-budget", "zero-budget", "outer-timer-running"],
)
def test_batch_timer_steps_aside(no_outer_timer: None, seconds: float | None, outer: float) -> None:
    if outer:
        signal.setitimer(signal.ITIMER_REAL, outer)
    try:
        with batch_timer(seconds) as timer:
            assert timer is None
        assert signal.getitimer(signal.ITIMER_REAL)[0] <= outer
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def test_a_sample_timer_raises_reward_timeout(no_outer_timer: None) -> None:
    with batch_timer(0.2) as timer:
        assert timer is not None
        timer.arm()
        with pytest.raises(RewardTimeout):
            time.sleep(30)
        timer.disarm()
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0.0


def test_a_sample_gets_its_whole_budget_from_its_own_start(no_outer_timer: None) -> None:
    # The alarm set for an earlier sample fires early for this one: it must re-arm, not raise.
    with batch_timer(0.5) as timer:
        assert timer is not None
        timer.arm()
        timer.disarm()
        time.sleep(0.3)  # the gap between samples: the first sample's alarm is now 0.2 s away
        started = time.monotonic()
        timer.arm()
        with pytest.raises(RewardTimeout):
            time.sleep(30)
        timer.disarm()
        assert time.monotonic() - started >= 0.5 - 0.01  # a lower bound only: load can make it later
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0.0


def test_an_alarm_between_samples_raises_nothing(no_outer_timer: None) -> None:
    with batch_timer(0.05) as timer:
        assert timer is not None
        timer.arm()
        timer.disarm()
        deadline = time.monotonic() + 60
        while timer._fires_at and time.monotonic() < deadline:  # until the stale alarm has gone off
            time.sleep(0.01)
        assert not timer._fires_at
        timer.arm()
        timer.disarm()


def test_fast_samples_cost_no_timer_system_call_each(
    no_outer_timer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = signal.setitimer
    monkeypatch.setattr(signal, "setitimer", lambda *args: calls.append(args) or real(*args))
    handler = make_handler(math_answer)
    batch = [
        grader_sample(f"s{i}", [{"role": "user", "content": "q"}], f"#### {i}", {"reference_answer": str(i)})
        for i in range(200)
    ]
    results = handler(batch, None)
    assert [r["aggregate_reward_score"] for r in results] == [1.0] * 200
    assert len(calls) <= 3  # armed once, cleared at the end (not two per sample)
    assert real(signal.ITIMER_REAL, 0)[0] == 0.0


@given(
    st.from_regex(r"\A(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\Z", fullmatch=True),
    st.sampled_from(["", "-", "$"]),
)
def test_numbers_are_read_exactly_like_fraction_of_their_text(digits: str, prefix: str) -> None:
    """The int-based reading of a written number equals ``Fraction(text)`` (the former, slower path)."""
    number = numbers_in(f"total {prefix}{digits} apples")[-1]
    expected = Fraction(digits.replace(",", ""))
    assert number.value == (-expected if prefix == "-" else expected)
    assert number.places == (len(digits) - digits.index(".") - 1 if "." in digits else 0)


@pytest.mark.parametrize(
    "message",
    [
        {"role": "assistant", "content": "<think>a</think>42"},
        {"role": "assistant", "content": "42", "reasoning_content": "because"},
        {"role": "assistant", "content": "42", "reasoning": "because"},
        {
            "role": "assistant",
            "content": [{"type": "reasoning", "text": "r"}, {"type": "text", "text": "42"}],
        },
    ],
    ids=["think-tags", "reasoning-content-field", "reasoning-field", "reasoning-block"],
)
def test_reasoning_is_found_with_or_without_the_plain_text_shortcut(message: dict[str, Any]) -> None:
    sample = parse_sample({"id": "s", "messages": [{"role": "user", "content": "q"}, message]})
    assert sample.response == "42"
    assert sample.reasoning in ("a", "because", "r")


class _NotPlainDict(dict[str, Any]):
    """A sample that is not exactly a dict: parse_sample takes its general path for it."""


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=8),
    st.sampled_from(["assistant", "user", "<a>"]),
)
_MESSAGE = st.dictionaries(
    st.sampled_from(["role", "content", "reasoning", "reasoning_content", "x"]),
    st.one_of(_VALUES, st.lists(st.fixed_dictionaries({"text": st.text(max_size=4)}), max_size=2)),
)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "id": _VALUES,
            "messages": st.one_of(_VALUES, st.lists(st.one_of(_MESSAGE, _VALUES), max_size=3)),
            "metadata": st.one_of(_VALUES, st.fixed_dictionaries({}, optional={"reference_answer": _VALUES})),
            "reference_answer": _VALUES,
        },
    )
)
@example(grader_sample("s", [{"role": "user", "content": "q"}], "#### 18", "18"))
@example({"id": "s", "messages": [{"role": "assistant", "content": "18", "reasoning": "r"}], "metadata": {}})
def test_the_usual_sample_shape_parses_exactly_like_the_general_path(raw: dict[str, Any]) -> None:
    fast, general = parse_sample(raw, 3), parse_sample(_NotPlainDict(raw), 3)
    assert (fast.id, fast.response, fast.reasoning, fast.reference, fast.metadata) == (
        general.id,
        general.response,
        general.reasoning,
        general.reference,
        general.metadata,
    )


def test_constant_results_render_like_fresh_ones_and_their_entries_are_read_only() -> None:
    constant = constant_result(1.0, {"r": 1.0}, {"m": 0.0})
    fresh = render("s", RewardResult(1.0, {"r": 1.0}, {"m": 0.0}))
    first, second = render("s", constant), render("t", constant)
    assert first == fresh and second == {**fresh, "id": "t"}
    assert first["metrics_list"] is not second["metrics_list"]  # each result owns its list
    with pytest.raises(TypeError, match="read-only"):
        first["metrics_list"][0]["value"] = 0.5
    copied = copy.deepcopy(first)
    copied["metrics_list"][0]["value"] = 0.5  # a copy is a plain dict again
    assert json.loads(json.dumps(first)) == fresh
    assert render("s", constant, error=1.0)["metrics_list"][-1]["value"] == 1.0


def test_math_answer_results_from_one_outcome_share_entries_but_not_lists(no_outer_timer: None) -> None:
    prompt = [{"role": "user", "content": "q"}]
    handler = make_handler(math_answer)
    results = handler([grader_sample(f"s{i}", prompt, "#### 18", "18") for i in range(2)], None)
    assert results[0]["metrics_list"] == results[1]["metrics_list"]
    assert results[0]["metrics_list"] is not results[1]["metrics_list"]
    assert [r["id"] for r in results] == ["s0", "s1"]


_DECIMAL = r"-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"


@given(st.from_regex(rf"\A{_DECIMAL}\Z", fullmatch=True), st.from_regex(rf"\A{_DECIMAL}\Z", fullmatch=True))
def test_two_plain_decimals_are_the_same_number_exactly_when_their_values_are(a: str, b: str) -> None:
    """same_number's shortcut for plain decimals (no percent, scale or fraction) is exact equality."""
    (first,), (second,) = numbers_in(f"x {a} y"), numbers_in(f"x {b} y")
    exact = Fraction(a.replace(",", "")) == Fraction(b.replace(",", ""))
    assert same_number(first, second) is exact
    assert same_number(first, first)
