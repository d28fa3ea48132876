"""Task families the simulated policy can play: one :class:`ActionSpace` per family, looked up by kind.

SIMULATED, not a language model. Each family says which discrete *actions* a response can be (e.g.
math: answer format x right/wrong x length), which of them are "right" (the per-prompt skill helps
those), the base model's starting preferences, and how an action renders as response text. The
policy (``sandbox/policy.py``) keeps one logit vector per family and learns them all the same way,
from the rewards the user's real reward function computes.

Adding a family: write ``families/<name>.py`` with a ``Family`` (its ``ActionSpace`` and
``task_from_record``), and list it in ``_families()`` below. ``task_of_record`` asks each family in
order whether a record is one of its own (an explicit top-level ``"task_family"`` field wins),
falling back to ``math``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bedrock_rft_provider.sandbox.families import code, judge, math, tools
from bedrock_rft_provider.sandbox.families.base import ActionSpace, Family
from bedrock_rft_provider.sandbox.tasks import Task

__all__ = ["ActionSpace", "Family", "families", "space_for", "task_of_record"]


def _families() -> dict[str, Family]:
    # Order matters: the first family that claims a record answers it; math is the fallback.
    found = [math.FAMILY, code.FAMILY, judge.FAMILY, tools.FAMILY]
    return {family.space.kind: family for family in found}


_FAMILIES: dict[str, Family] = {}


def families() -> dict[str, Family]:
    """Every registered family by kind (built on first use)."""
    if not _FAMILIES:
        _FAMILIES.update(_families())
    return _FAMILIES


def space_for(kind: str) -> ActionSpace:
    """The action space of a family; an unknown kind is answered as math (the oldest, safest space)."""
    registered = families()
    return (registered.get(kind) or registered["math"]).space


def task_of_record(prompt: str, record: Mapping[str, Any]) -> Task:
    """The task a record asks for: its declared ``task_family``, else the first family that claims it."""
    registered = families()
    declared = record.get("task_family")
    if isinstance(declared, str) and declared in registered:
        task = registered[declared].task_from_record(prompt, record)
        if task is not None:
            return task
    for kind, family in registered.items():
        if kind == "math":
            continue
        task = family.task_from_record(prompt, record)
        if task is not None:
            return task
    task = registered["math"].task_from_record(prompt, record)
    assert task is not None  # math answers every record
    return task
