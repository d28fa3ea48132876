"""The simulated policy's tools family: which records it claims, how each action answers, and that
training on tool_call_match's rewards teaches it to make the right call."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bedrock_rft_provider.data.toolcalls import generate
from bedrock_rft_provider.rewards.builtin import tool_call_match
from bedrock_rft_provider.rewards.contract import grader_sample, parse_sample
from bedrock_rft_provider.sandbox.dataset import grader_metadata, record_task
from bedrock_rft_provider.sandbox.families.tools import ACTIONS
from bedrock_rft_provider.sandbox.policy import SimulatedPolicy, render
from bedrock_rft_provider.sandbox.tool_use import lift_calls

RECORDS = list(generate(60, seed=3))
INDEX = {name: i for i, (name,) in enumerate(ACTIONS)}


def _score(record: dict[str, Any], text: str) -> float:
    sample = grader_sample("s", record["messages"], text, metadata=grader_metadata(record))
    result = tool_call_match(parse_sample(sample))
    assert result is not None
    return result.score


def test_records_with_tools_and_an_expected_call_are_tool_tasks() -> None:
    task = record_task(RECORDS[0])
    assert task.kind == "tools" and task.answer is not None
    assert task.detail["calls"] == RECORDS[0]["reference_answer"]["tool_calls"]
    no_call = {**RECORDS[0], "reference_answer": "42"}
    assert record_task(no_call).kind == "math"


@pytest.mark.parametrize(
    ("action", "low", "high"),
    [
        ("right", 1.0, 1.0),
        ("wrong_function", 0.0, 0.0),
        ("missing_argument", 0.3, 0.9),
        ("extra_argument", 0.85, 0.85),
        ("wrong_type", 0.35, 0.97),
        ("malformed_json", 0.0, 0.0),
        ("prose", 0.0, 0.0),
    ],
)
def test_each_action_earns_what_the_reward_pays_for_that_mistake(
    action: str, low: float, high: float
) -> None:
    rng = random.Random(0)
    for record in RECORDS:
        text = render(record_task(record), INDEX[action], rng)
        assert low - 1e-9 <= _score(record, text) <= high + 1e-9, (action, text)


def test_calls_are_written_in_both_text_forms_and_lift_unless_malformed_or_prose() -> None:
    rng = random.Random(1)
    task = record_task(RECORDS[1])
    texts = [render(task, INDEX["right"], rng) for _ in range(20)]
    assert any(t.startswith("<tool_call>") for t in texts) and any(t.startswith("{") for t in texts)
    assert all(lift_calls(t) == task.detail["calls"] for t in texts)
    assert lift_calls(render(task, INDEX["malformed_json"], rng)) is None
    assert lift_calls(render(task, INDEX["prose"], rng)) is None


def test_training_on_tool_call_rewards_raises_the_share_of_right_calls() -> None:
    policy = SimulatedPolicy("amazon.nova-2-lite-v1:0", 7)
    tasks = [record_task(r) for r in RECORDS]

    def right_share() -> float:
        return sum(policy.probabilities(t)[INDEX["right"]] for t in tasks) / len(tasks)

    before = right_share()
    rng = random.Random(2)
    for _ in range(15):
        groups = []
        for record, task in zip(RECORDS[:16], tasks[:16], strict=True):
            actions = [policy.sample(task, rng) for _ in range(4)]
            groups.append((task, actions, [_score(record, render(task, a, rng)) for a in actions]))
        policy.update(groups, 1e-4)
    assert right_share() > before + 0.2
