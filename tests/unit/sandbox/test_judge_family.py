"""The simulated policy's ``judge`` family: moderation records, labelled answers, learning from rewards."""

from __future__ import annotations

import random

from bedrock_rft_provider.data.moderation import generate
from bedrock_rft_provider.rewards import make_handler
from bedrock_rft_provider.rewards.moderation import label_match, parse_label
from bedrock_rft_provider.sandbox.dataset import record_task
from bedrock_rft_provider.sandbox.families.judge import ACTIONS
from bedrock_rft_provider.sandbox.policy import SimulatedPolicy, render

RECORDS = list(generate(24, seed=5))


def test_moderation_records_are_judge_tasks_and_math_records_are_not() -> None:
    task = record_task(RECORDS[0])
    assert (task.kind, task.answer) == ("judge", RECORDS[0]["reference_answer"])
    assert task.distractor != task.answer and task.detail["reason"] == RECORDS[0]["reason"]
    math = record_task({"messages": [{"role": "user", "content": "2+2?"}], "reference_answer": "4"})
    assert math.kind == "math"


def test_every_action_renders_the_label_it_stands_for() -> None:
    task = record_task(RECORDS[1])
    for action, (fmt, correct, reason) in enumerate(ACTIONS):
        text = render(task, action, random.Random(action))
        stated = parse_label(text)
        if fmt == "hedge":
            assert stated is None, text  # naming two labels states none
        else:
            assert stated == (task.answer if correct == "right" else task.distractor), text
        assert ("Reason:" in text) == (reason == "reason")


def _reward_of(task_record: dict, text: str) -> float:
    event = {
        "id": "s",
        "messages": [*task_record["messages"], {"role": "assistant", "content": text}],
        "metadata": {"reference_answer": task_record["reference_answer"]},
    }
    return float(make_handler(label_match)([event], None)[0]["aggregate_reward_score"])


def _right_share(policy: SimulatedPolicy) -> float:
    tasks = [record_task(r) for r in RECORDS]
    right = [i for i, action in enumerate(ACTIONS) if action[1] == "right" and action[0] != "hedge"]
    return sum(sum(policy.probabilities(t)[i] for i in right) for t in tasks) / len(tasks)


def test_training_on_label_match_makes_the_policy_state_the_right_label_and_stop_hedging() -> None:
    policy = SimulatedPolicy("amazon.nova-2-lite-v1:0", seed=0)
    before = _right_share(policy)
    hedges = [i for i, action in enumerate(ACTIONS) if action[0] == "hedge"]
    hedge_before = sum(policy.probabilities(record_task(RECORDS[0]))[i] for i in hedges)
    rng = random.Random(0)
    for _ in range(15):
        groups = []
        for record in RECORDS:
            task = record_task(record)
            actions = [policy.sample(task, rng) for _ in range(4)]
            rewards = [_reward_of(record, render(task, a, rng)) for a in actions]
            groups.append((task, actions, rewards))
        policy.update(groups, learning_rate=1e-5)
    assert _right_share(policy) > before + 0.3
    assert sum(policy.probabilities(record_task(RECORDS[0]))[i] for i in hedges) < hedge_before / 2
    assert policy.to_dict()["family_logits"]["math"] == SimulatedPolicy("amazon.nova-2-lite-v1:0", 0).logits
