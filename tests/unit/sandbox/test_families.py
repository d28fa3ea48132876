"""Task families in the simulated policy: records pick their family, each family learns on its own."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from bedrock_rft_provider.sandbox import families
from bedrock_rft_provider.sandbox.dataset import record_task
from bedrock_rft_provider.sandbox.families import ActionSpace, Family
from bedrock_rft_provider.sandbox.policy import SimulatedPolicy, render
from bedrock_rft_provider.sandbox.tasks import Task, prompt_key

YES_NO = (("yes",), ("no",))


def _toy_task(prompt: str, record: Mapping[str, Any]) -> Task | None:
    label = record.get("label")
    if label not in ("yes", "no"):
        return None
    return Task(prompt_key(prompt), label, False, kind="toy", detail={"label": label})


@pytest.fixture
def toy_family(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    space = ActionSpace(
        kind="toy",
        actions=YES_NO,
        right=frozenset({0}),
        initial_logits=lambda rng: [0.0, 0.0],
        render=lambda task, action, rng: f"{YES_NO[action][0]} ({task.detail['label']})",
    )
    registry = dict(families.families())
    registry["toy"] = Family(space, _toy_task)
    monkeypatch.setattr(families, "_FAMILIES", registry)
    yield


def _record(prompt: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": prompt}], **extra}


def test_records_without_a_family_of_their_own_are_math() -> None:
    task = record_task(_record("2 + 2?", reference_answer="4"))
    assert (task.kind, task.answer, task.numeric) == ("math", "4", True)
    text = record_task(_record("Capital?", reference_answer="Paris"), distractor="Rome")
    assert (text.kind, text.answer, text.distractor) == ("math", "Paris", "Rome")


def test_a_declared_unknown_family_falls_back_to_math() -> None:
    task = record_task(_record("2 + 2?", reference_answer="4", task_family="no-such-family"))
    assert task.kind == "math"


def test_a_family_claims_its_records_and_renders_them(toy_family: None) -> None:
    task = record_task(_record("Is it?", label="yes"))
    assert (task.kind, task.detail) == ("toy", {"label": "yes"})
    assert render(task, 1, random.Random(0)) == "no (yes)"
    assert record_task(_record("2 + 2?", reference_answer="4")).kind == "math"


def test_each_family_learns_from_its_own_groups_only(toy_family: None) -> None:
    policy = SimulatedPolicy("m.x-v1:0", 0)
    math_before = list(policy.logits)
    toy = Task("q", "yes", False, kind="toy")
    assert len(policy.probabilities(toy)) == 2
    rng = random.Random(0)
    for _ in range(5):
        actions = [policy.sample(toy, rng) for _ in range(8)]
        policy.update([(toy, actions, [1.0 if a == 1 else 0.0 for a in actions])], 1e-4)
    assert policy.probabilities(toy)[1] > 0.5  # "no" was rewarded, despite the skill bonus on "yes"
    assert policy.logits == math_before
    restored = policy.copy()
    assert restored.probabilities(toy) == policy.probabilities(toy)
    assert policy.to_dict()["family_logits"]["toy"] == restored.to_dict()["family_logits"]["toy"]


def test_an_untouched_family_starts_the_same_in_every_policy_of_a_model(toy_family: None) -> None:
    toy = Task("q", "yes", False, kind="toy")
    a, b = SimulatedPolicy("m.x-v1:0", 3), SimulatedPolicy("m.x-v1:0", 3)
    assert a.probabilities(toy) == b.probabilities(toy)
