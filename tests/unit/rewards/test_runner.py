"""Local runner: loading rewards by reference and scoring event files through the handler path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.rewards import as_handler, make_handler
from bedrock_rft_provider.rewards.builtin import math_answer
from bedrock_rft_provider.rewards.runner import RewardSpecError, load_events, load_reward, score_events


def test_load_builtin_module_and_file_rewards(reward_fixtures: Path) -> None:
    assert load_reward("bedrock_rft_provider.rewards.builtin:math_answer") is math_answer
    assert load_reward("acme_rewards.scoring:gsm8k").reward_name == "gsm8k"
    assert (
        load_reward(f"{reward_fixtures / 'single_file_reward.py'}:last_line_match").__name__
        == "last_line_match"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("math_answer", "expected MODULE:FUNCTION"),
        ("no_such_module_xyz:f", "cannot import module no_such_module_xyz"),
        ("bedrock_rft_provider.rewards.builtin:nope", "has no attribute nope"),
        ("missing/file.py:f", "does not exist"),
    ],
)
def test_bad_reward_references_are_named(spec: str, message: str) -> None:
    with pytest.raises(RewardSpecError, match=message):
        load_reward(spec)


def test_score_events_reports_distribution_errors_and_latency(reward_fixtures: Path) -> None:
    events = load_events(reward_fixtures / "gsm8k_events.jsonl")
    report = score_events(make_handler(math_answer), events, batch_size=3)
    summary = report.to_dict()
    assert report.contract_ok
    assert [r["aggregate_reward_score"] for r in report.results if r] == [1.0, 1.0, 0.0, 0.0]
    assert summary["scores"]["mean"] == 0.5
    assert summary["reward_errors"] == 0
    assert summary["metric_means"]["math_answer_found"] == 0.75
    assert summary["latency_ms_per_batch"]["batches"] == 2
    assert summary["latency_ms_per_batch"]["p99"] >= summary["latency_ms_per_batch"]["p50"] > 0


def test_reward_errors_are_counted(reward_fixtures: Path) -> None:
    events = load_events(reward_fixtures / "gsm8k_events.jsonl")
    report = score_events(as_handler(load_reward("acme_rewards.scoring:broken")), events)
    assert report.contract_ok
    assert report.reward_errors == 4


def test_broken_contract_and_failing_batches_are_reported(make_event: Any) -> None:
    events = [make_event("x", sample_id=str(i)) for i in range(4)]

    def drops_one(event: Any, context: Any) -> Any:
        return make_handler(math_answer)(event, context)[:-1]

    def explodes(event: Any, context: Any) -> Any:
        raise RuntimeError("Unhandled: function crashed")

    dropped = score_events(drops_one, events, batch_size=2)
    assert not dropped.contract_ok
    assert dropped.contract_problems == [
        "batch 0: grader returned 1 results for 2 samples",
        "batch 1: grader returned 1 results for 2 samples",
    ]
    crashed = score_events(explodes, events, batch_size=4)
    assert crashed.failed_batches == ["batch 0: RuntimeError: Unhandled: function crashed"]
    assert crashed.results == [None] * 4


def test_load_events_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"id": "a"}\n\n{not json}\n')
    with pytest.raises(ValueError, match=r"events.jsonl:3: not valid JSON"):
        load_events(path)


def test_as_handler_keeps_an_existing_handler() -> None:
    handler = make_handler(math_answer)
    assert as_handler(handler) is handler
    with pytest.raises(TypeError, match="not callable"):
        as_handler(42)
