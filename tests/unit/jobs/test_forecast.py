"""Spend forecast: numbers checked against hand-computed values for small configs on both backends,
and the submission-time cap check (what is over, by how much, what to change)."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.budget import SpendCapExceeded, SpendCaps, check_caps, over_caps
from bedrock_rft_provider.jobs.forecast import ForecastAssumptions, ForecastInputs, forecast_spend
from bedrock_rft_provider.jobs.prices import PriceTable

NATIVE_HP = {
    "epoch_count": 2,
    "batch_size": 16,
    "training_sample_per_prompt": 4,
    "eval_interval": 5,
    "inference_max_tokens": 512,
}
PRICES = PriceTable(
    training_hour=10,
    grader_gb_second=0.5,
    grader_million_requests=1000,
    input_million_tokens=100,
    output_million_tokens=200,
    source="test table",
)


def native_inputs(**overrides: object) -> ForecastInputs:
    values: dict[str, object] = {
        "backend": "native",
        "train_records": 100,
        "validation_records": 10,
        "test_records": 20,
        "hyperparameters": NATIVE_HP,
        "prompt_tokens_mean": 50.0,
        "grader_seconds_per_sample": 0.02,
        "grader_memory_mb": 512,
    }
    values.update(overrides)
    return ForecastInputs(**values)  # type: ignore[arg-type]


def test_native_units_match_hand_computation() -> None:
    # 100 records / batch 16 -> 7 steps per epoch, x 2 epochs = 14 steps of 16 x 4 = 64 samples: 896.
    # Validation every 5 steps and after the last: ceil(14 / 5) = 3 passes x 10 records = 30.
    forecast = forecast_spend(native_inputs())
    assert forecast.plan.steps == 14
    assert forecast.plan.validation_passes == 3
    assert forecast.graded_training_samples == 896
    assert forecast.graded_validation_samples == 30
    assert forecast.grader_invocations == 926  # one sample per invocation (the assumed worst case)
    assert forecast.lambda_gb_seconds == pytest.approx(926 * 0.02 * 0.5)  # 512 MB = 0.5 GB
    assert forecast.eval_input_tokens == 20 * 2 * 50  # test records x (tuned + baseline) x prompt tokens
    assert forecast.eval_output_tokens == 20 * 2 * 512  # inference_max_tokens per response, at most
    assert forecast.training_hours is None
    assert forecast.money == {}


def test_native_batched_invocations_count_whole_calls() -> None:
    # Per step ceil(64 / 16) = 4 calls x 14 steps = 56; per validation pass ceil(10 / 16) = 1 x 3.
    forecast = forecast_spend(native_inputs(), ForecastAssumptions(grader_samples_per_invocation=16))
    assert forecast.grader_invocations == 59


def test_native_money_per_component_and_total() -> None:
    forecast = forecast_spend(native_inputs(), ForecastAssumptions(training_samples_per_hour=448), PRICES)
    assert forecast.training_hours == pytest.approx(2.0)  # 896 samples / 448 per hour
    assert forecast.money == pytest.approx(
        {
            "training_hour": 20.0,
            "grader_gb_second": 4.63,  # 9.26 GB-s x 0.5
            "grader_million_requests": 0.926,  # 926 calls x 1000 / 1e6
            "input_million_tokens": 0.2,  # 2,000 tokens x 100 / 1e6
            "output_million_tokens": 4.096,  # 20,480 tokens x 200 / 1e6
        }
    )
    assert forecast.total_money == pytest.approx(29.852)
    assert forecast.unpriced == ()


def test_native_unset_hyperparameters_use_the_documented_example_and_say_so() -> None:
    forecast = forecast_spend(native_inputs(hyperparameters={"batch_size": 16}))
    # epoch_count 2, training_sample_per_prompt 4, eval_interval 10 (user guide example values)
    assert (forecast.plan.epochs, forecast.plan.samples_per_prompt, forecast.plan.eval_interval) == (2, 4, 10)
    assert forecast.plan.validation_passes == 2  # ceil(14 / 10)
    assert any("epoch_count = 2" in note for note in forecast.notes)
    assert forecast.eval_output_tokens == 20 * 2 * 1024  # no inference_max_tokens: the 1024 default


def test_a_batch_larger_than_the_dataset_grades_each_record_once_per_step() -> None:
    hyperparameters = {**NATIVE_HP, "batch_size": 64}
    forecast = forecast_spend(native_inputs(train_records=20, hyperparameters=hyperparameters))
    assert forecast.plan.steps == 2  # one step per epoch
    assert forecast.graded_training_samples == 2 * 20 * 4


def test_open_weight_units_match_hand_computation() -> None:
    # 30 records / batch 8 -> 4 steps per epoch x 3 epochs = 12 steps of 8 x 2 samples = 192.
    # Validation every 10 steps (assumed) and after the last: ceil(12 / 10) = 2 passes x 5 records.
    inputs = ForecastInputs(
        backend="open-weight",
        train_records=30,
        validation_records=5,
        test_records=10,
        hyperparameters={"n_epochs": 3, "batch_size": 8, "learning_rate_multiplier": 1.0},
        prompt_tokens_mean=40.0,
        grader_seconds_per_sample=0.1,
        grader_memory_mb=1024,
    )
    forecast = forecast_spend(inputs, ForecastAssumptions(samples_per_prompt=2, eval_interval=10))
    assert forecast.plan.steps == 12
    assert forecast.graded_training_samples == 192
    assert forecast.graded_validation_samples == 10
    assert forecast.grader_invocations == 202
    assert forecast.lambda_gb_seconds == pytest.approx(202 * 0.1 * 1.0)
    assert forecast.eval_input_tokens == 10 * 2 * 40
    assert forecast.eval_output_tokens == 10 * 2 * 1024
    assert any("samples_per_prompt = 2" in note for note in forecast.notes)


def test_open_weight_refuses_native_hyperparameters_by_name() -> None:
    inputs = ForecastInputs(backend="open-weight", train_records=30, hyperparameters={"epoch_count": 2})
    with pytest.raises(ConfigError, match=r"hyperparameters\.epoch_count"):
        forecast_spend(inputs)


def test_unknown_quantities_stay_unknown_and_say_why() -> None:
    forecast = forecast_spend(
        native_inputs(grader_seconds_per_sample=None, prompt_tokens_mean=None),
        prices=PriceTable(grader_gb_second=1.0, output_million_tokens=200),
    )
    assert forecast.lambda_gb_seconds is None
    assert forecast.eval_input_tokens is None
    assert forecast.unquantified == ("grader_gb_second",)
    assert forecast.money == {"output_million_tokens": pytest.approx(20 * 2 * 512 * 200 / 1e6)}
    assert any("preflight" in note for note in forecast.notes)


def test_forecast_within_caps_passes() -> None:
    forecast = forecast_spend(native_inputs(), ForecastAssumptions(training_samples_per_hour=448), PRICES)
    caps = SpendCaps(max_budget=30, max_training_hours=2, max_grader_invocations=926)
    assert over_caps(forecast.as_dict(), caps) == []


def test_every_cap_below_the_forecast_is_reported_with_what_to_change() -> None:
    forecast = forecast_spend(native_inputs(), ForecastAssumptions(training_samples_per_hour=448), PRICES)
    caps = SpendCaps(max_budget=20, max_training_hours=1.5, max_grader_invocations=500)
    with pytest.raises(SpendCapExceeded) as excinfo:
        check_caps(forecast.as_dict(), caps)
    problems = excinfo.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("max_grader_invocations = 500: the forecast is 926")
    assert "lower the epochs to 1" in problems[0]  # floor(2 x 500 / 926)
    assert "raise max_grader_invocations to at least 926" in problems[0]
    assert "max_training_hours = 1.5: the forecast is 2.00" in problems[1]
    assert "max_budget = 20.00 USD: the forecast is 29.85 USD" in problems[2]
    assert "raise max_budget to at least 30" in problems[2]
    assert "graded samples:      926" in str(excinfo.value)  # the forecast is in the message


def test_a_cap_even_one_epoch_exceeds_says_to_shrink_the_data() -> None:
    forecast = forecast_spend(native_inputs())
    problems = over_caps(forecast.as_dict(), SpendCaps(max_grader_invocations=100))
    assert "even one epoch is over" in problems[0]


def test_a_budget_without_prices_cannot_pass() -> None:
    forecast = forecast_spend(native_inputs())
    with pytest.raises(ConfigError, match=r"^max_budget: needs prices"):
        over_caps(forecast.as_dict(), SpendCaps(max_budget=100))


def test_a_budget_with_a_priced_but_unknown_quantity_cannot_pass() -> None:
    forecast = forecast_spend(native_inputs(), prices=PRICES)  # training priced, hours unknown
    with pytest.raises(ConfigError, match="training_hour is priced but its quantity is unknown"):
        over_caps(forecast.as_dict(), SpendCaps(max_budget=1000))


@pytest.mark.parametrize(
    ("prices", "field"),
    [
        ({"training_hours": 3}, "prices.training_hours"),
        ({"training_hour": -1}, "prices.training_hour"),
        ({"grader_gb_second": "cheap"}, "prices.grader_gb_second"),
    ],
)
def test_bad_price_table_names_the_key(prices: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        PriceTable.from_dict(prices)
    assert str(excinfo.value).startswith(field)
