"""Training health: whether to train at all, and the warning signs of a run not worth deploying.

The signs come from AWS's RFT best-practice guidance (facts §4): a flat reward curve (the grader
gives no signal), response-length explosion (verbosity hacking), a train/validation reward gap
(overfitting), entropy collapse (the policy stopped exploring) and a growing gradient norm (unstable
updates). The last two need the ``actor/entropy`` and ``actor/grad_norm`` curves, which the open-weight
backend reports in its metric events; where a backend does not report them the checks are skipped.
Each check reports what it saw; the policy decides whether a finding warns or fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.metrics import (
    ENTROPY,
    GRAD_NORM,
    RESPONSE_LENGTH,
    TRAIN_REWARD,
    VALIDATION_REWARD,
    TrainingMetrics,
)

POLICIES = ("warn", "fail")
# The checks by name, as ``HealthReport.checks`` reports them (and per-check wait policies name them).
FLAT_REWARD = "flat_reward"
LENGTH_EXPLOSION = "length_explosion"
TRAIN_VALIDATION_GAP = "train_validation_gap"
ENTROPY_COLLAPSE = "entropy_collapse"
GRAD_NORM_BLOWUP = "grad_norm_blowup"
CHECKS = (FLAT_REWARD, LENGTH_EXPLOSION, TRAIN_VALIDATION_GAP, ENTROPY_COLLAPSE, GRAD_NORM_BLOWUP)


@dataclass(frozen=True)
class HealthPolicy:
    """Thresholds of the checks, and what a finding does (``warn`` or ``fail``)."""

    on_finding: str = "warn"
    min_reward_gain: float = 0.02
    max_length_growth: float = 0.5
    max_train_validation_gap: float = 0.15
    # Entropy collapse: the end of the curve below this share of its start (healthy runs keep ~0.8-1.1).
    min_entropy_ratio: float = 0.1
    # Gradient-norm blow-up: the end of the curve above this multiple of its start.
    max_grad_norm_growth: float = 10.0
    window: int = 3

    def __post_init__(self) -> None:
        if self.on_finding not in POLICIES:
            raise ConfigError("on_finding", f"{self.on_finding!r} is not one of {', '.join(POLICIES)}")
        if self.window < 1:
            raise ConfigError("window", f"must be at least 1, got {self.window}")


@dataclass
class HealthReport:
    """What the checks found. ``failed`` is True when a finding must fail the task under the policy.

    ``checks[i]`` names the check (one of ``CHECKS``) behind ``findings[i]``.
    """

    findings: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reward_start: float | None = None
    reward_end: float | None = None
    on_finding: str = "warn"

    def find(self, check: str, message: str) -> None:
        """Record a finding of ``check``."""
        self.checks.append(check)
        self.findings.append(message)

    def by_check(self) -> dict[str, str]:
        """Check name -> its finding, for the checks that found something."""
        return dict(zip(self.checks, self.findings, strict=True))

    @property
    def healthy(self) -> bool:
        return not self.findings

    @property
    def failed(self) -> bool:
        return bool(self.findings) and self.on_finding == "fail"

    def as_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "failed": self.failed,
            "findings": list(self.findings),
            "checks": list(self.checks),
            "notes": list(self.notes),
            "reward_start": self.reward_start,
            "reward_end": self.reward_end,
        }


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def assess_training(metrics: TrainingMetrics, policy: HealthPolicy | None = None) -> HealthReport:
    """Check the reward curve, response length and train/validation gap of one job's metrics."""
    policy = policy or HealthPolicy()
    report = HealthReport(on_finding=policy.on_finding)
    _check_stability(metrics, policy, report)
    rewards = metrics.values(TRAIN_REWARD)
    if len(rewards) < 2:
        report.notes.append(f"no {TRAIN_REWARD} curve to check ({len(rewards)} point(s) found)")
        return report
    window = min(policy.window, len(rewards) // 2) or 1
    start, end = _mean(rewards[:window]), _mean(rewards[-window:])
    report.reward_start, report.reward_end = start, end
    report.notes.append(f"train reward {start:.3f} -> {end:.3f} over {len(rewards)} steps")
    if end - start < policy.min_reward_gain:
        report.find(
            FLAT_REWARD,
            f"flat reward: {TRAIN_REWARD} moved {end - start:+.3f} (from {start:.3f} to {end:.3f}); "
            f"expected at least +{policy.min_reward_gain:.3f}. Check that the grader can tell good "
            "answers from bad (run the reward preflight) and that the base model is not already at 0 or 1.",
        )
    lengths = metrics.values(RESPONSE_LENGTH)
    if len(lengths) >= 2:
        first, last = _mean(lengths[:window]), _mean(lengths[-window:])
        growth = (last - first) / first if first > 0 else 0.0
        report.notes.append(f"response length {first:.0f} -> {last:.0f}")
        if growth > policy.max_length_growth:
            report.find(
                LENGTH_EXPLOSION,
                f"response length explosion: mean length grew {growth:+.0%} ({first:.0f} -> {last:.0f}); "
                f"allowed {policy.max_length_growth:+.0%}. The policy may be padding answers to game the "
                "reward (add a length penalty).",
            )
    validation = metrics.values(VALIDATION_REWARD)
    if validation:
        gap = end - validation[-1]
        report.notes.append(f"validation reward {validation[-1]:.3f} (train {end:.3f})")
        if gap > policy.max_train_validation_gap:
            report.find(
                TRAIN_VALIDATION_GAP,
                f"train/validation gap: train reward {end:.3f} vs validation {validation[-1]:.3f} "
                f"(gap {gap:.3f} > {policy.max_train_validation_gap:.3f}): likely overfitting; use fewer "
                "epochs or more data.",
            )
    return report


def _ends(values: list[float], window: int) -> tuple[float, float]:
    size = min(window, len(values) // 2) or 1
    return _mean(values[:size]), _mean(values[-size:])


def _check_stability(metrics: TrainingMetrics, policy: HealthPolicy, report: HealthReport) -> None:
    """Entropy collapse and gradient-norm blow-up, when the job reported those curves."""
    entropy = metrics.values(ENTROPY)
    if len(entropy) >= 2:
        first, last = _ends(entropy, policy.window)
        report.notes.append(f"entropy {first:.3f} -> {last:.3f}")
        if first > 0 and last < first * policy.min_entropy_ratio:
            report.find(
                ENTROPY_COLLAPSE,
                f"entropy collapse: {ENTROPY} fell from {first:.3f} to {last:.3f} (below "
                f"{policy.min_entropy_ratio:.0%} of its start). The policy stopped exploring and answers "
                "one way; lower the learning rate or epochs, or check the reward for an exploitable "
                "shortcut.",
            )
    grad_norm = metrics.values(GRAD_NORM)
    if len(grad_norm) >= 2:
        first, last = _ends(grad_norm, policy.window)
        report.notes.append(f"gradient norm {first:.3g} -> {last:.3g}")
        if first > 0 and last > first * policy.max_grad_norm_growth:
            report.find(
                GRAD_NORM_BLOWUP,
                f"gradient-norm blow-up: {GRAD_NORM} grew from {first:.3g} to {last:.3g} (above "
                f"{policy.max_grad_norm_growth:g}x its start). Training is unstable; lower the learning "
                "rate.",
            )


@dataclass(frozen=True)
class BaselineVerdict:
    """Whether RFT is worth paying for, given the base model's mean reward on a sample."""

    train: bool
    message: str


def baseline_verdict(
    mean_reward: float, *, skip_above: float = 0.95, skip_below: float = 0.02
) -> BaselineVerdict:
    """Bedrock's guidance (facts §4): above ~95% RFT is not needed; at ~0% the model needs SFT first."""
    if mean_reward >= skip_above:
        return BaselineVerdict(
            False,
            f"Skipping training: the base model already scores {mean_reward:.3f} >= {skip_above:.3f}; "
            "RFT has little left to gain.",
        )
    if mean_reward <= skip_below:
        return BaselineVerdict(
            False,
            f"Skipping training: the base model scores {mean_reward:.3f} <= {skip_below:.3f}; with almost no "
            "reward signal RFT cannot learn. Fine-tune with SFT first, or check the grader and prompts.",
        )
    return BaselineVerdict(
        True,
        f"Training: the base model scores {mean_reward:.3f}, inside ({skip_below:.3f}, {skip_above:.3f}).",
    )
