"""Evaluation statistics: bootstrap CIs, accuracy, paired comparison and exact paired tests (seeded)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import numpy as np

DEFAULT_RESAMPLES = 2000
# Resample in blocks so 20,000 prompts x 2,000 resamples never needs a 300 MB index matrix.
_BLOCK = 200


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")


def _bootstrap_means(values: np.ndarray, *, seed: int, resamples: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(values)
    means = np.empty(resamples)
    for start in range(0, resamples, _BLOCK):
        size = min(_BLOCK, resamples - start)
        idx = rng.integers(0, n, size=(size, n))
        means[start : start + size] = values[idx].mean(axis=1)
    return means


def bootstrap_mean_ci(
    values: Sequence[float], *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean; the same seed gives the same interval."""
    _check_level(level)
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("cannot bootstrap an empty sample")
    means = _bootstrap_means(data, seed=seed, resamples=resamples)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def paired_bootstrap_ci(
    challenger: Sequence[float],
    baseline: Sequence[float],
    *,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = 0.95,
) -> tuple[float, float]:
    """Bootstrap CI of mean(challenger - baseline), resampling prompts (pairs) together."""
    if len(challenger) != len(baseline):
        raise ValueError(f"paired samples differ in length: {len(challenger)} vs {len(baseline)}")
    diffs = np.asarray(challenger, dtype=float) - np.asarray(baseline, dtype=float)
    return bootstrap_mean_ci(diffs.tolist(), seed=seed, resamples=resamples, level=level)


def accuracy(scores: Iterable[float], threshold: float = 1.0) -> float:
    """Share of scores at or above ``threshold``."""
    values = list(scores)
    if not values:
        raise ValueError("accuracy of an empty sample")
    return sum(1 for v in values if v >= threshold) / len(values)


def component_means(metrics: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Mean of each named metric over the samples that report it."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for entry in metrics:
        for name, value in entry.items():
            sums[name] = sums.get(name, 0.0) + value
            counts[name] = counts.get(name, 0) + 1
    return {name: sums[name] / counts[name] for name in sorted(sums)}


def length_stats(lengths: Sequence[int]) -> dict[str, float]:
    """Mean, median, 90th percentile, min and max of response lengths."""
    if not lengths:
        return {"mean": 0.0, "median": 0.0, "p90": 0.0, "min": 0.0, "max": 0.0}
    data = np.asarray(lengths, dtype=float)
    return {
        "mean": float(data.mean()),
        "median": float(np.median(data)),
        "p90": float(np.quantile(data, 0.9)),
        "min": float(data.min()),
        "max": float(data.max()),
    }


def binomial_two_sided(k: int, n: int) -> float:
    """Exact two-sided p-value of ``k`` successes in ``n`` fair coin flips (doubled smaller tail)."""
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(k, n - k) + 1))
    return float(min(Fraction(1), Fraction(2 * tail, 2**n)))


def sign_test(challenger: Sequence[float], baseline: Sequence[float]) -> float:
    """Exact two-sided sign test on paired scores; ties are dropped."""
    wins = sum(1 for c, b in zip(challenger, baseline, strict=True) if c > b)
    losses = sum(1 for c, b in zip(challenger, baseline, strict=True) if c < b)
    return binomial_two_sided(wins, wins + losses)


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test on the discordant cells: ``b`` only baseline right, ``c`` only challenger right."""

    b: int
    c: int
    p_exact: float
    p_mid: float


def mcnemar(b: int, c: int) -> McNemarResult:
    """Exact (binomial) and mid-p McNemar test for a 2x2 table's discordant cells ``b`` and ``c``."""
    n = b + c
    if n == 0:
        return McNemarResult(b, c, 1.0, 1.0)
    k = min(b, c)
    p_exact = binomial_two_sided(k, n)
    # mid-p (Fagerland et al. 2013): 2 * [P(X <= k) - P(X = k) / 2], capped at 1.
    point = Fraction(math.comb(n, k), 2**n)
    p_mid = float(min(Fraction(1), 2 * Fraction(sum(math.comb(n, i) for i in range(k + 1)), 2**n) - point))
    return McNemarResult(b, c, p_exact, p_mid)


def is_binary(values: Iterable[float]) -> bool:
    return all(v in (0.0, 1.0) for v in values)


@dataclass(frozen=True)
class PairedComparison:
    """Challenger minus baseline on the same prompts."""

    n: int
    delta: float
    delta_ci95: tuple[float, float]
    test: str
    p_value: float
    wins: int
    losses: int
    ties: int

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["delta_ci95"] = list(self.delta_ci95)
        return out


def paired_comparison(
    challenger: Sequence[float],
    baseline: Sequence[float],
    *,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
) -> PairedComparison:
    """Paired delta, paired-bootstrap 95% CI and McNemar (binary rewards) or sign test (otherwise)."""
    if len(challenger) != len(baseline) or not challenger:
        raise ValueError(f"need equal, non-empty paired samples: {len(challenger)} vs {len(baseline)}")
    wins = sum(1 for c, b in zip(challenger, baseline, strict=True) if c > b)
    losses = sum(1 for c, b in zip(challenger, baseline, strict=True) if c < b)
    if is_binary(challenger) and is_binary(baseline):
        test, p_value = "mcnemar_exact", mcnemar(losses, wins).p_exact
    else:
        test, p_value = "sign_test", sign_test(challenger, baseline)
    delta = float(np.mean(np.asarray(challenger, dtype=float) - np.asarray(baseline, dtype=float)))
    return PairedComparison(
        n=len(challenger),
        delta=delta,
        delta_ci95=paired_bootstrap_ci(challenger, baseline, seed=seed, resamples=resamples),
        test=test,
        p_value=p_value,
        wins=wins,
        losses=losses,
        ties=len(challenger) - wins - losses,
    )


def pass_at_k(n: int, correct: int, k: int) -> float:
    """Unbiased pass@k estimate from ``n`` samples of which ``correct`` succeeded (Chen et al., 2021)."""
    if k > n:
        raise ValueError(f"k={k} is larger than the number of samples n={n}")
    if n - correct < k:
        return 1.0
    return 1.0 - math.comb(n - correct, k) / math.comb(n, k)
