"""The grader-change backtest's verdict: which responses changed, the threshold, and the version ARN."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.grader_change import compare, version_arn
from bedrock_rft_provider.evaluation.scoring import SampleResult


def _scores(*values: float) -> list[SampleResult]:
    return [SampleResult(id=f"q{i}", sample=0, score=v) for i, v in enumerate(values)]


def test_changed_share_over_the_threshold_blocks_and_lists_examples() -> None:
    backtest = compare(
        _scores(1, 0, 1, 0), _scores(1, 1, 1, 0), responses={("q1", 0): "x" * 500}, max_changed_share=0.2
    )
    assert backtest.n == 4 and backtest.share == 0.25 and backtest.blocked
    assert [c.id for c in backtest.changed] == ["q1"]
    assert len(backtest.changed[0].response) == 163  # 160 characters and "..."
    assert "1 of 4" in backtest.message() and "allow_grader_change=True" in backtest.message()
    assert not compare(_scores(1, 0, 1, 0), _scores(1, 1, 1, 0), max_changed_share=0.25).blocked


def test_moves_within_the_tolerance_do_not_count() -> None:
    assert not compare(_scores(0.5, 0.7), _scores(0.52, 0.7), score_tolerance=0.05).changed
    assert len(compare(_scores(0.5, 0.7), _scores(0.52, 0.7)).changed) == 1


def test_scorings_of_different_responses_are_refused() -> None:
    with pytest.raises(ConfigError, match="different responses"):
        compare(_scores(1, 0), _scores(1))
    with pytest.raises(ConfigError, match="max_changed_share"):
        compare(_scores(1), _scores(1), max_changed_share=2)


def test_version_arn_pins_the_version_an_alias_points_at() -> None:
    base = "arn:aws:lambda:us-east-1:123456789012:function:grader"
    assert version_arn({"FunctionArn": f"{base}:live", "Version": "7"}) == f"{base}:7"
    assert version_arn({"FunctionArn": base, "Version": "$LATEST"}) == base
