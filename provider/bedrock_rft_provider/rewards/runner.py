"""Local runner: load a reward by name and score grader events through the exact handler path."""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bedrock_rft_provider.rewards.contract import ERROR_METRIC, check_results, finite_number
from bedrock_rft_provider.rewards.jsonl import read_json_lines

Handler = Callable[[Any, Any], Any]


class RewardSpecError(ValueError):
    """A ``module:function`` reward reference that cannot be resolved.

    ``usage`` is True when the reference itself is malformed (a command-line error), False when it is
    well formed but the module cannot be loaded (missing, a syntax error, raising at import).
    """

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def _import_failure(spec: str, exc: BaseException) -> RewardSpecError:
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else "its source"
        return RewardSpecError(f"reward {spec!r}: syntax error in {where}: {exc.msg}")
    if isinstance(exc, SystemExit):
        return RewardSpecError(f"reward {spec!r}: the module called sys.exit({exc.code!r}) while importing")
    return RewardSpecError(f"reward {spec!r}: importing the module raised {type(exc).__name__}: {exc}")


def split_reward_spec(spec: str) -> tuple[str, str]:
    """``(module_or_file, attribute)`` of ``"module:function"`` or ``"path/to/file.py:function"``."""
    target, sep, attribute = spec.rpartition(":")
    if not sep or not target or not attribute.isidentifier():
        raise RewardSpecError(
            f"reward {spec!r}: expected MODULE:FUNCTION or path/to/file.py:FUNCTION "
            "(e.g. bedrock_rft_provider.rewards.builtin:math_answer)",
            usage=True,
        )
    return target, attribute


def load_reward(spec: str) -> Any:
    """Import the reward named by ``spec`` (a dotted module or a ``.py`` file, then ``:function``)."""
    target, attribute = split_reward_spec(spec)
    if target.endswith(".py"):
        path = Path(target).resolve()
        if not path.is_file():
            raise RewardSpecError(f"reward {spec!r}: file {target} does not exist")
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))  # so the file can import its sibling modules
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            raise RewardSpecError(f"reward {spec!r}: cannot load {target} as a Python module")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[path.stem] = module
        try:
            module_spec.loader.exec_module(module)
        except (Exception, SystemExit) as exc:  # user code: any failure is the reward's, reported in a line
            sys.modules.pop(path.stem, None)
            raise _import_failure(spec, exc) from None
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise RewardSpecError(f"reward {spec!r}: cannot import module {target}: {exc}") from exc
        except (Exception, SystemExit) as exc:
            raise _import_failure(spec, exc) from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise RewardSpecError(f"reward {spec!r}: module {target} has no attribute {attribute}") from None


def load_events(path: str | Path) -> list[Any]:
    """Grader samples from a JSONL file: one sample object (or a list of samples) per line.

    Raises ValueError naming ``path:line`` (not UTF-8, not JSON, nested too deeply) or OSError.
    """
    samples: list[Any] = []
    for number, value in read_json_lines(path):
        batch = value if isinstance(value, list) else [value]
        for sample in batch:
            if not isinstance(sample, dict):
                raise ValueError(
                    f"{path}:{number}: sample is a JSON {type(sample).__name__}; expected an object "
                    "(or a list of objects)"
                )
        samples.extend(batch)
    return samples


