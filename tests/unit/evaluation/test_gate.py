"""The quality gate: each verdict comes with the reason that decided it."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.gate import GatePolicy, Guard, decide


def summary(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "n": 500,
        "mean_reward": 0.80,
        "accuracy": 0.80,
        "response_length": {"mean": 120.0},
        "error_rate": 0.0,
        "metrics": {"format": 0.99},
        "baseline": {
            "n": 500,
            "mean_reward": 0.70,
            "accuracy": 0.70,
            "response_length": {"mean": 110.0},
            "error_rate": 0.0,
            "metrics": {"format": 0.98},
        },
        "delta": 0.10,
        "delta_ci95": [0.06, 0.14],
        "p_value": 0.0001,
    }
    base.update(overrides)
    return base


POLICY = GatePolicy(min_improvement=0.02, min_samples=100)


def test_promotes_a_clear_improvement_and_says_why() -> None:
    decision = decide(summary(), POLICY)
    assert decision.promote
    assert all(reason.startswith("ok ") for reason in decision.reasons)
    assert any("delta mean reward +0.1000" in reason for reason in decision.reasons)


def test_rejects_a_delta_below_min_improvement() -> None:
    decision = decide(summary(delta=0.01, delta_ci95=[0.005, 0.015]), POLICY)
    assert not decision.promote
    assert decision.reasons[0] == "FAIL delta mean reward +0.0100 (min_improvement +0.0200)"


def test_rejects_when_the_delta_ci_crosses_zero() -> None:
    decision = decide(summary(delta=0.03, delta_ci95=[-0.01, 0.07]), POLICY)
    assert not decision.promote
    assert decision.reasons[0] == "FAIL delta 95% CI [-0.0100, +0.0700] must exclude zero"


def test_ci_requirement_can_be_switched_off() -> None:
    policy = GatePolicy(min_improvement=0.02, min_samples=100, require_ci_excludes_zero=False)
    assert decide(summary(delta=0.03, delta_ci95=[-0.01, 0.07]), policy).promote


def test_rejects_a_guard_regression_beyond_tolerance() -> None:
    longer = summary(response_length={"mean": 150.0})  # +36% over 110, tolerance 25%
    decision = decide(longer, POLICY)
    assert not decision.promote
    assert decision.reasons[0].startswith("FAIL guard response_length.mean: 110 -> 150")


def test_higher_is_better_guard_on_a_component_metric() -> None:
    policy = GatePolicy(min_improvement=0.02, guards=(Guard("metrics.format", 0.01, higher_is_better=True),))
    decision = decide(summary(metrics={"format": 0.90}), policy)
    assert not decision.promote and "FAIL guard metrics.format" in decision.reasons[0]


def test_rejects_a_small_sample() -> None:
    decision = decide(summary(n=40), POLICY)
    assert not decision.promote and decision.reasons[0] == "FAIL sample size 40 (minimum 100)"


def test_rejects_without_a_baseline() -> None:
    plain = {k: v for k, v in summary().items() if k not in ("baseline", "delta", "delta_ci95", "p_value")}
    decision = decide(plain, POLICY)
    assert not decision.promote and "no baseline" in decision.reasons[0]


def test_max_p_value_check() -> None:
    policy = GatePolicy(max_p_value=0.05)
    assert not decide(summary(p_value=0.2), policy).promote


def test_policy_from_dict_rejects_unknown_fields_and_bad_guards() -> None:
    policy = GatePolicy.from_dict(
        {"min_improvement": 0.05, "guards": [{"metric": "error_rate", "tolerance": 0}]}
    )
    assert policy.guards == (Guard("error_rate", 0.0),)
    with pytest.raises(ConfigError, match="unknown field"):
        GatePolicy.from_dict({"min_improvment": 0.05})
    with pytest.raises(ConfigError, match=r"guards\[0\]"):
        GatePolicy.from_dict({"guards": [{"metric": "x"}]})


def test_rendered_policy_strings_read_as_numbers_and_booleans() -> None:
    policy = GatePolicy.from_dict(
        {
            "min_improvement": "0.05",
            "require_ci_excludes_zero": "false",
            "max_p_value": "None",
            "min_samples": "50",
            "min_accuracy": "",
        }
    )
    assert policy == GatePolicy(
        min_improvement=0.05,
        require_ci_excludes_zero=False,
        max_p_value=None,
        min_samples=50,
        min_accuracy=None,
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"require_ci_excludes_zero": "maybe"},
            "require_ci_excludes_zero: expected true or false, got 'maybe'",
        ),
        ({"require_ci_excludes_zero": None}, "require_ci_excludes_zero: expected true or false, got None"),
        ({"min_samples": "2.5"}, "min_samples: expected a whole number, got '2.5'"),
        ({"min_improvement": ""}, "min_improvement: expected a number, got ''"),
        ({"guards": [{"metric": "error_rate", "tolerance": "x"}]}, "guards[0].tolerance: expected a number"),
        (
            {"guards": '[{"metric": "error_rate", "tolerance": 0.1, "relative": "maybe"}]'},
            "guards[0].relative: expected true or false, got 'maybe'",
        ),
    ],
)
def test_a_value_that_is_not_its_type_is_an_error_naming_the_field(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        GatePolicy.from_dict(values)
    assert str(info.value).startswith(message)


def test_guard_flags_from_rendered_json_are_read_not_truthy() -> None:
    rendered = (
        '[{"metric": "error_rate", "tolerance": "0.02", "relative": "false", "higher_is_better": "no"}]'
    )
    policy = GatePolicy.from_dict({"guards": rendered})
    assert policy.guards == (Guard("error_rate", 0.02, relative=False, higher_is_better=False),)
