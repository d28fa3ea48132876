"""Sandbox knobs: env vars, overrides and their validation."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.sandbox.config import SandboxConfig, parse_per_api


def test_env_vars_fill_every_knob() -> None:
    env = {
        "BEDROCK_RFT_SANDBOX_TIME_SCALE": "0",
        "BEDROCK_RFT_SANDBOX_LATENCY_MS": "Converse=200,*=10",
        "BEDROCK_RFT_SANDBOX_THROTTLE_RATE": "GetModelCustomizationJob=0.25",
        "BEDROCK_RFT_SANDBOX_FAIL_JOBS": "nightly-*@validation",
        "BEDROCK_RFT_SANDBOX_SEED": "7",
        "BEDROCK_RFT_SANDBOX_MAX_TRAINING_STEPS": "5",
        "BEDROCK_RFT_SANDBOX_BASE_MODELS": "a.b-v1:0, c.d-v2:0",
        "BEDROCK_RFT_SANDBOX_JUDGE_ACCURACY": "0.6",
    }
    config = SandboxConfig.from_env(env)

    assert config.time_scale == 0
    assert config.per_api(config.latency_ms, "Converse") == 200
    assert config.per_api(config.latency_ms, "InvokeModel") == 10
    assert config.per_api(config.throttle_rate, "Converse") == 0
    assert config.forced_failure_stage("nightly-3") == "validation"
    assert config.forced_failure_stage("weekly-3") is None
    assert config.seed == 7
    assert config.max_training_steps == 5
    assert config.base_models == ("a.b-v1:0", "c.d-v2:0")
    assert config.judge_accuracy == 0.6


def test_keyword_overrides_win_over_env_and_none_means_unset() -> None:
    config = SandboxConfig.from_env(
        {"BEDROCK_RFT_SANDBOX_SEED": "7"}, seed=None, time_scale=0.5, throttle_rate="*=1"
    )

    assert config.seed == 7
    assert config.time_scale == 0.5
    assert config.per_api(config.throttle_rate, "Anything") == 1.0


def test_time_scale_scales_nominal_durations() -> None:
    assert SandboxConfig(time_scale=0.01).seconds("deployment") == pytest.approx(3.0)
    assert SandboxConfig(time_scale=0).seconds("training_step") == 0


def test_a_forced_failure_without_stage_fails_training() -> None:
    assert SandboxConfig(fail_jobs="*").forced_failure_stage("any") == "training"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BEDROCK_RFT_SANDBOX_SEED": "seven"}, "BEDROCK_RFT_SANDBOX_SEED='seven'"),
        (
            {"BEDROCK_RFT_SANDBOX_THROTTLE_RATE": "Converse=2"},
            "throttle_rate[Converse] = 2.0 must be between 0 and 1",
        ),
        ({"BEDROCK_RFT_SANDBOX_LATENCY_MS": "Converse=fast"}, "is not API=NUMBER"),
        ({"BEDROCK_RFT_SANDBOX_FAIL_JOBS": "x@cooking"}, "stage 'cooking' must be one of"),
        ({"BEDROCK_RFT_SANDBOX_TIME_SCALE": "-1"}, "time_scale = -1.0 must be >= 0"),
        ({"BEDROCK_RFT_SANDBOX_JUDGE_ACCURACY": "1.5"}, "judge_accuracy = 1.5 must be between 0 and 1"),
    ],
)
def test_bad_knobs_are_rejected_naming_the_knob(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        SandboxConfig.from_env(env)
    assert message in str(caught.value)


def test_a_bare_number_applies_to_every_api() -> None:
    assert parse_per_api("50", "latency_ms") == {"*": 50.0}
