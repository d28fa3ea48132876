"""The types of a task family of the simulated policy (see ``sandbox/families/__init__.py``)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.sandbox.tasks import Task


@dataclass(frozen=True)
class ActionSpace:
    """The actions of one task family and how each renders.

    ``actions`` are tuples of labels (for logs and tests); ``right`` the indices the per-prompt skill
    raises; ``initial_logits(rng)`` the base model's preferences (seeded per model family and seed);
    ``render(task, action, rng)`` the response text (deterministic for a given ``rng`` state);
    ``step_metrics(actions)`` optional sandbox-side metrics of the actions one training step sampled for
    this family (``{column: value}``, e.g. the code family's share of reward-hacking attempts), which
    the sandbox writes next to the job's metrics CSV.
    """

    kind: str
    actions: tuple[tuple[str, ...], ...]
    right: frozenset[int]
    initial_logits: Callable[[random.Random], list[float]]
    render: Callable[[Task, int, random.Random], str]
    step_metrics: Callable[[Sequence[int]], Mapping[str, float]] | None = None


@dataclass(frozen=True)
class Family:
    """A registered family: its action space and how it reads a dataset record.

    ``task_from_record(prompt, record)`` returns the family's task for a record that belongs to it, or
    None when the record is not one of its own (so the next family is asked).
    """

    space: ActionSpace
    task_from_record: Callable[[str, Mapping[str, Any]], Task | None]
