"""Statistics against hand-computed binomial values and textbook properties; seeded reproducibility."""

from __future__ import annotations

import math

import pytest

from bedrock_rft_provider.evaluation import stats


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [
        (0, 5, 2 / 32),  # 2 * C(5,0) / 2^5
        (1, 10, 2 * (1 + 10) / 1024),
        (9, 10, 2 * (1 + 10) / 1024),  # symmetric
        (5, 10, 1.0),  # doubled tail capped at 1
        (0, 0, 1.0),
        (3, 20, 2 * (1 + 20 + 190 + 1140) / 2**20),
    ],
)
def test_binomial_two_sided_matches_hand_computed_values(k: int, n: int, expected: float) -> None:
    assert stats.binomial_two_sided(k, n) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("b", "c", "p_exact", "p_mid"),
    [
        # b=1, c=5: n=6, P(X<=1) = 7/64; exact 14/64, mid-p 14/64 - C(6,1)/64 = 8/64.
        (1, 5, 14 / 64, 8 / 64),
        # b=2, c=10: n=12, P(X<=2) = (1+12+66)/4096; exact 158/4096, mid-p (158-66)/4096.
        (2, 10, 158 / 4096, 92 / 4096),
        (10, 2, 158 / 4096, 92 / 4096),
        (3, 3, 1.0, 1.0),
        (0, 0, 1.0, 1.0),
    ],
)
def test_mcnemar_exact_and_mid_p_on_known_tables(b: int, c: int, p_exact: float, p_mid: float) -> None:
    result = stats.mcnemar(b, c)
    assert result.p_exact == pytest.approx(p_exact, rel=1e-12)
    assert result.p_mid == pytest.approx(p_mid, rel=1e-12)


def test_sign_test_drops_ties() -> None:
    challenger = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]
    baseline = [0.1, 0.1, 0.1, 0.1, 0.1, 0.4, 0.3]  # 5 wins, 0 losses, 2 ties
    assert stats.sign_test(challenger, baseline) == pytest.approx(2 / 32)


def test_bootstrap_is_reproducible_under_a_seed() -> None:
    values = [(i * 37 % 11) / 10 for i in range(200)]
    first = stats.bootstrap_mean_ci(values, seed=7)
    assert stats.bootstrap_mean_ci(values, seed=7) == first
    assert stats.bootstrap_mean_ci(values, seed=8) != first
    low, high = first
    assert low < sum(values) / len(values) < high


def test_bootstrap_of_a_constant_is_that_constant() -> None:
    assert stats.bootstrap_mean_ci([0.25] * 30, seed=0) == (0.25, 0.25)


def test_bootstrap_ci_matches_the_normal_approximation_for_a_large_bernoulli_sample() -> None:
    values = [1.0] * 200 + [0.0] * 200
    low, high = stats.bootstrap_mean_ci(values, seed=0, resamples=4000)
    half_width = 1.96 * math.sqrt(0.25 / 400)  # textbook Wald interval: 0.5 +- 0.049
    assert low == pytest.approx(0.5 - half_width, abs=0.008)
    assert high == pytest.approx(0.5 + half_width, abs=0.008)


def test_paired_comparison_uses_mcnemar_for_binary_rewards() -> None:
    baseline = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    challenger = [1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0]
    result = stats.paired_comparison(challenger, baseline, seed=0)
    assert (result.wins, result.losses, result.ties) == (5, 1, 6)
    assert result.test == "mcnemar_exact"
    assert result.p_value == pytest.approx(14 / 64)
    assert result.delta == pytest.approx(4 / 12)
    assert result.delta_ci95[0] <= result.delta <= result.delta_ci95[1]
    assert stats.paired_comparison(challenger, baseline, seed=0).delta_ci95 == result.delta_ci95


def test_paired_comparison_uses_the_sign_test_for_graded_rewards() -> None:
    result = stats.paired_comparison([0.5, 0.75, 1.0], [0.25, 0.5, 0.25], seed=0)
    assert result.test == "sign_test" and result.p_value == pytest.approx(2 / 8)


def test_accuracy_counts_scores_at_or_above_the_threshold() -> None:
    assert stats.accuracy([1.0, 0.8, 0.5, 0.0], threshold=0.8) == 0.5


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"), [(5, 2, 1, 0.4), (5, 2, 5, 1.0), (5, 0, 3, 0.0), (4, 1, 2, 0.5)]
)
def test_pass_at_k_unbiased_estimator(n: int, c: int, k: int, expected: float) -> None:
    assert stats.pass_at_k(n, c, k) == pytest.approx(expected)


def test_component_means_average_over_samples_that_report_each_metric() -> None:
    assert stats.component_means([{"a": 1.0, "b": 0.0}, {"a": 0.0}]) == {"a": 0.5, "b": 0.0}
