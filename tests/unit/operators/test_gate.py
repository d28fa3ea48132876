"""The quality gate as a branch operator: the branch it picks, the reasons it logs, the XCom it leaves."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.operators.gate import BedrockRFTQualityGateOperator

SUMMARY = {
    "n": 300,
    "mean_reward": 0.82,
    "accuracy": 0.82,
    "response_length": {"mean": 100.0},
    "error_rate": 0.0,
    "baseline": {"mean_reward": 0.70, "response_length": {"mean": 100.0}, "error_rate": 0.0},
    "delta": 0.12,
    "delta_ci95": [0.08, 0.16],
    "p_value": 0.001,
}


class FakeTI(SimpleNamespace):
    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def gate(summary: Any, **kwargs: Any) -> BedrockRFTQualityGateOperator:
    return BedrockRFTQualityGateOperator(
        task_id="gate", summary=summary, promote_task_ids="promote", reject_task_ids=["reject"], **kwargs
    )


def test_promotes_and_logs_every_reason(capsys: pytest.CaptureFixture[str]) -> None:
    ti = FakeTI(pushed={})
    branch = gate(SUMMARY, min_improvement=0.05).choose_branch({"ti": ti})  # type: ignore[arg-type]
    assert branch == "promote"
    decision = ti.pushed["gate_decision"]
    assert decision["promote"] is True and len(decision["reasons"]) == 5
    logged = capsys.readouterr().out
    assert "Quality gate: PROMOTE" in logged
    assert all(reason in logged for reason in decision["reasons"])


def test_rejects_a_rendered_summary_string_with_a_small_delta() -> None:
    ti = FakeTI(pushed={})
    branch = gate(json.dumps(SUMMARY), min_improvement=0.2).choose_branch({"ti": ti})  # type: ignore[arg-type]
    assert branch == ["reject"]
    assert (
        ti.pushed["gate_decision"]["reasons"][0] == "FAIL delta mean reward +0.1200 (min_improvement +0.2000)"
    )


def test_repr_of_a_dict_is_accepted_too() -> None:
    assert gate(repr(SUMMARY)).choose_branch({"ti": FakeTI(pushed={})}) == "promote"  # type: ignore[arg-type]


def test_invalid_policy_fails_at_parse_time() -> None:
    with pytest.raises(ConfigError, match="min_samples"):
        gate(SUMMARY, min_samples=0)
    with pytest.raises(ConfigError, match=r"guards\[0\]"):
        gate(SUMMARY, guards=[{"metric": "error_rate"}])


def test_templated_policy_fields_are_read_after_rendering() -> None:
    op = gate(SUMMARY, min_improvement="{{ params.min_improvement }}", min_samples="{{ params.n }}")
    op.min_improvement, op.min_samples = "0.2", "50"  # what Jinja renders without native objects
    assert op.choose_branch({"ti": FakeTI(pushed={})}) == ["reject"]  # type: ignore[arg-type]
    op.min_improvement = "abc"
    with pytest.raises(ConfigError, match="min_improvement: expected a number"):
        op.choose_branch({"ti": FakeTI(pushed={})})  # type: ignore[arg-type]


def test_a_templated_maybe_is_an_error_naming_the_field_not_a_silent_false() -> None:
    op = gate(SUMMARY, require_ci_excludes_zero="{{ params.ci }}")
    op.require_ci_excludes_zero = "maybe"  # what the template rendered
    with pytest.raises(ConfigError, match=r"^require_ci_excludes_zero: expected true or false, got 'maybe'$"):
        op.choose_branch({"ti": FakeTI(pushed={})})  # type: ignore[arg-type]
