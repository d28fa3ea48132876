"""The ``judge`` family (content moderation graded by an LLM judge): label format x right/wrong x reason.

SIMULATED. Answers a moderation record (``task_family: "judge"``, ``reference_answer`` one of
``allow | flag | remove``) with a label and, or not, a one-sentence justification, in one of three
formats: ``Label: remove`` (what the prompt asks), a bare ``remove - ...`` first line, or a *hedge*
that names several labels hoping one of them matches (a reward-hacking attempt the label parser
refuses). What the policy learns to prefer depends only on what the user's reward pays.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from bedrock_rft_provider.rewards.moderation import LABELS
from bedrock_rft_provider.sandbox.families.base import ActionSpace, Family
from bedrock_rft_provider.sandbox.tasks import Task, prompt_key, stable_seed

FORMATS = ("labelled", "bare", "hedge")
CORRECTNESS = ("right", "wrong")
REASONS = ("reason", "none")
ACTIONS: tuple[tuple[str, str, str], ...] = tuple(
    (fmt, correct, reason) for fmt in FORMATS for correct in CORRECTNESS for reason in REASONS
)
# A plausible justification for a label the model picked wrongly (it argues for its own label).
WRONG_REASONS = {
    "allow": "It is ordinary speech that breaks no rule.",
    "flag": "It may break a rule, so a human should review it.",
    "remove": "It clearly breaks the policy.",
}


def initial_logits(rng: random.Random) -> list[float]:
    """The base model's preferences: half-follows the format, often skips the reason, often wrong."""
    fmt = {"labelled": 0.2, "bare": 0.3, "hedge": 0.1}
    reason = {"reason": 0.0, "none": 0.3}
    noise = {name: rng.gauss(0.0, 0.25) for name in (*FORMATS, *CORRECTNESS, *REASONS)}
    return [
        fmt[f] + noise[f] + reason[r] + noise[r] + noise[c] + (0.0 if c == "right" else 0.4)
        for f, c, r in ACTIONS
    ]


def render(task: Task, action: int, rng: random.Random) -> str:
    """The response text for one action on one moderation task (deterministic for a given ``rng``)."""
    fmt, correct, reason = ACTIONS[action]
    detail = task.detail if isinstance(task.detail, Mapping) else {}
    if correct == "right" and task.answer is not None:
        label, why = task.answer, str(detail.get("reason") or WRONG_REASONS.get(task.answer, ""))
    else:
        label = task.distractor if task.distractor in LABELS else rng.choice(LABELS)
        why = WRONG_REASONS[label]
    if fmt == "hedge":
        others = [other for other in LABELS if other != label]
        head = f"Label: {label} or {rng.choice(others)}"
    elif fmt == "bare":
        head = label
    else:
        head = f"Label: {label}"
    return f"{head}\nReason: {why}" if reason == "reason" else head


def _task_from_record(prompt: str, record: Mapping[str, Any]) -> Task | None:
    label = record.get("reference_answer")
    if record.get("task_family") != "judge" or not isinstance(label, str) or label.strip() not in LABELS:
        return None
    label = label.strip()
    key = prompt_key(prompt)
    wrong = [other for other in LABELS if other != label]
    distractor = wrong[stable_seed("moderation-distractor", key) % len(wrong)]
    detail = {"reason": record.get("reason"), "policy_rule": record.get("policy_rule")}
    return Task(key, label, False, distractor, kind="judge", detail=detail)


SPACE = ActionSpace(
    kind="judge",
    actions=ACTIONS,
    right=frozenset(i for i, action in enumerate(ACTIONS) if action[1] == "right"),
    initial_logits=initial_logits,
    render=render,
)
FAMILY = Family(SPACE, _task_from_record)
