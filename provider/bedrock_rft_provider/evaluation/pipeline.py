"""One evaluation end to end on local files: join, score, summarize, compare, write every output.

The CLI ``bedrock-rft evaluate`` and ``BedrockRFTEvaluationOperator`` both call :func:`evaluate`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation import records as records_mod
from bedrock_rft_provider.evaluation import report, scoring
from bedrock_rft_provider.evaluation import summary as summary_mod
from bedrock_rft_provider.evaluation.scoring import GradeFn, SampleResult

OUTPUT_FILES = ("summary.json", "results.jsonl", "report.md", "report.html")
# Every file evaluate() may write (a CLI --output folder holding only these may be replaced).
WRITTEN_FILES = (*OUTPUT_FILES, "baseline_results.jsonl")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _jsonl(results: Sequence[SampleResult]) -> str:
    return "".join(json.dumps(r.as_dict(), ensure_ascii=False, sort_keys=True) + "\n" for r in results)


def load_results(path: str | Path) -> list[SampleResult]:
    """Read a ``results.jsonl`` written by a previous evaluation."""
    out: list[SampleResult] = []
    for line_no, obj in records_mod.json_lines_of(path):
        try:
            out.append(SampleResult.from_dict(obj))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{path}:{line_no}", f"not a result record ({exc})") from exc
    return out


def score_responses(
    records: Sequence[records_mod.EvalRecord],
    responses_path: str | Path,
    grader: GradeFn,
    *,
    batch_size: int = 25,
    grader_workers: int = 1,
) -> list[SampleResult]:
    """Join responses on record id and score them; every record must have a response."""
    responses = records_mod.load_responses(responses_path)
    pairs, _unmatched = records_mod.join_responses(records, responses, source=str(responses_path))
    return scoring.score(pairs, grader, batch_size=batch_size, max_workers=grader_workers)


def evaluate(
    *,
    dataset_path: str | Path,
    responses_path: str | Path,
    grader: GradeFn,
    output_dir: str | Path,
    baseline_responses_path: str | Path | None = None,
    baseline_results_path: str | Path | None = None,
    baseline_summary: Mapping[str, Any] | None = None,
    success_threshold: float = 1.0,
    seed: int = 0,
    resamples: int = 2000,
    slice_field: str | None = None,
    training_curve: report.TrainingCurve | None = None,
    model_id: str | None = None,
    baseline_model_id: str | None = None,
    sandbox: bool = False,
    batch_size: int = 25,
    grader_workers: int = 1,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Score ``responses_path`` (and a baseline, if given) and write the outputs; returns the summary.

    A baseline comes from responses to score (``baseline_responses_path``), from a previous run's
    ``results.jsonl`` (paired) or from its ``summary.json`` alone (unpaired delta only).
    Re-running with the same inputs rewrites the same files (idempotent).
    """
    if baseline_responses_path and baseline_results_path:
        raise ConfigError("baseline", "give baseline responses or baseline results, not both")
    output_dir = Path(output_dir)
    records = records_mod.load_dataset(dataset_path)
    opts: dict[str, Any] = {"batch_size": batch_size, "grader_workers": grader_workers}
    results = score_responses(records, responses_path, grader, **opts)
    summary = summary_mod.summarize(
        results, success_threshold=success_threshold, seed=seed, resamples=resamples, slice_field=slice_field
    )
    summary["model_id"] = model_id
    summary["sandbox"] = sandbox

    baseline_results: list[SampleResult] | None = None
    if baseline_responses_path:
        baseline_results = score_responses(records, baseline_responses_path, grader, **opts)
    elif baseline_results_path:
        baseline_results = load_results(baseline_results_path)
    if baseline_results is not None:
        base_summary = summary_mod.summarize(
            baseline_results,
            success_threshold=success_threshold,
            seed=seed,
            resamples=resamples,
            slice_field=summary.get("slice_field"),
        )
        base_summary["model_id"] = baseline_model_id or (baseline_summary or {}).get("model_id")
        summary = summary_mod.compare(summary, results, base_summary, baseline_results, seed=seed)
    elif baseline_summary is not None:
        summary = summary_mod.compare(summary, results, baseline_summary, None, seed=seed)
    if extra:
        summary.update(extra)

    # Render everything before writing anything: a failure (a plot, a non-JSON value) writes nothing.
    texts = {"results.jsonl": _jsonl(results)}
    if baseline_results is not None and baseline_responses_path:
        texts["baseline_results.jsonl"] = _jsonl(baseline_results)
    texts.update(report.render_reports(summary, results, baseline_results, training_curve))
    try:
        texts["summary.json"] = json.dumps(summary, indent=2, sort_keys=True, allow_nan=False) + "\n"
    except ValueError as exc:
        raise ConfigError("reward", f"scores overflow to a non-finite summary ({exc})") from exc
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():  # summary.json last: its presence means the set is complete
        _write_atomic(output_dir / name, text)
    return summary
