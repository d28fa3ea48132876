"""Choose the checkpoint of an open-weight fine-tuning job to evaluate: the best by a validation metric.

``fine_tuning.jobs.checkpoints.list`` gives each checkpoint's ``step_number``, its model id
(``fine_tuned_model_checkpoint``, usable for inference) and ``metrics`` (bedrock-rft-facts §9). Which
metric keys Bedrock puts there is undocumented; the default is ``val_score_rewards_mean``, the
validation reward as the sandbox reports it, and a metric may also be named by its training-curve name
(``val-score/rewards/mean@1``). The highest value wins; a tie goes to the latest step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.defaults import DEFAULT_CHECKPOINT_METRIC


@dataclass(frozen=True)
class CheckpointChoice:
    """The checkpoint chosen, the metric value that chose it, and the steps that had no value."""

    job_id: str
    model_id: str
    step: int
    metric: str
    value: float
    checkpoint_id: str | None = None
    compared: int = 0
    steps_without_metric: tuple[int, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["steps_without_metric"] = list(self.steps_without_metric)
        return out

    def describe(self) -> str:
        """One log line: which checkpoint, why, and what was left out."""
        skipped = (
            f"; steps {', '.join(map(str, self.steps_without_metric))} report no {self.metric}"
            if self.steps_without_metric
            else ""
        )
        return (
            f"Best checkpoint of job {self.job_id} by {self.metric}: step {self.step} ({self.value:.4g}, "
            f"best of {self.compared}), model {self.model_id}{skipped}"
        )


def metric_names(metric: str) -> frozenset[str]:
    """``metric`` and its other spelling (event key <-> training-curve name)."""
    from bedrock_rft_provider.jobs.openweight_metrics import EVENT_METRIC_NAMES

    names = {metric, *(key for key, curve in EVENT_METRIC_NAMES.items() if curve == metric)}
    if metric in EVENT_METRIC_NAMES:
        names.add(EVENT_METRIC_NAMES[metric])
    return frozenset(names)


def metric_value(metrics: Any, names: frozenset[str]) -> float | None:
    """The first finite number under one of ``names`` in a checkpoint's ``metrics``, else None."""
    if not isinstance(metrics, Mapping):
        return None
    for name in sorted(names):
        value = metrics.get(name)
        if not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value):
            return float(value)
    return None


def best_checkpoint(
    job_id: str, checkpoints: Iterable[Mapping[str, Any]], metric: str = DEFAULT_CHECKPOINT_METRIC
) -> CheckpointChoice:
    """The checkpoint with the highest ``metric`` (ties: the latest step); pure.

    Checkpoints that report no finite ``metric`` are left out (listed in ``steps_without_metric``);
    checkpoints without a model id or step cannot be evaluated and are left out too.

    :raises ConfigError: naming ``best_checkpoint_job_id`` when the job has no usable checkpoint, or
        ``checkpoint_metric`` when none reports the metric (the message lists the metrics they do report).
    """
    names = metric_names(metric)
    usable: list[tuple[float, int, Mapping[str, Any]]] = []
    without: list[int] = []
    reported: set[str] = set()
    seen = 0
    for checkpoint in checkpoints:
        model_id, step = checkpoint.get("fine_tuned_model_checkpoint"), checkpoint.get("step_number")
        if (
            not isinstance(model_id, str)
            or not model_id
            or isinstance(step, bool)
            or not isinstance(step, int)
        ):
            continue
        seen += 1
        metrics = checkpoint.get("metrics")
        if isinstance(metrics, Mapping):
            reported.update(str(k) for k, v in metrics.items() if v is not None)
        value = metric_value(metrics, names)
        if value is None:
            without.append(step)
        else:
            usable.append((value, step, checkpoint))
    if not seen:
        raise ConfigError(
            "best_checkpoint_job_id",
            f"fine-tuning job {job_id} has no checkpoints with a model id yet; evaluate its fine_tuned_model",
        )
    if not usable:
        shown = ", ".join(sorted(reported)) or "none"
        raise ConfigError(
            "checkpoint_metric",
            f"no checkpoint of job {job_id} reports {metric!r} (they report: {shown}); a validation metric "
            "needs a validation file in the job, or choose another checkpoint_metric",
        )
    value, step, best = max(usable, key=lambda item: (item[0], item[1]))
    checkpoint_id = best.get("id")
    return CheckpointChoice(
        job_id=job_id,
        model_id=str(best["fine_tuned_model_checkpoint"]),
        step=step,
        metric=metric,
        value=value,
        checkpoint_id=str(checkpoint_id) if checkpoint_id else None,
        compared=len(usable),
        steps_without_metric=tuple(sorted(without)),
    )
