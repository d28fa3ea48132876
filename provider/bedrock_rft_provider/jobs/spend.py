"""Where the forecast's inputs come from (dataset report, preflight report, champion record) and the
actual spend of a finished run, set against its forecast so users can calibrate.

Pure: callers read the reports and the job; these functions only interpret what was read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.replies import token_count
from bedrock_rft_provider.jobs.forecast import MB_PER_GB, ForecastInputs
from bedrock_rft_provider.jobs.metrics import TrainingMetrics
from bedrock_rft_provider.jobs.prices import PriceTable, price_quantities

TRAIN_REWARD = "critic/rewards/mean"
VALIDATION_REWARD = "val-score/rewards/mean@1"
#: Quantities compared in ``forecast_vs_actual``, as ``SpendForecast.as_dict`` names them.
COMPARED = (
    "graded_samples",
    "grader_invocations",
    "lambda_gb_seconds",
    "eval_input_tokens",
    "eval_output_tokens",
    "training_hours",
    "total_money",
)
RECORDED = (*COMPARED, "graded_training_samples")


def forecast_inputs(
    *,
    backend: str,
    hyperparameters: Mapping[str, Any] | None,
    dataset_report: Mapping[str, Any],
    preflight_report: Mapping[str, Any] | None = None,
    grader_memory_mb: int | None = None,
) -> ForecastInputs:
    """ForecastInputs from the dataset operator's ``report.json`` (``counts`` and ``prompt_length``)
    and the preflight operator's report file (its ``run``); ConfigError when the report has no counts."""
    counts = dataset_report.get("counts")
    if not isinstance(counts, Mapping) or not isinstance(counts.get("train"), int):
        raise ConfigError("dataset_report", "has no counts.train; pass the dataset operator's report.json")
    for name in ("train", "validation", "test"):
        value = counts.get(name) or 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError("dataset_report", f"counts.{name} = {value!r} is not a record count")
    prompt_length = dataset_report.get("prompt_length")
    estimated = prompt_length.get("estimated_tokens") if isinstance(prompt_length, Mapping) else None
    tokens = estimated.get("mean") if isinstance(estimated, Mapping) else None
    return ForecastInputs(
        backend=backend,
        train_records=int(counts["train"]),
        validation_records=int(counts.get("validation") or 0),
        test_records=int(counts.get("test") or 0),
        hyperparameters=dict(hyperparameters or {}),
        prompt_tokens_mean=float(tokens) if isinstance(tokens, (int, float)) else None,
        grader_seconds_per_sample=grader_seconds_per_sample(preflight_report),
        grader_memory_mb=grader_memory_mb,
    )


def grader_seconds_per_sample(preflight_report: Mapping[str, Any] | None) -> float | None:
    """Measured grader seconds per sample: the preflight's summed batch latency over its samples.

    Reads ``run.latency_ms_per_batch.{mean, batches}`` and ``run.n`` of the report file the preflight
    operator writes at ``report_uri``, or the same keys at the top level of ``bedrock-rft test-reward
    --output``'s report; None when there is no timed batch. Client-side latency includes the network
    (and, locally, a different machine), so this approximates Lambda's billed duration.
    """
    report = preflight_report or {}
    run = report.get("run") or report
    latency = run.get("latency_ms_per_batch") if isinstance(run, Mapping) else None
    if not isinstance(run, Mapping) or not isinstance(latency, Mapping):
        return None  # a hand-edited or foreign report: no measurement, not a crash
    values = (latency.get("mean"), latency.get("batches"), run.get("n"))
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < math.inf for v in values):
        return None
    mean, batches, samples = (float(v) for v in values if v is not None)
    return mean * batches / samples / 1000.0


def rate_from_record(record: Mapping[str, Any] | None) -> float | None:
    """Graded training samples per training hour from a champion record's ``spend.actual``, or None."""
    actual = ((record or {}).get("spend") or {}).get("actual") or {}
    samples, hours = actual.get("graded_training_samples"), actual.get("training_hours")
    if isinstance(samples, (int, float)) and isinstance(hours, (int, float)) and samples > 0 and hours > 0:
        return float(samples) / float(hours)
    return None


def job_hours(started: datetime | float | None, ended: datetime | float | None) -> float | None:
    """Hours between a job's start and end (datetimes, or epoch seconds as the open-weight API gives)."""
    if started is None or ended is None:
        return None
    start = started.timestamp() if isinstance(started, datetime) else float(started)
    end = ended.timestamp() if isinstance(ended, datetime) else float(ended)
    return round(max(end - start, 0.0) / 3600.0, 4)


