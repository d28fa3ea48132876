"""Training metrics of an RFT job, parsed from whatever files the job wrote under its output prefix.

Where Bedrock writes RFT metrics is undocumented. Generic customization jobs write
``training_artifacts/step_wise_training_metrics.csv`` and
``validation_artifacts/post_fine_tuning_validation/validation_metrics.csv``; the console shows names
like ``critic/rewards/mean`` and ``val-score/rewards/mean@1``. This module reads any CSV with a step
column and any metric columns, and tolerates absent files, blank cells and unknown columns.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

STEP_COLUMNS = ("step_number", "step", "global_step", "training_step")
METRIC_FILE_SUFFIXES = ("step_wise_training_metrics.csv", "validation_metrics.csv")
TRAIN_REWARD = "critic/rewards/mean"
VALIDATION_REWARD = "val-score/rewards/mean@1"
RESPONSE_LENGTH = "response_length/mean"
ENTROPY = "actor/entropy"
GRAD_NORM = "actor/grad_norm"
# Sandbox-side (not a Bedrock metric): the code family's share of reward-hacking attempts per step, in
# ``sandbox_step_wise_training_metrics.csv`` beside the job's own metrics file.
HACKING_ATTEMPT_SHARE = "sandbox/code/hacking_attempt_share"


def is_metrics_key(key: str) -> bool:
    """True for object keys this module knows how to parse."""
    return key.endswith(METRIC_FILE_SUFFIXES)


@dataclass
class TrainingMetrics:
    """Metric name -> list of (step, value), in step order, merged from every metrics file found."""

    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def add_csv(self, source: str, text: str) -> None:
        """Merge one CSV; rows without a parsable step get their row index as the step."""
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            return
        step_column = next((c for c in reader.fieldnames if c.strip().lower() in STEP_COLUMNS), None)
        for index, row in enumerate(reader):
            step = _number(row.get(step_column)) if step_column else None
            step_value = int(step) if step is not None else index
            for column, cell in row.items():
                if column is None or column == step_column:
                    continue
                value = _number(cell)
                if value is not None:
                    self.series.setdefault(column.strip(), []).append((step_value, value))
        for points in self.series.values():
            points.sort(key=lambda point: point[0])
        self.sources.append(source)

    def add_points(self, source: str, points: Iterable[tuple[str, int, float]]) -> None:
        """Merge ``(metric, step, value)`` points (e.g. from metric events); non-finite values are skipped."""
        for name, step, value in points:
            if math.isfinite(value):
                self.series.setdefault(name, []).append((step, value))
        for series in self.series.values():
            series.sort(key=lambda point: point[0])
        self.sources.append(source)

    def values(self, name: str) -> list[float]:
        return [value for _, value in self.series.get(name, [])]

    def summary(self) -> dict[str, dict[str, float]]:
        """first / last / min / max / steps per metric: what a log line or a health check needs."""
        return {
            name: {
                "first": points[0][1],
                "last": points[-1][1],
                "min": min(v for _, v in points),
                "max": max(v for _, v in points),
                "steps": float(len(points)),
            }
            for name, points in sorted(self.series.items())
            if points
        }

    def describe(self) -> list[str]:
        """One log line per metric: ``metric r: first 0.1, last 0.8, min 0.1, max 0.8 over 40 points``."""
        return [
            f"metric {name}: first {s['first']:.4g}, last {s['last']:.4g}, min {s['min']:.4g}, "
            f"max {s['max']:.4g} over {int(s['steps'])} points"
            for name, s in self.summary().items()
        ]

    def as_dict(self) -> dict[str, object]:
        return {"sources": list(self.sources), "series": {k: list(v) for k, v in self.series.items()}}


def parse_metrics_files(files: Iterable[tuple[str, str]] | Mapping[str, str]) -> TrainingMetrics:
    """Parse ``(key, text)`` pairs; files that are not metrics files are ignored."""
    items = files.items() if isinstance(files, Mapping) else files
    metrics = TrainingMetrics()
    for key, text in sorted(items):
        if is_metrics_key(key):
            metrics.add_csv(key, text)
    return metrics


def own_job_files(names: Iterable[str], markers: Iterable[str]) -> list[str]:
    """The names (keys or paths) under a folder named after the job, one of ``markers`` (its name or
    id), when a prefix holds several jobs' outputs; every name when none is under such a folder."""
    names = list(names)
    folders = [f"/{marker}/" for marker in markers if marker]
    own = [name for name in names if any(folder in f"/{name}" for folder in folders)]
    return own or names


def _number(cell: str | None) -> float | None:
    if cell is None:
        return None
    try:
        value = float(cell.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None
