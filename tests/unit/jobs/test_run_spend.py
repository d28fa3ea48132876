"""The run's spend across attempts: remaining caps, refusal after a cap stop, stop markers."""

from __future__ import annotations

import json

import pytest

from bedrock_rft_provider.jobs.run_spend import (
    EarlierAttempt,
    RunSpendError,
    guard_for_next_attempt,
    marker_uri,
    parse_marker,
    stop_marker,
)
from bedrock_rft_provider.jobs.spend_guard import Spend, Verdict, WaitGuard

PRICES = {"training_hour": 10.0, "grader_million_requests": 0.2}


def _spend(hours: float = 1.0, invocations: int = 100, money: float | None = None) -> Spend:
    return Spend(hours, 5, None, invocations, invocations, money)


def _marked(name: str, spend: Spend, guard: WaitGuard) -> EarlierAttempt:
    verdict = Verdict(True, ("cap",), (), spend)
    uri = marker_uri("s3://b/out/", name)
    return EarlierAttempt(name, "Stopped", spend, parse_marker(uri, stop_marker(name, verdict, guard)))


def test_no_earlier_attempt_keeps_the_whole_caps() -> None:
    guard = WaitGuard(max_training_hours=4.0, max_grader_invocations=1000)
    assert guard_for_next_attempt([], guard) == guard


def test_two_attempts_spend_is_summed_into_the_remaining_caps() -> None:
    guard = WaitGuard(max_budget=100.0, max_training_hours=4.0, max_grader_invocations=1000, prices=PRICES)
    attempts = [
        EarlierAttempt("rft-x", "Stopped", _spend(1.0, 100, 10.0)),
        EarlierAttempt("rft-x-a2", "Failed", _spend(0.5, 300, 5.0)),
    ]
    left = guard_for_next_attempt(attempts, guard)
    assert left.max_training_hours == pytest.approx(2.5)
    assert left.max_grader_invocations == 600
    assert left.max_budget == pytest.approx(85.0)
    assert left.prices == PRICES  # only the caps change


def test_a_cap_stopped_attempt_refuses_the_next_until_the_cap_is_raised() -> None:
    guard = WaitGuard(max_grader_invocations=256)
    attempts = [_marked("rft-x", _spend(invocations=256), guard)]
    with pytest.raises(
        RunSpendError, match=r"max_grader_invocations=256 is already spent .*~256.*rft-x was stopped"
    ):
        guard_for_next_attempt(attempts, guard)
    assert (
        guard_for_next_attempt(attempts, WaitGuard(max_grader_invocations=1000)).max_grader_invocations == 744
    )
    assert guard_for_next_attempt(attempts, WaitGuard(max_training_hours=9.0)).max_training_hours == 8.0


def test_the_marker_spend_counts_when_the_job_reads_less_now() -> None:
    # e.g. the metrics files were cleaned up after the stop: the marker still holds what was spent
    guard = WaitGuard(max_grader_invocations=256)
    attempt = _marked("rft-x", _spend(invocations=256), guard)
    attempt = EarlierAttempt(attempt.job_name, attempt.status, _spend(invocations=0), attempt.marker)
    with pytest.raises(RunSpendError, match="already spent"):
        guard_for_next_attempt([attempt], guard)


def test_a_health_stop_marker_does_not_refuse_but_its_spend_counts() -> None:
    guard = WaitGuard(max_grader_invocations=1000, health={"flat_reward": "stop"})
    attempt = _marked("rft-x", _spend(invocations=200), guard)
    assert attempt.marker is not None and attempt.marker.caps_reached == ()
    assert guard_for_next_attempt([attempt], guard).max_grader_invocations == 800


def test_attempts_that_spent_the_cap_without_a_marker_are_refused_too() -> None:
    guard = WaitGuard(max_training_hours=2.0)
    attempts = [
        EarlierAttempt("rft-x", "Stopped", _spend(1.2)),
        EarlierAttempt("rft-x-a2", "Stopped", _spend(0.9)),
    ]
    with pytest.raises(
        RunSpendError, match=r"max_training_hours=2 is already spent .*2\.10 training hours; its"
    ):
        guard_for_next_attempt(attempts, guard)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{not json", "stop marker is not JSON"),
        ("[]", "not a version-1 stop marker"),
        ('{"version": 2}', "not a version-1 stop marker"),
        ('{"version": 1, "caps_reached": ["max_money"], "spend": {}}', "caps_reached must be a list"),
        ('{"version": 1, "caps_reached": [], "spend": {"money": "lots"}}', "spend must map"),
    ],
)
def test_a_corrupt_marker_is_an_error_naming_it(text: str, error: str) -> None:
    uri = marker_uri("s3://b/out", "rft-x")
    assert uri == "s3://b/out/bedrock-rft-spend-stops/rft-x.json"
    with pytest.raises(RunSpendError, match=f"^{uri}: {error}"):
        parse_marker(uri, text)


def test_the_marker_records_the_caps_reached_and_the_spend() -> None:
    guard = WaitGuard(max_training_hours=1.0, max_grader_invocations=5000)
    body = json.loads(stop_marker("rft-x", Verdict(True, ("r",), (), _spend(1.5, 100)), guard))
    assert body["caps_reached"] == ["max_training_hours"]
    assert body["caps"] == {"max_training_hours": 1.0, "max_grader_invocations": 5000}
    assert body["spend"]["grader_invocations"] == 100 and body["reasons"] == ["r"]


def test_reattaching_to_a_live_attempt_after_the_cap_was_lowered_stops_it_instead_of_refusing() -> None:
    # nothing new is paid for on a reattach; refusing would leave the live job running unguarded
    attempts = [EarlierAttempt("rft-x", "Stopped", _spend(1.0, 300))]
    guard = guard_for_next_attempt(attempts, WaitGuard(max_grader_invocations=200), reattaching=True)
    assert guard.max_grader_invocations == 1


def test_a_spent_budget_is_named_with_the_money_spent() -> None:
    guard = WaitGuard(max_budget=50.0, prices=PRICES)
    attempt = _marked("rft-x", _spend(5.0, 100, 50.2), guard)
    with pytest.raises(
        RunSpendError, match=r"^max_budget=50 is already spent by this run \(50\.20 at the given"
    ):
        guard_for_next_attempt([attempt], guard)
