"""Spend and health enforcement while an RFT job trains: what has been spent so far, and whether to stop.

The wait (trigger, sensor or a worker's poll loop, either backend) calls :func:`observe` on every check
with the job's training time so far and the metrics it has written, then :func:`judge`. A verdict to
stop is the same on every later check (time only grows, metrics are only appended), so a stop that was
lost (an API error, a triggerer restart) is simply decided and sent again; stopping is idempotent.

What is counted, and from where:

- training hours: from the service's own timestamps (native: the training stage's ``creationTime``,
  else the job's; open-weight: the job's ``created_at``) to now or to the job's end. The open-weight
  count includes queueing and validation, so it over-counts, which stops early rather than late.
- graded samples: completed steps x ``batch_size`` x ``samples_per_prompt``, plus validation passes
  (points of the validation reward curve) x ``validation_records`` when that is given.
- grader invocations: graded samples / ``samples_per_invocation`` rounded up. Bedrock's batching of
  samples per Lambda invocation is undocumented, so the default 1 (one invocation per graded response)
  is the upper bound.
- money: ``prices["training_hour"] x hours + prices["grader_million_requests"] x invocations / 1e6``
  when a price table is given; prices are the user's (none is invented here). The table has the keys
  of the forecast's price table (branch spend-fc's ``jobs/prices.py``) so one ``prices`` param serves
  both; the components the wait cannot observe (Lambda GB-seconds, evaluation tokens) are accepted
  and left out of the running total, which therefore under-counts them.

Health checks (:mod:`jobs.health`) run on the metrics so far once ``min_health_steps`` steps exist; each
check's action is ``off``, ``warn`` (logged) or ``stop``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from bedrock_rft_provider.errors import ConfigError, raise_config_errors
from bedrock_rft_provider.jobs.budget import CAP_NAMES, SpendCaps
from bedrock_rft_provider.jobs.forecast import NATIVE_EXAMPLE_DEFAULTS
from bedrock_rft_provider.jobs.health import CHECKS, HealthPolicy, assess_training
from bedrock_rft_provider.jobs.metrics import TRAIN_REWARD, VALIDATION_REWARD, TrainingMetrics
from bedrock_rft_provider.templated import as_float, as_int, as_mapping, is_unset

ACTIONS = ("off", "warn", "stop")
# The price table's keys (same names as the forecast's); the first two are the ones the wait counts.
COUNTED_PRICES = ("training_hour", "grader_million_requests")
PRICE_KEYS = (
    *COUNTED_PRICES,
    "grader_gb_second",
    "input_million_tokens",
    "output_million_tokens",
)
PRICE_TEXT_KEYS = ("currency", "source")
DEFAULT_MIN_HEALTH_STEPS = 10
# Native defaults when the job description leaves them out (the documentation example's values).
DEFAULT_SAMPLES_PER_PROMPT = 4
DEFAULT_BATCH_SIZE = NATIVE_EXAMPLE_DEFAULTS["batch_size"]


@dataclass(frozen=True)
class WaitGuard(SpendCaps):
    """Caps and health actions the wait enforces; every field unset means nothing is enforced.

    The caps are :class:`jobs.budget.SpendCaps`' (coerced and checked there, with the same messages):

    :param max_budget: money (the price table's currency) after which the job is stopped; needs ``prices``.
    :param max_training_hours: training hours after which the job is stopped.
    :param max_grader_invocations: grader Lambda invocations after which the job is stopped.
    :param prices: ``{"training_hour": X, "grader_million_requests": Y, ...}`` (missing = 0; see above).
    :param health: check name (``jobs.health.CHECKS``) -> ``off``/``warn``/``stop``; unnamed checks warn.
    :param min_health_steps: steps before health checks judge a curve (default 10; early curves are noisy).
    :param batch_size: prompts per step (default: the job's own hyperparameter when it reports it,
        else 64, the forecast's assumption).
    :param samples_per_prompt: responses graded per prompt (default: the job's, else 4).
    :param samples_per_invocation: graded responses per Lambda invocation (default 1, the upper bound).
    :param validation_records: validation prompts graded at each validation pass (default 0: not counted).
    """

    prices: Mapping[str, Any] = field(default_factory=dict)
    health: Mapping[str, str] = field(default_factory=dict)
    min_health_steps: int = DEFAULT_MIN_HEALTH_STEPS
    batch_size: int | None = None
    samples_per_prompt: int | None = None
    samples_per_invocation: int = 1
    validation_records: int = 0

    def __post_init__(self) -> None:
        errors = self._coerce_caps()
        for name in ("batch_size", "samples_per_prompt"):
            value = getattr(self, name)
            if value is not None and not (_is_int(value) and value > 0):
                errors.append(ConfigError(name, f"{value!r} must be a positive whole number (or unset)"))
        for name in ("samples_per_invocation", "min_health_steps"):
            if not (_is_int(getattr(self, name)) and getattr(self, name) >= 1):
                errors.append(ConfigError(name, f"{getattr(self, name)!r} must be a whole number >= 1"))
        if not (_is_int(self.validation_records) and self.validation_records >= 0):
            errors.append(ConfigError("validation_records", f"{self.validation_records!r} must be >= 0"))
        for key, price in dict(self.prices).items():
            if key in PRICE_TEXT_KEYS:
                continue
            if key not in PRICE_KEYS:
                errors.append(ConfigError(f"prices.{key}", f"unknown; use {', '.join(PRICE_KEYS)}"))
            elif not (_is_number(price) and price >= 0):
                errors.append(ConfigError(f"prices.{key}", f"{price!r} must be a number >= 0"))
        if self.max_budget is not None and not any(self.prices.get(k) for k in COUNTED_PRICES):
            errors.append(
                ConfigError(
                    "max_budget",
                    f"needs a price for {' or '.join(COUNTED_PRICES)} (prices) to be checked while the "
                    "job trains; without prices cap units instead",
                )
            )
        for check, action in dict(self.health).items():
            if check not in CHECKS:
                errors.append(ConfigError(f"health.{check}", f"unknown check; use {', '.join(CHECKS)}"))
            elif action not in ACTIONS:
                errors.append(
                    ConfigError(f"health.{check}", f"{action!r} is not one of {', '.join(ACTIONS)}")
                )
        raise_config_errors(errors)

    @property
    def active(self) -> bool:
        """True when anything can stop the job."""
        return self.any or "stop" in dict(self.health).values()

    def action(self, check: str) -> str:
        return dict(self.health).get(check, "warn")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (a trigger serialises it); :meth:`from_dict` reads it back."""
        out = asdict(self)
        out["prices"], out["health"] = dict(self.prices), dict(self.health)
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> WaitGuard:
        """From a dict of the fields above (e.g. DAG params); unknown keys are a ConfigError."""
        if values is None:
            return cls()
        if not isinstance(values, Mapping):
            raise ConfigError("spend_guard", f"must be a dict, got {type(values).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(str(k) for k in values if k not in known)
        if unknown:
            raise ConfigError(
                "spend_guard", f"unknown field(s) {', '.join(unknown)}; use {', '.join(sorted(known))}"
            )
        given: dict[str, Any] = {}
        for name, value in values.items():
            if is_unset(value):
                continue  # an unset param (None, or a template that rendered to "" / "None")
            if name in CAP_NAMES:
                given[name] = value  # coerced by SpendCaps, with its messages
            elif name in _INT_FIELDS:
                given[name] = as_int(name, value)
            elif name == "prices":
                prices = as_mapping(name, value)
                given[name] = {
                    str(k): (str(v) if k in PRICE_TEXT_KEYS else as_float(f"prices.{k}", v))
                    for k, v in prices.items()
                    if not is_unset(v)
                }
            else:
                given[name] = {str(k): str(v) for k, v in as_mapping(name, value).items()}
        return cls(**given)


_INT_FIELDS = (
    "batch_size",
    "samples_per_prompt",
    "samples_per_invocation",
    "min_health_steps",
    "validation_records",
)


@dataclass(frozen=True)
class Spend:
    """What the job has used so far (estimates; see the module docstring for how each is counted)."""

    training_hours: float
    steps: int
    total_steps: int | None
    graded_samples: int
    grader_invocations: int
    money: float | None = None

    def describe(self) -> str:
        """``2.50 training hours, step 12/40, 3072 graded samples (~3072 grader invocations), 41.20``."""
        of = f"/{self.total_steps}" if self.total_steps else ""
        money = f", {self.money:.2f} spent at the given prices" if self.money is not None else ""
        return (
            f"{self.training_hours:.2f} training hours, step {self.steps}{of}, {self.graded_samples} graded "
            f"samples (~{self.grader_invocations} grader invocations){money}"
        )


@dataclass(frozen=True)
class Verdict:
    """One check's outcome: stop or not, why (``reasons``), what only warns, and the spend so far."""

    stop: bool
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    spend: Spend

    def message(self, job: str) -> str:
        """The task's failure message: the job, why it was stopped, what it had spent."""
        return f"Stopped RFT job {job}: {'; '.join(self.reasons)}. Spent so far: {self.spend.describe()}."

    def as_dict(self) -> dict[str, Any]:
        return {
            "stop": self.stop,
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "spend": asdict(self.spend),
        }


def observe(
    metrics: TrainingMetrics,
    *,
    training_seconds: float,
    guard: WaitGuard,
    batch_size: int | None = None,
    samples_per_prompt: int | None = None,
    total_steps: int | None = None,
) -> Spend:
    """The spend so far from the metrics the job has written and its training time.

    ``batch_size`` / ``samples_per_prompt`` are the job's own hyperparameters when it reports them;
    the guard's values win (the user knows what the service defaulted to), else 64 prompts per step
    (the forecast's assumption) and 4 samples per prompt.
    """
    steps = len(metrics.series.get(TRAIN_REWARD, []))
    # Not 0 when no one says: 0 prompts per step would count no invocations and no money, silently
    # disabling max_grader_invocations; the forecast's assumed default keeps the two consistent.
    batch = guard.batch_size or batch_size or DEFAULT_BATCH_SIZE
    per_prompt = guard.samples_per_prompt or samples_per_prompt or DEFAULT_SAMPLES_PER_PROMPT
    passes = len(metrics.series.get(VALIDATION_REWARD, []))
    graded = steps * batch * per_prompt + passes * guard.validation_records
    invocations = math.ceil(graded / guard.samples_per_invocation)
    hours = max(0.0, training_seconds) / 3600
    money = None
    if any(guard.prices.get(k) is not None for k in COUNTED_PRICES):
        money = hours * float(guard.prices.get("training_hour") or 0) + invocations / 1e6 * float(
            guard.prices.get("grader_million_requests") or 0
        )
    return Spend(hours, steps, total_steps, graded, invocations, money)


def judge(spend: Spend, metrics: TrainingMetrics, guard: WaitGuard) -> Verdict:
    """Stop when a cap is reached or a health check whose action is ``stop`` finds a problem."""
    reasons: list[str] = []
    if guard.max_training_hours is not None and spend.training_hours >= guard.max_training_hours:
        reasons.append(
            f"max_training_hours={guard.max_training_hours:g} reached ({spend.training_hours:.2f} h trained)"
        )
    if guard.max_grader_invocations is not None and spend.grader_invocations >= guard.max_grader_invocations:
        reasons.append(
            f"max_grader_invocations={guard.max_grader_invocations} reached "
            f"(~{spend.grader_invocations} invocations for {spend.graded_samples} graded samples)"
        )
    if guard.max_budget is not None and spend.money is not None and spend.money >= guard.max_budget:
        reasons.append(f"max_budget={guard.max_budget:g} reached ({spend.money:.2f} at the given prices)")
    warnings: list[str] = []
    if spend.steps >= guard.min_health_steps:
        report = assess_training(metrics, HealthPolicy())
        for check, finding in report.by_check().items():
            action = guard.action(check)
            if action == "stop":
                reasons.append(f"health check {check} (policy stop): {finding}")
            elif action == "warn":
                warnings.append(f"health check {check}: {finding}")
    return Verdict(bool(reasons), tuple(reasons), tuple(warnings), spend)


# -- training time from each backend's job description ------------------------------------------------


def native_training_seconds(job: Mapping[str, Any], now: datetime | None = None) -> float:
    """Seconds trained so far by a ``get_model_customization_job`` description (0 before training)."""
    training = ((job.get("statusDetails") or {}).get("trainingDetails")) or {}
    start = training.get("creationTime") or job.get("creationTime")
    if not isinstance(start, datetime):
        return 0.0
    end = job.get("endTime") if isinstance(job.get("endTime"), datetime) else None
    end = end or now or datetime.now(timezone.utc)
    return max(0.0, (_aware(end) - _aware(start)).total_seconds())


def openweight_training_seconds(job: Mapping[str, Any], now: float | None = None) -> float:
    """Seconds since an open-weight job was created, to now or to its ``finished_at``."""
    start = job.get("created_at")
    if start is None or not _is_number(start):
        return 0.0
    end = job.get("finished_at") if _is_number(job.get("finished_at")) else None
    if end is None:
        end = now if now is not None else datetime.now(timezone.utc).timestamp()
    return max(0.0, float(end) - float(start))


def native_hyperparameters(job: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """``(batchSize, trainingSamplePerPrompt)`` of a native job description, when it reports them."""
    rft = ((job.get("customizationConfig") or {}).get("rftConfig")) or {}
    hyper = rft.get("hyperParameters") or {}
    return _positive_int(hyper.get("batchSize")), _positive_int(hyper.get("trainingSamplePerPrompt"))


def openweight_batch_size(job: Mapping[str, Any]) -> int | None:
    """``method.reinforcement.hyperparameters.batch_size`` of an open-weight job, when it reports it."""
    method = job.get("method") or {}
    reinforcement = method.get("reinforcement") if isinstance(method, Mapping) else None
    hyper = (reinforcement or {}).get("hyperparameters") if isinstance(reinforcement, Mapping) else None
    return _positive_int((hyper or {}).get("batch_size")) if isinstance(hyper, Mapping) else None


def _positive_int(value: Any) -> int | None:
    return int(value) if _is_int(value) and value > 0 else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
