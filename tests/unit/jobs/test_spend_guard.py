"""The wait's spend guard: spend so far (hand-computed), when it stops, per-check health actions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.budget import SpendCaps
from bedrock_rft_provider.jobs.health import ENTROPY_COLLAPSE, FLAT_REWARD, assess_training
from bedrock_rft_provider.jobs.metrics import ENTROPY, TRAIN_REWARD, VALIDATION_REWARD, TrainingMetrics
from bedrock_rft_provider.jobs.spend_guard import (
    WaitGuard,
    judge,
    native_hyperparameters,
    native_training_seconds,
    observe,
    openweight_batch_size,
    openweight_training_seconds,
)

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)


def _metrics(rewards: list[float], validation: list[float] | None = None) -> TrainingMetrics:
    metrics = TrainingMetrics()
    metrics.series[TRAIN_REWARD] = list(enumerate(rewards, 1))
    if validation:
        metrics.series[VALIDATION_REWARD] = [(5 * (i + 1), v) for i, v in enumerate(validation)]
    return metrics


def test_spend_is_steps_times_batch_times_samples_plus_validation_passes() -> None:
    guard = WaitGuard(max_grader_invocations=10_000, validation_records=20, samples_per_invocation=8)
    spend = observe(
        _metrics([0.2, 0.3, 0.4], validation=[0.3, 0.4]),
        training_seconds=5400,
        guard=guard,
        batch_size=16,
        samples_per_prompt=4,
    )
    # 3 steps x 16 prompts x 4 samples + 2 validation passes x 20 records = 192 + 40
    assert spend.graded_samples == 232
    assert spend.grader_invocations == 29  # ceil(232 / 8)
    assert spend.training_hours == pytest.approx(1.5)
    assert spend.steps == 3 and spend.money is None


def test_money_uses_only_the_given_prices() -> None:
    prices = {"training_hour": 20.0, "grader_million_requests": 1000.0, "input_million_tokens": 3.0}
    guard = WaitGuard(max_budget=100, prices={**prices, "currency": "EUR"})
    spend = observe(_metrics([0.1] * 10), training_seconds=7200, guard=guard, batch_size=8)
    # 10 x 8 x 4 (default samples per prompt) = 320 invocations; 2 h x 20 + 320 x 1000 / 1e6
    # (evaluation tokens are not spent during training: their price is accepted and not counted)
    assert spend.grader_invocations == 320
    assert spend.money == pytest.approx(40.32)


def test_the_guards_batch_size_wins_over_the_jobs() -> None:
    guard = WaitGuard(max_training_hours=1, batch_size=2, samples_per_prompt=3)
    spend = observe(_metrics([0.1] * 4), training_seconds=0, guard=guard, batch_size=64, samples_per_prompt=8)
    assert spend.graded_samples == 4 * 2 * 3


@pytest.mark.parametrize(
    ("guard", "seconds", "steps", "reason"),
    [
        (WaitGuard(max_training_hours=2), 7200, 1, "max_training_hours=2 reached"),
        (WaitGuard(max_grader_invocations=100), 0, 2, "max_grader_invocations=100 reached"),
        (
            WaitGuard(max_budget=5, prices={"training_hour": 10.0}),
            1800,
            1,
            "max_budget=5 reached (5.00 at the given prices)",
        ),
    ],
)
def test_each_cap_stops_at_its_limit_and_not_before(
    guard: WaitGuard, seconds: float, steps: int, reason: str
) -> None:
    # batch 16 x 4 samples = 64 invocations per step: 2 steps = 128 >= 100, 1 step = 64 < 100.
    crossed = observe(_metrics([0.5] * steps), training_seconds=seconds, guard=guard, batch_size=16)
    verdict = judge(crossed, _metrics([0.5] * steps), guard)
    assert verdict.stop and reason in verdict.reasons[0]
    assert "Spent so far" in verdict.message("job-1") and "job-1" in verdict.message("job-1")
    below = observe(_metrics([0.5]), training_seconds=seconds / 2, guard=guard, batch_size=16)
    assert not judge(below, _metrics([0.5]), guard).stop


def test_health_stop_waits_for_min_steps_then_stops_a_flat_run() -> None:
    guard = WaitGuard(health={FLAT_REWARD: "stop"}, min_health_steps=6)
    early = _metrics([0.0] * 5)
    assert not judge(observe(early, training_seconds=0, guard=guard), early, guard).stop
    flat = _metrics([0.0] * 6)
    verdict = judge(observe(flat, training_seconds=0, guard=guard), flat, guard)
    assert verdict.stop and verdict.reasons[0].startswith("health check flat_reward (policy stop)")


def test_a_learning_run_is_not_stopped_and_warn_only_warns() -> None:
    guard = WaitGuard(health={FLAT_REWARD: "stop"}, min_health_steps=4)
    learning = _metrics([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert not judge(observe(learning, training_seconds=0, guard=guard), learning, guard).stop
    warn = WaitGuard(max_training_hours=10, min_health_steps=4)  # flat_reward defaults to warn
    flat = _metrics([0.3] * 6)
    verdict = judge(observe(flat, training_seconds=0, guard=warn), flat, warn)
    assert not verdict.stop and verdict.warnings[0].startswith("health check flat_reward")
    off = WaitGuard(max_training_hours=10, min_health_steps=4, health={FLAT_REWARD: "off"})
    assert judge(observe(flat, training_seconds=0, guard=off), flat, off).warnings == ()


def test_health_report_names_the_check_behind_each_finding() -> None:
    metrics = _metrics([0.3] * 6)
    metrics.series[ENTROPY] = list(enumerate([1.0, 1.0, 1.0, 0.01, 0.01, 0.01], 1))
    report = assess_training(metrics)
    assert set(report.by_check()) == {FLAT_REWARD, ENTROPY_COLLAPSE}
    assert report.as_dict()["checks"] == report.checks


def test_active_only_when_something_can_stop() -> None:
    assert not WaitGuard().active
    assert not WaitGuard(health={FLAT_REWARD: "warn"}).active
    assert WaitGuard(health={FLAT_REWARD: "stop"}).active
    assert WaitGuard(max_grader_invocations=1).active


def test_from_dict_coerces_rendered_params_and_round_trips() -> None:
    guard = WaitGuard.from_dict(
        {
            "max_budget": "250.5",
            "max_training_hours": "None",
            "max_grader_invocations": "5000",
            "prices": {"training_hour": "12"},
            "health": {"flat_reward": "stop"},
        }
    )
    assert guard.max_budget == 250.5 and guard.max_training_hours is None
    assert guard.max_grader_invocations == 5000 and guard.prices == {"training_hour": 12.0}
    assert WaitGuard.from_dict(guard.to_dict()) == guard


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"max_budget": 10}, "max_budget"),  # no prices
        ({"max_training_hours": -1}, "max_training_hours"),
        ({"max_grader_invocations": "many"}, "max_grader_invocations"),
        ({"health": {"flat_reward": "fail"}}, "health.flat_reward"),
        ({"health": {"vibes": "stop"}}, "health.vibes"),
        ({"prices": {"per_token": 1}}, "prices.per_token"),
        ({"max_budget": 10, "prices": {"input_million_tokens": 1}}, "max_budget"),
        ({"max_hours": 1}, "spend_guard"),
    ],
)
def test_bad_guards_name_the_field(values: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as raised:
        WaitGuard.from_dict(values)
    assert field in str(raised.value)


def test_training_time_comes_from_the_services_timestamps() -> None:
    running = {
        "creationTime": T0,
        "statusDetails": {"trainingDetails": {"creationTime": T0 + timedelta(hours=1)}},
    }
    assert native_training_seconds(running, now=T0 + timedelta(hours=3)) == 7200
    ended = {**running, "endTime": T0 + timedelta(hours=2)}
    assert native_training_seconds(ended, now=T0 + timedelta(hours=9)) == 3600
    assert native_training_seconds({"creationTime": T0}, now=T0 + timedelta(minutes=30)) == 1800
    assert openweight_training_seconds({"created_at": 1000}, now=4600) == 3600
    assert openweight_training_seconds({"created_at": 1000, "finished_at": 2800}, now=9999) == 1800


def test_hyperparameters_are_read_from_either_job_shape() -> None:
    native = {"customizationConfig": {"rftConfig": {"hyperParameters": {"batchSize": 32}}}}
    assert native_hyperparameters(native) == (32, None)
    openweight = {"method": {"reinforcement": {"hyperparameters": {"batch_size": 4}}}}
    assert openweight_batch_size(openweight) == 4
    assert openweight_batch_size({"method": None}) is None


def test_a_job_that_reports_no_batch_size_still_counts_invocations_toward_the_cap() -> None:
    """With neither the guard nor the job naming a batch size, 0 prompts per step were counted: no
    invocations, no money, and max_grader_invocations never stopped the job."""
    guard = WaitGuard(max_grader_invocations=1000, prices={"grader_million_requests": 1.0})
    spend = observe(_metrics([0.5] * 4), training_seconds=0, guard=guard, batch_size=None)
    assert spend.graded_samples == 4 * 64 * 4  # the forecast's assumed 64 prompts x 4 samples per step
    assert spend.money is not None and spend.money > 0
    assert judge(spend, _metrics([0.5] * 4), guard).stop


@pytest.mark.parametrize(
    "caps",
    [
        {"max_training_hours": -1},
        {"max_budget": "lots"},
        {"max_grader_invocations": "2.5"},
        {"max_grader_invocations": 0},
    ],
)
def test_a_bad_cap_reads_the_same_at_submission_and_while_waiting(caps: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as at_submission:
        SpendCaps.from_params(caps)
    with pytest.raises(ConfigError) as while_waiting:
        WaitGuard.from_dict({**caps, "prices": {"training_hour": 1.0}})
    assert str(while_waiting.value) == str(at_submission.value)


def test_rendered_caps_become_the_same_numbers_in_the_guard() -> None:
    params = {"max_training_hours": "6", "max_grader_invocations": "40000"}
    guard = WaitGuard.from_dict(params)
    assert guard.as_dict() == SpendCaps.from_params(params).as_dict()
    assert isinstance(guard.max_grader_invocations, int) and guard.any
