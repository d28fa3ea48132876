"""Turn a reward function ``fn(sample) -> float | RewardResult | None`` into a Bedrock grader handler."""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Protocol

from bedrock_rft_provider.rewards.contract import (
    ERROR_METRIC,
    RewardResult,
    Sample,
    _sample_id,
    parse_sample,
    samples_of,
)
from bedrock_rft_provider.rewards.deadline import RewardTimeout, SampleTimer, batch_timer, time_limit

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


class _SharedEntry(dict[str, Any]):
    """A ``metrics_list`` entry shared by every result of a :func:`constant_result`: read-only."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a shared metrics_list entry is read-only; copy it with dict(entry)")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> tuple[Any, ...]:  # copy, deepcopy and pickle give a plain dict
        return (dict, (dict(self),))


# id -> (result, its rendered entries); the result is kept, so its id cannot be reused by another object.
_CONSTANT_ENTRIES: dict[int, tuple[RewardResult, tuple[dict[str, Any], ...]]] = {}


def constant_result(
    score: float, components: Mapping[str, float], metrics: Mapping[str, float] | None = None
) -> RewardResult:
    """A :class:`RewardResult` for a reward with few possible outcomes, to return for many samples.

    Its ``metrics_list`` entries are rendered once: each result rendered from it gets a new list of the
    same read-only entries, not a dozen new dicts per sample. Raises ValueError on a non-finite value.
    """
    result = RewardResult(
        _number(score, "score"), MappingProxyType(dict(components)), MappingProxyType(dict(metrics or {}))
    )
    entries = tuple(_SharedEntry(entry) for entry in render("", result)["metrics_list"])
    _CONSTANT_ENTRIES[id(result)] = (result, entries)
    return result


def render(sample_id: str, result: RewardResult, error: float = 0.0) -> dict[str, Any]:
    """One grader result in Bedrock's output shape; raises ValueError on a non-finite value."""
    constant = _CONSTANT_ENTRIES.get(id(result))
    if constant is not None and constant[0] is result and not error:
        return {"id": sample_id, "aggregate_reward_score": result.score, "metrics_list": list(constant[1])}
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


OUT_OF_RANGE_METRIC = "reward_out_of_range"
TIMEOUT_METRIC = "reward_timeout"
DEFAULT_SCORE_RANGE = (0.0, 1.0)
DEFAULT_SAMPLE_TIMEOUT_S = 30.0
OUT_OF_RANGE_POLICIES = ("clamp", "reject")
# Seconds kept back from the Lambda's remaining time to render and return the batch's results.
INVOCATION_RESERVE_S = 1.0


def invocation_deadline(context: Any) -> float | None:
    """The ``time.monotonic()`` by which the handler must return, from a Lambda context; else None.

    Per-sample budgets alone do not bound a batch: ten samples at 30 s each outlast the 300 s grader
    timeout, and Lambda then kills the invocation and every result of the batch is lost.
    """
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    try:
        millis = float(remaining())
    except Exception:
        return None
    if not math.isfinite(millis):
        return None
    return time.monotonic() + max(0.0, millis / 1000 - INVOCATION_RESERVE_S)


def _within(guard: Guard, deadline: float | None) -> Guard | None:
    """``guard`` with its per-sample budget cut to the time left before ``deadline``; None if none is left."""
    if deadline is None:
        return guard
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    if guard.sample_timeout_s and guard.sample_timeout_s <= left:
        return guard
    return replace(guard, sample_timeout_s=left)


@dataclass(frozen=True)
class Guard:
    """How a handler bounds a reward: score range, what to do outside it, per-sample seconds."""

    score_range: tuple[float, float] = DEFAULT_SCORE_RANGE
    out_of_range: str = "clamp"
    sample_timeout_s: float | None = DEFAULT_SAMPLE_TIMEOUT_S


def _fallback(raw: Any, index: int, name: str, metric: str | None = None) -> dict[str, Any]:
    try:
        sample_id = _sample_id(raw, index)
    except BaseException:
        sample_id = str(index)
    metrics = [{"name": name, "value": 0.0, "type": "Reward"}]
    if metric:
        metrics.append({"name": metric, "value": 1.0, "type": "Metric"})
    metrics.append({"name": ERROR_METRIC, "value": 1.0, "type": "Metric"})
    return {"id": sample_id, "aggregate_reward_score": 0.0, "metrics_list": metrics}


