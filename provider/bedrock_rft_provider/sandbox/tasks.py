"""What the simulated policy answers: a :class:`Task` per prompt, built from a dataset record.

A task has a *kind* (its task family: ``math``, and whatever ``sandbox/families/`` registers, e.g.
``code``, ``judge``, ``tools``) that picks the action space the policy samples from, and the
reference the sandbox knows for it (``answer``), plus the family's own details (``detail``: unit
tests, a label, an expected tool call) that the family's renderer needs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def stable_seed(*parts: object) -> int:
    """A process-independent integer seed from any parts (Python's hash() is salted per process)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def prompt_key(text: str) -> str:
    """Normalized prompt text used to recognise a prompt across datasets and requests."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Task:
    """A prompt the policy answers; ``answer`` is None when the sandbox does not know the right answer.

    ``kind`` names the task family whose action space and renderer answer it (default ``math``, which
    also covers short text answers). ``detail`` carries what that family's renderer needs from the
    record (never compared or hashed: two tasks are the same prompt when key, answer and kind agree).
    """

    key: str
    answer: str | None
    numeric: bool
    distractor: str = "I do not know"
    kind: str = "math"
    detail: Any = field(default=None, compare=False, hash=False)


def format_number(value: float) -> str:
    """``3.0`` -> ``"3"``, ``2.5`` -> ``"2.5"`` (six significant digits)."""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def numeric_answer(reference: Any) -> str | None:
    """The final number of a reference answer (string, number, or dict), or None for a text answer."""
    if isinstance(reference, bool):
        return None
    if isinstance(reference, (int, float)):
        return format_number(float(reference))
    if isinstance(reference, dict):
        for key in ("final_answer", "answer", "text", "value", "reference_answer"):
            if key in reference:
                return numeric_answer(reference[key])
        return None
    if isinstance(reference, str):
        text = reference.split("####")[-1] if "####" in reference else reference
        text = text.strip().rstrip(".")
        if "####" in reference or _NUMBER.fullmatch(text.replace("$", "").strip()):
            found = _NUMBER.findall(text)
            if found:
                return format_number(float(found[-1].replace(",", "")))
    return None


def text_answer(reference: Any) -> str | None:
    """The text of a non-numeric reference answer, or None when there is nothing usable."""
    if isinstance(reference, dict):
        for key in ("final_answer", "answer", "text", "value", "reference_answer"):
            if key in reference:
                return text_answer(reference[key])
        return None
    if isinstance(reference, str) and reference.strip():
        return reference.strip()
    return None


def task_for(prompt_text: str, reference: Any, distractor: str = "I do not know") -> Task:
    """A ``math`` task from a prompt and its ``reference_answer`` in any accepted shape."""
    number = numeric_answer(reference)
    if number is not None:
        return Task(prompt_key(prompt_text), number, True)
    return Task(prompt_key(prompt_text), text_answer(reference), False, distractor)
