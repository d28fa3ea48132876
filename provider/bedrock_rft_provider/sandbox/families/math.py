"""The ``math`` family (and short text answers): answer format x right/wrong x length.

SIMULATED. Renders a few reasoning sentences and a closing line in one of the answer formats graders
look for (``#### 42``, ``The answer is 42.``, ``\\boxed{42}``, a bare number, or none at all).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from bedrock_rft_provider.sandbox.families.base import ActionSpace, Family
from bedrock_rft_provider.sandbox.tasks import Task, format_number, stable_seed, task_for

FORMATS = ("hash", "answer_is", "boxed", "bare", "none")
CORRECTNESS = ("right", "wrong")
LENGTHS = ("short", "medium", "long")
ACTIONS: tuple[tuple[str, str, str], ...] = tuple(
    (fmt, correct, length) for fmt in FORMATS for correct in CORRECTNESS for length in LENGTHS
)
_SENTENCES_PER_LENGTH = {"short": 1, "medium": 3, "long": 7}
_FILLER = (
    "Let me read the problem carefully.",
    "First I list the quantities the question gives.",
    "Next I combine them in the order the problem describes.",
    "I check each operation once more.",
    "The units stay consistent throughout.",
    "Now I compare the result with what the question asks.",
    "Everything is consistent.",
    "So I can state the result.",
)


def initial_logits(rng: random.Random) -> list[float]:
    """The base model's preferences: likes ``The answer is``, a medium length, and is often wrong."""
    fmt = {"hash": 0.2, "answer_is": 0.5, "boxed": -0.3, "bare": -0.4, "none": 0.1}
    length = {"short": 0.0, "medium": 0.3, "long": 0.1}
    noise = {name: rng.gauss(0.0, 0.25) for name in (*FORMATS, *LENGTHS, *CORRECTNESS)}
    return [
        fmt[f] + noise[f] + length[ln] + noise[ln] + noise[c] + (0.0 if c == "right" else 0.3)
        for f, c, ln in ACTIONS
    ]


def filler(length: str, rng: random.Random) -> list[str]:
    """``length`` ("short" | "medium" | "long") worth of reasoning sentences."""
    count = _SENTENCES_PER_LENGTH[length]
    start = rng.randrange(len(_FILLER))
    return [_FILLER[(start + i) % len(_FILLER)] for i in range(count)]


def render(task: Task, action: int, rng: random.Random) -> str:
    """The response text for one action on one task (deterministic for a given ``rng`` state)."""
    fmt, correct, length = ACTIONS[action]
    lines = filler(length, rng)
    answer = _answer_text(task, correct, rng)
    closing = {
        "hash": f"#### {answer}",
        "answer_is": f"The answer is {answer}.",
        "boxed": f"The final answer is \\boxed{{{answer}}}.",
        "bare": answer,
        "none": "I am not certain of the final value.",
    }[fmt]
    return "\n".join([*lines, closing])


def _answer_text(task: Task, correct: str, rng: random.Random) -> str:
    if task.answer is None:
        # Unknown prompt: the simulated model cannot know the answer; it guesses a number.
        return str(random.Random(stable_seed("guess", task.key)).randrange(2, 500))
    if correct == "right":
        return task.answer
    if task.numeric:
        value = float(task.answer)
        wrong = value + rng.choice((-10, -3, -2, -1, 1, 2, 3, 10))
        return format_number(wrong)
    return task.distractor


def _task_from_record(prompt: str, record: Mapping[str, Any]) -> Task:
    return task_for(prompt, record.get("reference_answer"))


SPACE = ActionSpace(
    kind="math",
    actions=ACTIONS,
    right=frozenset(i for i, action in enumerate(ACTIONS) if action[1] == "right"),
    initial_logits=initial_logits,
    render=render,
)
FAMILY = Family(SPACE, _task_from_record)