def actual_spend(
    forecast: Mapping[str, Any],
    *,
    training_hours: float | None,
    metrics: TrainingMetrics | None,
    validation_records: int,
    grader_seconds_per_sample: float | None = None,
    grader_memory_mb: int | None = None,
    eval_tokens: tuple[int, int] | None = None,
    prices: PriceTable | None = None,
) -> dict[str, Any]:
    """What the run used, in the forecast's units: steps observed in the training metrics times the
    planned samples per step, validation passes observed, the job's hours, evaluation tokens counted
    from the responses' ``usage`` (``eval_tokens`` = (input, output)) and money at the same prices.

    Invocations assume the forecast's samples per invocation (Lambda's own count is not read); a
    quantity that could not be observed is None.
    """
    plan = forecast.get("plan") or {}
    steps = passes = None
    if metrics is not None and metrics.series.get(TRAIN_REWARD):
        steps = len({step for step, _ in metrics.series[TRAIN_REWARD]})
        passes = len({step for step, _ in metrics.series.get(VALIDATION_REWARD, [])})
    training_samples = validation_samples = invocations = gb_seconds = None
    if steps is not None and passes is not None:
        planned_steps = max(int(plan.get("steps") or 1), 1)
        per_step = math.ceil(int(forecast.get("graded_training_samples") or 0) / planned_steps)
        per_call = max(int(forecast.get("grader_samples_per_invocation") or 1), 1)
        training_samples = steps * per_step
        validation_samples = passes * validation_records
        invocations = steps * math.ceil(per_step / per_call)
        invocations += passes * math.ceil(validation_records / per_call)
        if grader_seconds_per_sample is not None and grader_memory_mb is not None:
            seconds = (training_samples + validation_samples) * grader_seconds_per_sample
            gb_seconds = round(seconds * grader_memory_mb / MB_PER_GB, 6)
    input_tokens, output_tokens = eval_tokens if eval_tokens is not None else (None, None)
    actual = {
        "training_steps": steps,
        "validation_passes": passes,
        "graded_training_samples": training_samples,
        "graded_samples": None if training_samples is None else training_samples + (validation_samples or 0),
        "grader_invocations": invocations,
        "lambda_gb_seconds": gb_seconds,
        "eval_input_tokens": input_tokens,
        "eval_output_tokens": output_tokens,
        "training_hours": training_hours,
    }
    return _priced(actual, prices or PriceTable())


def _priced(actual: dict[str, Any], prices: PriceTable) -> dict[str, Any]:
    """``actual`` with ``money``, ``total_money`` and ``currency`` at ``prices`` (the forecast's)."""

    def millions(key: str) -> float | None:
        value = actual.get(key)
        return None if value is None else float(value) / 1e6

    money, _, _ = price_quantities(
        {
            "training_hour": actual.get("training_hours"),
            "grader_gb_second": actual.get("lambda_gb_seconds"),
            "grader_million_requests": millions("grader_invocations"),
            "input_million_tokens": millions("eval_input_tokens"),
            "output_million_tokens": millions("eval_output_tokens"),
        },
        prices,
    )
    total = round(sum(money.values()), 6) if money else None
    return {**actual, "money": money, "total_money": total, "currency": prices.currency}


def usage_totals(lines: Iterable[str]) -> tuple[int, int]:
    """``(input, output)`` tokens summed over the ``usage`` of evaluation response lines (JSONL as the
    inference runners write them, Converse's ``inputTokens`` / ``outputTokens``); lines that are not
    JSON objects with numeric counts add nothing."""
    totals = [0, 0]
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        usage = row.get("usage") if isinstance(row, dict) else None
        if isinstance(usage, dict):
            totals[0] += token_count(usage.get("inputTokens"))
            totals[1] += token_count(usage.get("outputTokens"))
    return totals[0], totals[1]


def spend_record(forecast: Mapping[str, Any], actual: Mapping[str, Any]) -> dict[str, Any]:
    """What the champion record and the evaluation summary keep: the ``RECORDED`` quantities of the
    forecast and of the actual run, the currency and the prices both were priced at."""
    return {
        "currency": forecast.get("currency", "USD"),
        "prices": dict(forecast.get("prices") or {}),
        "forecast": {key: forecast.get(key) for key in RECORDED},
        "actual": {key: actual.get(key) for key in RECORDED},
    }


def with_eval_tokens(record: Mapping[str, Any], input_tokens: int, output_tokens: int) -> dict[str, Any]:
    """``record`` (a :func:`spend_record`) with the evaluation's counted tokens and the money redone."""
    actual = dict(record.get("actual") or {})
    actual.update(eval_input_tokens=input_tokens, eval_output_tokens=output_tokens)
    priced = _priced(actual, PriceTable.from_dict(record.get("prices")))
    return {**record, "actual": {key: priced.get(key) for key in RECORDED}}


def forecast_vs_actual(forecast: Mapping[str, Any], actual: Mapping[str, Any]) -> dict[str, Any]:
    """``{quantity: {forecast, actual, ratio}}`` for every compared quantity (ratio = actual / forecast,
    None when either is unknown or the forecast is 0): what the champion record and report keep."""
    rows: dict[str, Any] = {}
    for name in COMPARED:
        planned, used = forecast.get(name), actual.get(name)
        ratio = None
        if isinstance(planned, (int, float)) and planned and isinstance(used, (int, float)):
            ratio = round(used / planned, 4)
        rows[name] = {"forecast": planned, "actual": used, "ratio": ratio}
    return rows


def describe_spend(record: Mapping[str, Any]) -> str:
    """One line of forecast vs actual (``quantity forecast -> actual``) for a log or a summary."""
    parts = []
    for name, row in forecast_vs_actual(record.get("forecast") or {}, record.get("actual") or {}).items():
        if row["forecast"] is None and row["actual"] is None:
            continue
        label = f"money ({record.get('currency', '')})" if name == "total_money" else name.replace("_", " ")
        parts.append(f"{label} {_number(row['forecast'])} -> {_number(row['actual'])}")
    return "forecast -> actual: " + "; ".join(parts)


def _number(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"
