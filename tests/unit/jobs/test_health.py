"""Training-health checks: flat reward, length explosion and train/validation gap, by policy."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.health import HealthPolicy, assess_training, baseline_verdict
from bedrock_rft_provider.jobs.metrics import TrainingMetrics


def _metrics(
    rewards: list[float], lengths: list[float] | None = None, validation: float | None = None
) -> TrainingMetrics:
    metrics = TrainingMetrics()
    metrics.series["critic/rewards/mean"] = list(enumerate(rewards, 1))
    if lengths:
        metrics.series["response_length/mean"] = list(enumerate(lengths, 1))
    if validation is not None:
        metrics.series["val-score/rewards/mean@1"] = [(len(rewards), validation)]
    return metrics


def test_a_healthy_gsm8k_like_run_has_no_findings() -> None:
    report = assess_training(_metrics([0.5, 0.6, 0.7, 0.8, 0.85, 0.88], [625, 560, 500, 450, 420, 400], 0.86))
    assert report.healthy and not report.failed
    assert report.reward_start == pytest.approx(0.6) and report.reward_end == pytest.approx(
        (0.8 + 0.85 + 0.88) / 3
    )


def test_flat_reward_is_a_finding_that_warns_by_default() -> None:
    report = assess_training(_metrics([0.3, 0.31, 0.3, 0.29, 0.3, 0.3]))
    assert len(report.findings) == 1 and report.findings[0].startswith("flat reward")
    assert not report.failed


def test_flat_reward_fails_under_the_fail_policy() -> None:
    report = assess_training(_metrics([0.0] * 8), HealthPolicy(on_finding="fail"))
    assert report.failed


def test_length_explosion_is_reported() -> None:
    report = assess_training(_metrics([0.2, 0.4, 0.6, 0.8], [300, 400, 700, 900]))
    assert any(f.startswith("response length explosion") for f in report.findings)


def test_train_validation_gap_is_reported() -> None:
    report = assess_training(_metrics([0.2, 0.5, 0.8, 0.95], validation=0.5))
    assert any(f.startswith("train/validation gap") for f in report.findings)


def test_missing_metrics_is_a_note_not_a_finding() -> None:
    report = assess_training(TrainingMetrics())
    assert report.healthy and report.notes == ["no critic/rewards/mean curve to check (0 point(s) found)"]


def test_unknown_policy_is_rejected() -> None:
    with pytest.raises(ConfigError, match="on_finding"):
        HealthPolicy(on_finding="ignore")


@pytest.mark.parametrize(
    ("mean_reward", "train", "phrase"),
    [(0.97, False, "already scores"), (0.0, False, "SFT first"), (0.4, True, "Training")],
)
def test_baseline_verdict(mean_reward: float, train: bool, phrase: str) -> None:
    verdict = baseline_verdict(mean_reward)
    assert verdict.train is train and phrase in verdict.message