def batched(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of ``items`` with at most ``size`` elements."""
    if size < 1:
        raise ValueError(f"batch_size must be at least 1; got {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank (0.0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class RunReport:
    """What a reward did on a set of samples: contract problems, errors, scores, components, latency."""

    n: int
    batch_size: int
    results: list[dict[str, Any] | None] = field(repr=False)
    batch_latencies_s: list[float] = field(repr=False)
    failed_batches: list[str]
    contract_problems: list[str]
    elapsed_s: float

    @property
    def contract_ok(self) -> bool:
        """True when every batch returned results that satisfy the grader contract."""
        return not self.failed_batches and not self.contract_problems

    @property
    def scores(self) -> list[float]:
        """The aggregate score of every sample that got a valid result."""
        return [
            r["aggregate_reward_score"]
            for r in self.results
            if r and finite_number(r.get("aggregate_reward_score"))
        ]

    @property
    def reward_errors(self) -> int:
        """Samples the reward failed on (``reward_error`` = 1), plus samples of failed batches."""
        failed = sum(1 for r in self.results if r is None)
        return failed + sum(1 for r in self.results if r and _metric(r, ERROR_METRIC))

    def metric_means(self) -> dict[str, float]:
        """Mean of every ``metrics_list`` entry over the samples that report it."""
        sums: dict[str, list[float]] = {}
        for result in self.results:
            for metric in (result or {}).get("metrics_list") or []:
                if isinstance(metric, Mapping) and finite_number(metric.get("value")):
                    sums.setdefault(str(metric.get("name")), []).append(float(metric["value"]))
        return {name: sum(values) / len(values) for name, values in sorted(sums.items())}

    def to_dict(self, *, include_results: bool = False) -> dict[str, Any]:
        """A JSON-ready summary (the results themselves only when asked)."""
        scores = self.scores
        latencies_ms = [t * 1000 for t in self.batch_latencies_s]
        summary: dict[str, Any] = {
            "n": self.n,
            "scored": len(scores),
            "contract_ok": self.contract_ok,
            "contract_problems": self.contract_problems[:50],
            "failed_batches": self.failed_batches[:50],
            "reward_errors": self.reward_errors,
            "scores": {
                "mean": sum(scores) / len(scores) if scores else None,
                "min": min(scores) if scores else None,
                "p50": percentile(scores, 0.5) if scores else None,
                "max": max(scores) if scores else None,
                "histogram": histogram(scores),
            },
            "metric_means": self.metric_means(),
            "latency_ms_per_batch": {
                "batch_size": self.batch_size,
                "batches": len(latencies_ms),
                "mean": sum(latencies_ms) / len(latencies_ms) if latencies_ms else None,
                "p50": percentile(latencies_ms, 0.5),
                "p99": percentile(latencies_ms, 0.99),
                "max": max(latencies_ms, default=0.0),
            },
            "samples_per_s": self.n / self.elapsed_s if self.elapsed_s > 0 else None,
        }
        if include_results:
            summary["results"] = self.results
        return summary


def _metric(result: Mapping[str, Any], name: str) -> float:
    for metric in result.get("metrics_list") or []:
        if isinstance(metric, Mapping) and metric.get("name") == name and finite_number(metric.get("value")):
            return float(metric["value"])
    return 0.0


def histogram(scores: Sequence[float], bins: int = 10) -> list[dict[str, float]]:
    """Counts of scores in ``bins`` equal-width bins between their min and max."""
    if not scores:
        return []
    low, high = min(scores), max(scores)
    if low == high:
        return [{"low": low, "high": high, "count": len(scores)}]
    width = (high - low) / bins
    counts = [0] * bins
    for score in scores:
        counts[min(bins - 1, int((score - low) / width))] += 1
    return [{"low": low + i * width, "high": low + (i + 1) * width, "count": c} for i, c in enumerate(counts)]


def score_events(
    handler: Handler,
    events: Iterable[Any],
    *,
    batch_size: int = 64,
    on_batch: Callable[[int, int], None] | None = None,
) -> RunReport:
    """Score samples in batches through ``handler(batch, None)`` and check every answer against the contract.

    ``handler`` is a grader handler (see ``make_handler``) or anything with the same shape, such as a
    Lambda invocation; an exception from it marks that batch as failed. ``on_batch(done, total)``
    reports progress.
    """
    samples = list(events)
    results: list[dict[str, Any] | None] = []
    latencies: list[float] = []
    failed: list[str] = []
    problems: list[str] = []
    started = time.perf_counter()
    for index, batch in enumerate(batched(samples, batch_size)):
        batch_started = time.perf_counter()
        try:
            output = handler(list(batch), None)
        except Exception as exc:
            latencies.append(time.perf_counter() - batch_started)
            failed.append(f"batch {index}: {type(exc).__name__}: {exc}")
            results.extend([None] * len(batch))
            continue
        latencies.append(time.perf_counter() - batch_started)
        batch_problems = check_results(batch, output)
        problems.extend(f"batch {index}: {p}" for p in batch_problems)
        if batch_problems:
            if isinstance(output, list) and len(output) == len(batch):
                results.extend(_valid_or_none(r) for r in output)
            else:
                results.extend([None] * len(batch))
        else:
            results.extend(output)
        if on_batch is not None:
            on_batch(len(results), len(samples))
    return RunReport(
        n=len(samples),
        batch_size=batch_size,
        results=results,
        batch_latencies_s=latencies,
        failed_batches=failed,
        contract_problems=problems,
        elapsed_s=time.perf_counter() - started,
    )


def _valid_or_none(result: Any) -> dict[str, Any] | None:
    if isinstance(result, dict) and finite_number(result.get("aggregate_reward_score")):
        return result
    return None
