"""The simulated policy: answer parsing, determinism, and learning only from reward differences."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bedrock_rft_provider.sandbox.policy import (
    ACTIONS,
    SimulatedPolicy,
    Task,
    canonical_model_family,
    numeric_answer,
    render,
    task_for,
    truncate,
)


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("72", "72"),
        ("Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 72", "72"),
        ("#### 1,234", "1234"),
        (3.5, "3.5"),
        (10, "10"),
        ({"final_answer": "18"}, "18"),
        ({"answer": 7}, "7"),
        ({"text": "#### 9"}, "9"),
        ("Paris", None),
        ("There are 3 cats", None),
        (True, None),
        (None, None),
    ],
)
def test_numeric_answer(reference: Any, expected: str | None) -> None:
    assert numeric_answer(reference) == expected


def test_text_reference_answers_are_text_tasks() -> None:
    task = task_for("Capital of France?", {"text": "Paris"})
    assert (task.answer, task.numeric) == ("Paris", False)


def test_model_ids_of_one_family_share_the_base_policy() -> None:
    ids = ["amazon.nova-2-lite-v1:0:256k", "us.amazon.nova-2-lite-v1:0", "global.amazon.nova-2-lite-v1:0"]
    assert {canonical_model_family(i) for i in ids} == {"amazon.nova-2-lite-v1:0"}


def test_rendering_puts_the_answer_in_the_chosen_format() -> None:
    task = Task("q", "42", True)
    formats = {
        ACTIONS[i][0]: render(task, i, random.Random(0))
        for i in range(len(ACTIONS))
        if ACTIONS[i][1] == "right"
    }
    assert formats["hash"].endswith("#### 42")
    assert formats["answer_is"].endswith("The answer is 42.")
    assert formats["boxed"].endswith("\\boxed{42}.")
    assert formats["bare"].splitlines()[-1] == "42"
    assert "42" not in formats["none"]


def test_wrong_answers_are_wrong_numbers() -> None:
    task = Task("q", "42", True)
    wrong = next(i for i, a in enumerate(ACTIONS) if a[:2] == ("hash", "wrong"))
    answers = {render(task, wrong, random.Random(s)).rsplit(" ", 1)[-1] for s in range(20)}
    assert "42" not in answers
    assert all(a.lstrip("-").isdigit() for a in answers)


def test_same_seed_same_policy_and_greedy_answer() -> None:
    task = Task("How many?", "12", True)
    a, b = SimulatedPolicy("m.x-v1:0", 3), SimulatedPolicy("m.x-v1:0", 3)
    assert a.logits == b.logits
    assert a.greedy(task) == b.greedy(task)
    assert SimulatedPolicy("m.x-v1:0", 4).logits != a.logits


def test_update_moves_probability_toward_rewarded_actions() -> None:
    policy = SimulatedPolicy("m.x-v1:0", 0)
    tasks = [Task(f"q{i}", str(i), True) for i in range(20)]
    rewarded = [i for i, a in enumerate(ACTIONS) if a[0] == "boxed"]

    def boxed_share() -> float:
        return sum(sum(policy.probabilities(t)[i] for i in rewarded) for t in tasks) / len(tasks)

    before = boxed_share()
    rng = random.Random(0)
    for _ in range(10):
        groups = []
        for task in tasks:
            actions = [policy.sample(task, rng) for _ in range(4)]
            groups.append((task, actions, [1.0 if a in rewarded else 0.0 for a in actions]))
        policy.update(groups, 1e-4)
    assert boxed_share() > before + 0.3


def test_equal_rewards_in_a_group_carry_no_signal() -> None:
    policy = SimulatedPolicy("m.x-v1:0", 0)
    before = list(policy.logits)
    task = Task("q", "1", True)
    policy.update([(task, [0, 5, 9, 12], [1.0, 1.0, 1.0, 1.0])], 1e-3)
    assert policy.logits == before


def test_unknown_prompts_are_never_answered_right() -> None:
    policy = SimulatedPolicy("m.x-v1:0", 0)
    probs = policy.probabilities(Task("unseen", None, True))
    assert sum(p for p, a in zip(probs, ACTIONS, strict=True) if a[1] == "right") < 1e-9


def test_truncate_cuts_long_responses_at_the_token_budget() -> None:
    long_text = " ".join(["word"] * 100)
    assert truncate(long_text, 13) == (" ".join(["word"] * 10), True)
    assert truncate("short answer", 13) == ("short answer", False)
    assert truncate(long_text, None) == (long_text, False)