def _bounded(result: RewardResult, guard: Guard) -> tuple[RewardResult, bool]:
    low, high = guard.score_range
    score = _number(result.score, "score")
    if low <= score <= high:
        return result, False
    if guard.out_of_range == "reject":
        raise ValueError(f"reward score {score!r} is outside the declared range [{low}, {high}]")
    clamped = min(high, max(low, score))
    return RewardResult(clamped, result.components, {**result.metrics, OUT_OF_RANGE_METRIC: 1.0}), True


def score_sample(
    fn: RewardFn,
    raw: Any,
    index: int,
    name: str,
    guard: Guard | None = None,
    *,
    timer: SampleTimer | None = None,
) -> dict[str, Any]:
    """Score one raw sample; never raises: any failure — including ``SystemExit``, ``KeyboardInterrupt``,
    ``RecursionError``, ``MemoryError`` or the time budget — becomes score 0.0 with ``reward_error`` = 1.

    ``timer`` (from :func:`~.deadline.batch_timer`) bounds the sample with the batch's handler; without
    it the sample gets its own :func:`~.deadline.time_limit`.
    """
    guard = guard or Guard()
    try:
        sample = parse_sample(raw, index)
        if timer is None:
            with time_limit(guard.sample_timeout_s):
                value = fn(sample)
        else:
            timer.arm(guard.sample_timeout_s)
            try:
                value = fn(sample)
            finally:  # inside the outer try: a signal pending at disarm still becomes a timeout result
                timer.disarm()
        if value is None:
            return render(sample.id, RewardResult(0.0, {name: 0.0}, {NOT_APPLICABLE_METRIC: 1.0}))
        if type(value) is RewardResult and value.components and type(value.score) is float:
            low, high = guard.score_range  # the usual result, already whole and in range: as is
            if low <= value.score <= high:
                return render(sample.id, value)
        result, _ = _bounded(as_result(value, name), guard)
        return render(sample.id, result)
    except RewardTimeout:
        log.warning("reward %s ran out of its %ss budget on sample %d", name, guard.sample_timeout_s, index)
        return _fallback(raw, index, name, TIMEOUT_METRIC)
    except BaseException as exc:
        with contextlib.suppress(BaseException):  # logging itself may fail (RecursionError, MemoryError)
            where = _sample_id(raw, index)
            log.warning("reward %s failed on sample %s: %s: %.500s", name, where, type(exc).__name__, exc)
        metric = OUT_OF_RANGE_METRIC if isinstance(exc, ValueError) and "declared range" in str(exc) else None
        return _fallback(raw, index, name, metric)


def _guard_for(
    fn: Any, score_range: tuple[float, float] | None, out_of_range: str, sample_timeout_s: float | None
) -> Guard:
    low, high = score_range or getattr(fn, "score_range", None) or DEFAULT_SCORE_RANGE
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"score_range must be two finite numbers low <= high; got {(low, high)!r}")
    if out_of_range not in OUT_OF_RANGE_POLICIES:
        raise ValueError(
            f"out_of_range is {out_of_range!r}; expected one of {', '.join(OUT_OF_RANGE_POLICIES)}"
        )
    timeout = sample_timeout_s if sample_timeout_s is not None else getattr(fn, "sample_timeout_s", None)
    return Guard((float(low), float(high)), out_of_range, timeout or DEFAULT_SAMPLE_TIMEOUT_S)


