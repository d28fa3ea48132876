"""Turn a reward function ``fn(sample) -> float | RewardResult | None`` into a Bedrock grader handler."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from bedrock_rft_provider.rewards.contract import ERROR_METRIC, RewardResult, Sample, parse_sample, samples_of

log = logging.getLogger("bedrock_rft_provider.rewards")

RewardValue = float | int | bool | RewardResult | Mapping[str, Any] | None
RewardFn = Callable[[Sample], RewardValue]
NOT_APPLICABLE_METRIC = "reward_not_applicable"


class GraderHandler(Protocol):
    """A Lambda handler implementing the grader contract."""

    reward: RewardFn

    def __call__(self, event: Any, context: Any = None) -> list[dict[str, Any]]: ...


def reward_name(fn: Any) -> str:
    """The name a reward is reported under in ``metrics_list``."""
    name = getattr(fn, "reward_name", None) or getattr(fn, "__name__", None)
    return name if isinstance(name, str) and name != "<lambda>" else "reward"


def _number(value: Any, what: str, key: str = "") -> float:
    if type(value) is float:
        number = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        raise ValueError(f"reward {what}{f' {key!r}' if key else ''} is {value!r}; expected a number")
    if number - number != 0.0:  # NaN or an infinity
        raise ValueError(f"reward {what}{f' {key!r}' if key else ''} is {value!r}; expected a finite number")
    return number


def as_result(value: RewardValue, name: str) -> RewardResult:
    """Normalize what a reward returned; raises ValueError on a non-finite or unusable value."""
    if isinstance(value, RewardResult):
        result = value
    elif isinstance(value, Mapping):
        result = RewardResult(
            score=value.get("score", value.get("aggregate_reward_score")),  # checked below
            components=dict(value.get("components") or {}),
            metrics=dict(value.get("metrics") or {}),
        )
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        score = _number(value, "score")
        return RewardResult(score, {name: score})
    else:
        raise ValueError(f"reward returned {type(value).__name__}; expected a float or RewardResult")
    score = _number(result.score, "score")
    if not result.components:
        return RewardResult(score, {name: score}, result.metrics)
    return result


def render(sample_id: str, result: RewardResult, error: float = 0.0) -> dict[str, Any]:
    """One grader result in Bedrock's output shape; raises ValueError on a non-finite value."""
    metrics = [
        {
            "name": k,
            "value": v if type(v) is float and v - v == 0.0 else _number(v, "component", k),
            "type": "Reward",
        }
        for k, v in result.components.items()
    ]
    metrics += [
        {
            "name": k,
            "value": v if type(v) is float and v - v == 0.0 else _number(v, "metric", k),
            "type": "Metric",
        }
        for k, v in result.metrics.items()
    ]
    metrics.append({"name": ERROR_METRIC, "value": error, "type": "Metric"})
    return {
        "id": sample_id,
        "aggregate_reward_score": _number(result.score, "score"),
        "metrics_list": metrics,
    }


def score_sample(fn: RewardFn, raw: Any, index: int, name: str) -> dict[str, Any]:
    """Score one raw sample; any failure becomes score 0.0 with ``reward_error`` = 1 (never raises)."""
    sample = parse_sample(raw, index)
    try:
        value = fn(sample)
        if value is None:
            return render(sample.id, RewardResult(0.0, {name: 0.0}, {NOT_APPLICABLE_METRIC: 1.0}))
        return render(sample.id, as_result(value, name))
    except Exception as exc:
        log.warning("reward %s failed on sample %s: %s: %s", name, sample.id, type(exc).__name__, exc)
        return render(sample.id, RewardResult(0.0, {name: 0.0}), error=1.0)


def make_handler(fn: RewardFn, *, max_workers: int | None = None) -> GraderHandler:
    """Wrap ``fn(sample)`` into a Lambda handler ``(event, context) -> list[dict]`` (facts §2).

    One bad sample never fails the batch. ``max_workers`` > 1 scores samples in a thread pool (for
    I/O-bound rewards such as an LLM judge); by default it is the reward's ``max_workers`` hint or 1.
    """
    name = reward_name(fn)
    workers = max_workers or int(getattr(fn, "max_workers", 1) or 1)
    pool: list[ThreadPoolExecutor] = []
    pool_lock = threading.Lock()

    def executor() -> ThreadPoolExecutor:
        with pool_lock:  # created once per Lambda container, reused by warm invocations
            if not pool:
                pool.append(ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reward"))
            return pool[0]

    def handler(event: Any, context: Any = None) -> list[dict[str, Any]]:
        started = time.perf_counter()
        raw_samples = samples_of(event)
        if workers > 1 and len(raw_samples) > 1:
            results = list(
                executor().map(lambda pair: score_sample(fn, pair[1], pair[0], name), enumerate(raw_samples))
            )
        else:
            results = [score_sample(fn, raw, index, name) for index, raw in enumerate(raw_samples)]
        elapsed = time.perf_counter() - started
        errors = sum(1 for r in results if r["metrics_list"][-1]["value"])
        mean = sum(r["aggregate_reward_score"] for r in results) / len(results) if results else 0.0
        log.info(
            "reward %s scored %d samples in %.1f ms: mean %.3f, %d errors",
            name,
            len(results),
            elapsed * 1000,
            mean,
            errors,
        )
        return results

    handler.reward = fn  # type: ignore[attr-defined]
    handler.is_grader_handler = True  # type: ignore[attr-defined]
    return handler  # type: ignore[return-value]


def as_handler(obj: Any, *, max_workers: int | None = None) -> GraderHandler:
    """``obj`` when it is already a handler from :func:`make_handler`, else ``make_handler(obj)``."""
    if getattr(obj, "is_grader_handler", False) is True:
        return obj
    if not callable(obj):
        raise TypeError(f"reward {obj!r} is not callable")
    return make_handler(obj, max_workers=max_workers)
