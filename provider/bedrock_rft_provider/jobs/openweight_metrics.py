"""Open-weight job events (``fine_tuning.jobs.list_events``) as the training curves the native path reads.

Metric events look like ``{"type": "metrics", "data": {"step": 12, "total_steps": 40,
"critic_rewards_mean": 0.61, "actor_entropy": 0.93, ...}}`` (user guide and the aws-samples notebooks,
which plot exactly these six fields). Their names are the console's metric names with ``_`` for ``/``;
they are mapped onto :mod:`bedrock_rft_provider.jobs.metrics`' names so :func:`jobs.health.assess_training`
reads both backends alike. Unknown numeric fields are kept under their own name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.jobs.metrics import (
    ENTROPY,
    GRAD_NORM,
    RESPONSE_LENGTH,
    TRAIN_REWARD,
    VALIDATION_REWARD,
    TrainingMetrics,
)

EVENT_METRIC_NAMES = {
    "critic_rewards_mean": TRAIN_REWARD,
    "critic_rewards_max": "critic/rewards/max",
    "critic_rewards_min": "critic/rewards/min",
    "critic_advantages_mean": "critic/advantages/mean",
    "actor_pg_loss": "actor/pg_loss",
    "actor_entropy": ENTROPY,
    "actor_grad_norm": GRAD_NORM,
    "response_length_mean": RESPONSE_LENGTH,
    "response_length_max": "response_length/max",
    "response_length_min": "response_length/min",
    # Undocumented on the open-weight path; named after the console's validation metric in case it appears.
    "val_score_rewards_mean": VALIDATION_REWARD,
}
NOT_METRICS = frozenset({"step", "total_steps"})
SOURCE = "fine_tuning.jobs.list_events"


@dataclass(frozen=True)
class MetricPoint:
    """One metric event: the step, the total steps when known, and every numeric field by curve name."""

    step: int
    total_steps: int | None
    values: Mapping[str, float]

    def describe(self) -> str:
        """``step 12/40: reward 0.610, entropy 0.930, ...`` for the task log."""
        of = f"/{self.total_steps}" if self.total_steps else ""
        shown = ", ".join(f"{name} {value:.4g}" for name, value in sorted(self.values.items()))
        return f"step {self.step}{of}: {shown}"


def metric_point(event: Mapping[str, Any]) -> MetricPoint | None:
    """The metric point of one event (a ``FineTuningJobEvent`` as a dict), or None for other events."""
    data = event.get("data")
    if event.get("type") != "metrics" or not isinstance(data, Mapping):
        return None
    step = _number(data.get("step"))
    if step is None:
        return None
    total = _number(data.get("total_steps"))
    values = {
        EVENT_METRIC_NAMES.get(str(key), str(key)): number
        for key, raw in data.items()
        if key not in NOT_METRICS and (number := _number(raw)) is not None
    }
    return MetricPoint(int(step), int(total) if total is not None else None, values)


def metrics_from_events(events: Iterable[Mapping[str, Any]]) -> TrainingMetrics:
    """Every metric event as curves; a step repeated (events re-read after a retry) counts once."""
    seen: dict[int, MetricPoint] = {}
    for event in events:
        point = metric_point(event)
        if point is not None:
            seen[point.step] = point
    metrics = TrainingMetrics()
    metrics.add_points(
        SOURCE,
        ((name, point.step, value) for point in seen.values() for name, value in point.values.items()),
    )
    return metrics


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None
