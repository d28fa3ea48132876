"""Forecast inputs from the run's reports, and the actual spend of a run against its forecast."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.forecast import ForecastAssumptions, ForecastInputs, forecast_spend
from bedrock_rft_provider.jobs.metrics import TrainingMetrics
from bedrock_rft_provider.jobs.prices import PriceTable
from bedrock_rft_provider.jobs.spend import (
    actual_spend,
    describe_spend,
    forecast_inputs,
    forecast_vs_actual,
    grader_seconds_per_sample,
    job_hours,
    rate_from_record,
    spend_record,
    usage_totals,
    with_eval_tokens,
)

DATASET_REPORT = {
    "counts": {"read": 130, "kept": 130, "train": 100, "validation": 10, "test": 20},
    "prompt_length": {"estimated_tokens": {"min": 20, "mean": 50.0, "max": 90}},
}
PREFLIGHT_REPORT = {"passed": True, "run": {"n": 64, "latency_ms_per_batch": {"batches": 4, "mean": 200.0}}}
HP = {"epoch_count": 2, "batch_size": 16, "training_sample_per_prompt": 4, "eval_interval": 5}


def test_preflight_latency_becomes_seconds_per_sample() -> None:
    assert grader_seconds_per_sample(PREFLIGHT_REPORT) == pytest.approx(200 * 4 / 64 / 1000)


@pytest.mark.parametrize(
    "report",
    [None, {}, {"run": {"n": 0, "latency_ms_per_batch": {"batches": 4, "mean": 1.0}}}, {"run": {"n": 3}}],
)
def test_untimed_preflight_gives_no_latency(report: dict[str, object] | None) -> None:
    assert grader_seconds_per_sample(report) is None


def measured_inputs() -> ForecastInputs:
    """The inputs of a run whose dataset and grader were measured (512 MB grader)."""
    return forecast_inputs(
        backend="native",
        hyperparameters=HP,
        dataset_report=DATASET_REPORT,
        preflight_report=PREFLIGHT_REPORT,
        grader_memory_mb=512,
    )


def test_inputs_come_from_the_dataset_and_preflight_reports() -> None:
    inputs = measured_inputs()
    assert (inputs.train_records, inputs.validation_records, inputs.test_records) == (100, 10, 20)
    assert inputs.prompt_tokens_mean == 50.0
    assert inputs.grader_seconds_per_sample == pytest.approx(0.0125)


def test_a_report_without_counts_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"^dataset_report"):
        forecast_inputs(backend="native", hyperparameters=HP, dataset_report={"format": 1})


def test_training_rate_comes_from_the_champions_actual_spend() -> None:
    record = {"spend": {"actual": {"graded_training_samples": 896, "training_hours": 2.0}}}
    assert rate_from_record(record) == 448.0
    assert rate_from_record({"spend": {"actual": {"training_hours": None}}}) is None
    assert rate_from_record(None) is None


def test_job_hours_from_datetimes_and_epoch_seconds() -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert job_hours(start, start + timedelta(minutes=90)) == 1.5
    assert job_hours(1_000_000, 1_000_000 + 1800) == 0.5
    assert job_hours(start, None) is None


def metrics(steps: int, validated: list[int]) -> TrainingMetrics:
    m = TrainingMetrics()
    m.series["critic/rewards/mean"] = [(s, 0.5) for s in range(1, steps + 1)]
    m.series["val-score/rewards/mean@1"] = [(s, 0.6) for s in validated]
    return m


def test_a_run_that_went_to_plan_matches_its_forecast() -> None:
    inputs = measured_inputs()
    prices = PriceTable(training_hour=10, grader_million_requests=1000)
    forecast = forecast_spend(inputs, ForecastAssumptions(training_samples_per_hour=448), prices).as_dict()
    actual = actual_spend(
        forecast,
        training_hours=2.0,
        metrics=metrics(14, [5, 10, 14]),
        validation_records=10,
        grader_seconds_per_sample=0.0125,
        grader_memory_mb=512,
        eval_tokens=(2000, 9000),
        prices=prices,
    )
    assert actual["graded_samples"] == forecast["graded_samples"] == 926
    assert actual["grader_invocations"] == 926
    assert actual["lambda_gb_seconds"] == pytest.approx(forecast["lambda_gb_seconds"])
    assert actual["total_money"] == pytest.approx(20 + 0.926)
    rows = forecast_vs_actual(forecast, actual)
    assert rows["graded_samples"]["ratio"] == 1.0
    assert rows["eval_output_tokens"] == {"forecast": 20 * 2 * 1024, "actual": 9000, "ratio": 0.2197}


def test_a_run_stopped_halfway_used_half_the_training_samples() -> None:
    inputs = forecast_inputs(backend="native", hyperparameters=HP, dataset_report=DATASET_REPORT)
    forecast = forecast_spend(inputs).as_dict()
    actual = actual_spend(forecast, training_hours=None, metrics=metrics(7, [5]), validation_records=10)
    assert actual["graded_training_samples"] == 7 * 64
    assert actual["graded_samples"] == 7 * 64 + 10
    assert actual["lambda_gb_seconds"] is None  # no measured latency given
    assert forecast_vs_actual(forecast, actual)["training_hours"]["ratio"] is None


def test_no_metrics_means_unknown_not_zero() -> None:
    forecast = forecast_spend(
        forecast_inputs(backend="native", hyperparameters=HP, dataset_report=DATASET_REPORT)
    ).as_dict()
    actual = actual_spend(forecast, training_hours=1.0, metrics=TrainingMetrics(), validation_records=10)
    assert actual["graded_samples"] is None
    assert actual["grader_invocations"] is None


def test_usage_totals_sum_the_response_lines_and_ignore_junk() -> None:
    lines = [
        '{"id": "a", "usage": {"inputTokens": 30, "outputTokens": 100}}',
        '{"id": "b", "usage": {"inputTokens": 20, "outputTokens": "lots"}}',
        '{"id": "c"}',
        "not json",
        "[1, 2]",
        '{"id": "d", "usage": {"inputTokens": -5, "outputTokens": 1e400}}',
    ]
    assert usage_totals(lines) == (50, 100)


def test_the_record_keeps_both_sides_and_the_evaluation_tokens_are_priced_in() -> None:
    prices = PriceTable(training_hour=10, output_million_tokens=200)
    forecast = {
        **forecast_spend(
            forecast_inputs(backend="native", hyperparameters=HP, dataset_report=DATASET_REPORT),
            ForecastAssumptions(training_samples_per_hour=448),
            prices,
        ).as_dict(),
        "prices": prices.as_dict(),
    }
    actual = actual_spend(
        forecast, training_hours=1.0, metrics=metrics(14, [5, 10, 14]), validation_records=10, prices=prices
    )
    record = spend_record(forecast, actual)
    assert record["actual"]["total_money"] == 10.0  # one training hour; tokens not counted yet
    assert record["actual"]["graded_training_samples"] == 896
    done = with_eval_tokens(record, 2000, 5000)
    assert done["actual"]["eval_output_tokens"] == 5000
    assert done["actual"]["total_money"] == pytest.approx(10.0 + 5000 * 200 / 1e6)
    assert done["forecast"] == record["forecast"]
    assert rate_from_record({"spend": done}) == 896.0  # the next run's training rate


def test_describe_spend_lists_known_quantities_both_ways() -> None:
    record = {
        "currency": "EUR",
        "forecast": {"graded_samples": 4722, "training_hours": None, "total_money": 2.5},
        "actual": {"graded_samples": 3000, "training_hours": 0.25, "total_money": None},
    }
    assert describe_spend(record) == (
        "forecast -> actual: graded samples 4,722 -> 3,000; "
        "training hours n/a -> 0.25; money (EUR) 2.5 -> n/a"
    )