def make_handler(
    fn: RewardFn,
    *,
    max_workers: int | None = None,
    score_range: tuple[float, float] | None = None,
    out_of_range: str = "clamp",
    sample_timeout_s: float | None = None,
) -> GraderHandler:
    """Wrap ``fn(sample)`` into a Lambda handler ``(event, context) -> list[dict]`` (facts §2).

    The handler returns exactly one result per input sample, in order, each with a finite score, and
    never raises: a bad sample or a failing reward scores 0 with ``reward_error``. ``score_range``
    (default: the reward's ``score_range`` attribute, else (0, 1)) bounds every score: outside it the
    score is clamped (``out_of_range="clamp"``) or the sample rejected as an error (``"reject"``), and
    ``reward_out_of_range`` = 1 says so. ``sample_timeout_s`` (default: the reward's attribute, else
    30 s) bounds each sample (``reward_timeout`` = 1), and a Lambda context's remaining time (less
    :data:`INVOCATION_RESERVE_S`) bounds the batch: samples it leaves no time for score 0 with
    ``reward_timeout``. ``max_workers`` > 1 scores samples in a thread
    pool (for I/O-bound rewards such as an LLM judge); by default it is the reward's hint or 1.
    """
    name = reward_name(fn)
    guard = _guard_for(fn, score_range, out_of_range, sample_timeout_s)
    workers = max_workers or int(getattr(fn, "max_workers", 1) or 1)
    pool: list[ThreadPoolExecutor] = []
    pool_lock = threading.Lock()

    def executor() -> ThreadPoolExecutor:
        with pool_lock:  # created once per Lambda container, reused by warm invocations
            if not pool:
                pool.append(ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reward"))
            return pool[0]

    def threaded(raw_samples: list[Any], batch_deadline: float | None) -> list[dict[str, Any]]:
        futures = [
            executor().submit(score_sample, fn, raw, i, name, guard) for i, raw in enumerate(raw_samples)
        ]
        deadline: float | None = None
        if guard.sample_timeout_s:
            deadline = time.monotonic() + guard.sample_timeout_s * len(futures)
        if batch_deadline is not None:
            deadline = batch_deadline if deadline is None else min(deadline, batch_deadline)
        results = []
        for index, future in enumerate(futures):
            try:  # no signal reaches a worker thread: a late sample is abandoned and scored as timed out
                # A passed deadline waits 0 s (it used to become "no timeout": a hung sample hung the batch).
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                results.append(future.result(timeout=left))
            except BaseException:
                results.append(_fallback(raw_samples[index], index, name, TIMEOUT_METRIC))
        for future in futures:  # samples not started yet must not occupy the warm container's pool
            future.cancel()
        return results

    def handler(event: Any, context: Any = None) -> list[dict[str, Any]]:
        started = time.perf_counter()
        try:
            raw_samples = samples_of(event)
        except BaseException:
            raw_samples = []
        deadline = invocation_deadline(context)
        if workers > 1 and len(raw_samples) > 1:
            results = threaded(raw_samples, deadline)
        else:
            results = []
            with batch_timer(guard.sample_timeout_s) as timer:
                for index, raw in enumerate(raw_samples):
                    bounded = guard if deadline is None else _within(guard, deadline)
                    if bounded is None:  # out of invocation time: answer the rest rather than lose them all
                        results.append(_fallback(raw, index, name, TIMEOUT_METRIC))
                    else:
                        results.append(score_sample(fn, raw, index, name, bounded, timer=timer))
        if log.isEnabledFor(logging.INFO):  # off in Lambda by default: no two passes over the results then
            errors = sum(1 for r in results if r["metrics_list"][-1]["value"])
            mean = sum(r["aggregate_reward_score"] for r in results) / len(results) if results else 0.0
            log.info(
                "reward %s scored %d samples in %.1f ms: mean %.3f, %d errors",
                name,
                len(results),
                (time.perf_counter() - started) * 1000,
                mean,
                errors,
            )
        return results

    handler.reward = fn  # type: ignore[attr-defined]
    handler.is_grader_handler = True  # type: ignore[attr-defined]
    handler.guard = guard  # type: ignore[attr-defined]
    return handler  # type: ignore[return-value]


def as_handler(obj: Any, *, max_workers: int | None = None) -> GraderHandler:
    """``obj`` when it is already a handler from :func:`make_handler`, else ``make_handler(obj)``."""
    if getattr(obj, "is_grader_handler", False) is True:
        return obj
    if not callable(obj):
        raise TypeError(f"reward {obj!r} is not callable")
    return make_handler(obj, max_workers=max_workers)
