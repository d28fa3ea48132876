"""BedrockRFTJobOperator's submission-time cap check happens before any AWS call (a Stubber with no
responses fails on any call): over a cap, caps without a forecast, a forecast for other hyperparameters."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.forecast import ForecastInputs, forecast_spend, plan_mismatch
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from support.airflow_context import make_context
from support.bedrock_jobs import valid_job_args
from support.stubbed import install_client, stubbed_client

HP = {"batch_size": 64, "epoch_count": 2, "learning_rate": 1e-5}


def _forecast(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    inputs = ForecastInputs("native", 640, validation_records=64, hyperparameters=hyperparameters)
    return forecast_spend(inputs).as_dict()


def _execute(**overrides: Any) -> None:
    operator = BedrockRFTJobOperator(task_id="train", **valid_job_args(hyperparameters=HP, **overrides))
    client, stubber = stubbed_client("bedrock")
    install_client(operator.hook, client)
    with stubber:  # no responses queued: any AWS call would raise
        operator.execute(make_context())


def test_over_a_cap_fails_without_retry_before_any_call() -> None:
    forecast = _forecast(HP)  # 2 epochs x 10 steps x 64 x 4 + ceil(20 / 10) x 64 = 5,248 invocations
    assert forecast["grader_invocations"] == 5248
    with pytest.raises(AirflowFailException, match="max_grader_invocations = 5,000: the forecast is 5,248"):
        _execute(spend_forecast=forecast, max_grader_invocations=5000)


def test_caps_need_a_forecast() -> None:
    with pytest.raises(ConfigError, match=r"^spend_forecast: is required"):
        _execute(max_training_hours="3")


def test_a_forecast_for_other_hyperparameters_is_refused() -> None:
    stale = _forecast({**HP, "epoch_count": 1})
    with pytest.raises(ConfigError, match=r"epochs 1 \(forecast\) != 2 \(job\)"):
        _execute(spend_forecast=stale, max_grader_invocations=10**9)


def test_rendered_forecast_text_and_caps_are_read() -> None:
    """Templated fields arrive rendered: the forecast as its text, the caps as strings."""
    forecast = _forecast(HP)
    with pytest.raises(AirflowFailException, match="max_grader_invocations = 5,000"):
        _execute(spend_forecast=repr(forecast), max_grader_invocations="5000", max_budget="None")


def test_plan_mismatch_is_empty_for_the_same_plan_on_both_backends() -> None:
    assert plan_mismatch(_forecast(HP), "native", HP) == ""
    open_weight = {"n_epochs": 2, "batch_size": 8}
    inputs = ForecastInputs(backend="open-weight", train_records=64, hyperparameters=open_weight)
    forecast = forecast_spend(inputs).as_dict()
    assert plan_mismatch(forecast, "open-weight", open_weight) == ""
    assert plan_mismatch(forecast, "open-weight", {"n_epochs": 3, "batch_size": 8}) == (
        "epochs 2 (forecast) != 3 (job)"
    )
