"""Turn per-sample results into ``summary.json`` (fields fixed by DESIGN.md) and compare with a baseline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bedrock_rft_provider.evaluation import stats
from bedrock_rft_provider.evaluation.scoring import SampleResult

# Metadata fields used to slice accuracy when the caller names none, in order of preference.
SLICE_FIELD_CANDIDATES = ("slice", "category", "subject", "difficulty", "source", "task")


def per_prompt_scores(results: Sequence[SampleResult]) -> dict[str, float]:
    """Mean score per prompt id (over its samples), in first-seen order."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for result in results:
        sums[result.id] = sums.get(result.id, 0.0) + result.score
        counts[result.id] = counts.get(result.id, 0) + 1
    return {key: sums[key] / counts[key] for key in sums}


def pick_slice_field(results: Sequence[SampleResult], requested: str | None = None) -> str | None:
    """The metadata field to slice by: the requested one, else the first common candidate present."""
    if requested:
        return requested
    for candidate in SLICE_FIELD_CANDIDATES:
        if results and all(candidate in r.metadata for r in results):
            return candidate
    return None


def slice_table(results: Sequence[SampleResult], field: str, threshold: float) -> dict[str, dict[str, float]]:
    """Per-slice n, mean reward and accuracy for metadata field ``field``."""
    groups: dict[str, list[float]] = {}
    for result in results:
        groups.setdefault(str(result.metadata.get(field, "(none)")), []).append(result.score)
    return {
        name: {
            "n": len(scores),
            "mean_reward": sum(scores) / len(scores),
            "accuracy": stats.accuracy(scores, threshold),
        }
        for name, scores in sorted(groups.items())
    }


def summarize(
    results: Sequence[SampleResult],
    *,
    success_threshold: float = 1.0,
    seed: int = 0,
    resamples: int = stats.DEFAULT_RESAMPLES,
    slice_field: str | None = None,
) -> dict[str, Any]:
    """Summary of one model's results: n, mean_reward, accuracy, ci95, metrics and more."""
    if not results:
        raise ValueError("no results to summarize")
    scores = [r.score for r in results]
    prompt_scores = per_prompt_scores(results)
    samples_per_prompt = max(1, round(len(results) / len(prompt_scores)))
    errors = sum(1 for r in results if r.error)
    # Samples of one prompt are correlated: the CI resamples prompts, not samples.
    ci = stats.bootstrap_mean_ci(list(prompt_scores.values()), seed=seed, resamples=resamples)
    summary: dict[str, Any] = {
        "n": len(results),
        "n_prompts": len(prompt_scores),
        "samples_per_prompt": samples_per_prompt,
        "mean_reward": sum(scores) / len(scores),
        "accuracy": stats.accuracy(scores, success_threshold),
        "success_threshold": success_threshold,
        "ci95": [ci[0], ci[1]],
        "metrics": stats.component_means(r.metrics for r in results),
        "response_length": stats.length_stats([r.response_length for r in results if not r.error]),
        "errors": errors,
        "error_rate": errors / len(results),
        "seed": seed,
    }
    if samples_per_prompt > 1:
        correct: dict[str, list[int]] = {}
        for r in results:
            correct.setdefault(r.id, []).append(int(r.score >= success_threshold))
        k_values = sorted({1, samples_per_prompt})
        summary["pass_at_k"] = {
            f"pass@{k}": sum(stats.pass_at_k(len(c), sum(c), k) for c in correct.values()) / len(correct)
            for k in k_values
        }
    field = pick_slice_field(results, slice_field)
    if field:
        summary["slice_field"] = field
        summary["slices"] = slice_table(results, field, success_threshold)
    return summary


_BASELINE_FIELDS = (
    "n",
    "n_prompts",
    "mean_reward",
    "accuracy",
    "ci95",
    "metrics",
    "response_length",
    "errors",
    "error_rate",
    "pass_at_k",
    "slices",
    "model_id",
)


def compare(
    summary: Mapping[str, Any],
    results: Sequence[SampleResult],
    baseline_summary: Mapping[str, Any],
    baseline_results: Sequence[SampleResult] | None,
    *,
    seed: int = 0,
    resamples: int = stats.DEFAULT_RESAMPLES,
) -> dict[str, Any]:
    """Add ``baseline``, ``delta``, ``delta_ci95`` and ``p_value`` to ``summary`` (returns a new dict).

    With per-prompt baseline results the comparison is paired on the prompts both evaluated; with a
    baseline summary alone only the delta of means is known (CI and p-value are then ``None``).
    """
    out = dict(summary)
    out["baseline"] = {k: baseline_summary[k] for k in _BASELINE_FIELDS if k in baseline_summary}
    if baseline_results:
        tuned = per_prompt_scores(results)
        base = per_prompt_scores(baseline_results)
        common = [key for key in tuned if key in base]
        if not common:
            raise ValueError("the challenger and the baseline share no prompt ids: nothing to pair")
        comparison = stats.paired_comparison(
            [tuned[k] for k in common], [base[k] for k in common], seed=seed, resamples=resamples
        )
        out.update(
            {
                "delta": comparison.delta,
                "delta_ci95": list(comparison.delta_ci95),
                "p_value": comparison.p_value,
                "paired": {
                    "n": comparison.n,
                    "test": comparison.test,
                    "wins": comparison.wins,
                    "losses": comparison.losses,
                    "ties": comparison.ties,
                    "unpaired_prompts": len(tuned) + len(base) - 2 * len(common),
                },
            }
        )
    else:
        out.update(
            {
                "delta": float(summary["mean_reward"]) - float(baseline_summary["mean_reward"]),
                "delta_ci95": None,
                "p_value": None,
                "paired": None,
            }
        )
    return out
