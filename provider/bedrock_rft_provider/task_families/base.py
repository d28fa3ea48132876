"""The type of a task-family recipe (see ``task_families/__init__.py``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class TaskFamily:
    """One runnable task family.

    ``name`` is what ``make demo TASK=<name>`` takes; ``retraining_conf`` the ``bedrock_rft_retraining``
    params it sets (merged over the demo's defaults); ``real`` / ``simulated`` one line each for the
    demo banner and the README; ``daily_prompts(day, count)`` the evaluation prompts a backfill
    evaluates for one day (RFT records), or None when the family has no backfill story.
    """

    name: str
    title: str
    retraining_conf: Mapping[str, Any]
    real: str
    simulated: str
    daily_prompts: Callable[[date, int], list[dict[str, Any]]] | None = None
    evaluation_conf: Mapping[str, Any] = field(default_factory=dict)

    @property
    def model_family(self) -> str:
        """The champion family (SSM ``/bedrock-rft/champion/<family>``) this recipe trains."""
        return str(self.retraining_conf["model_family"])
