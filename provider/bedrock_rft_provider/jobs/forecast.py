"""The spend forecast of one RFT run, before any paid call: grader invocations, Lambda GB-seconds,
evaluation tokens, training hours and (with a price table) money, for both training backends.

The training plan follows the steps the job runs: ``ceil(train_records / batch_size)`` steps per epoch,
each grading ``min(batch_size, train_records) x samples_per_prompt`` responses (a short last batch is
counted full, so the forecast never undercounts), plus one validation pass over the validation records
every ``eval_interval`` steps and after the last step (``ceil(steps / eval_interval)`` passes, one
response per prompt, as the ``mean@1`` validation metric says).

What the services leave undocumented is an explicit assumption, shown with the forecast: the native
backend's defaults for unset hyperparameters (the user guide's example values), the open-weight
backend's samples per prompt and evaluation interval (not parameters of its API), and how many
samples Bedrock sends per grader invocation (1 by default: the most invocations it could be).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.backends import NATIVE, OPEN_WEIGHT
from bedrock_rft_provider.jobs.hyperparameters import RFTHyperParameters
from bedrock_rft_provider.jobs.openweight import OpenWeightHyperParameters
from bedrock_rft_provider.jobs.prices import PriceTable, format_money, price_quantities

# The user guide's example values; the service's own defaults for omitted fields are undocumented.
NATIVE_EXAMPLE_DEFAULTS = {
    "epoch_count": 2,
    "batch_size": 64,
    "training_sample_per_prompt": 4,
    "eval_interval": 10,
    "inference_max_tokens": 8192,
}
__all__ = [  # price_quantities and format_money live in jobs.prices; also importable from here
    "ForecastAssumptions",
    "ForecastInputs",
    "SpendForecast",
    "TrainingPlan",
    "forecast_spend",
    "format_money",
    "plan_mismatch",
    "price_quantities",
    "training_plan",
]
# The open-weight API's one documented example (n_epochs 1, batch_size 4) is not a default either.
OPEN_WEIGHT_ASSUMED_DEFAULTS = {"n_epochs": 2, "batch_size": 64}
MB_PER_GB = 1024
# AWS Lambda's configurable memory range, in MB.
LAMBDA_MEMORY_MB = (128, 10240)
DEFAULT_EVAL_OUTPUT_TOKENS = 1024


@dataclass(frozen=True)
class ForecastAssumptions:
    """What the forecast cannot read from the service; each default is stated with the forecast.

    :param grader_samples_per_invocation: samples per reward Lambda call (Bedrock's batching is
        undocumented; 1 counts the most invocations possible).
    :param samples_per_prompt: open-weight responses per training prompt (default 4, the native example).
    :param eval_interval: open-weight steps between validation passes (default 10, the native example).
    :param eval_samples_per_prompt: responses per test prompt and model in the evaluation (default 1).
    :param eval_output_tokens: tokens per evaluation response (default: ``inference_max_tokens`` when
        set, else 1024); an upper bound unless you measured it.
    :param training_samples_per_hour: graded training samples per hour of training, from a past run
        (the champion record's actual) or your own measurement; without it hours are not forecast.
    """

    grader_samples_per_invocation: int = 1
    samples_per_prompt: int = 4
    eval_interval: int = 10
    eval_samples_per_prompt: int = 1
    eval_output_tokens: int | None = None
    training_samples_per_hour: float | None = None

    def __post_init__(self) -> None:
        for name in ("grader_samples_per_invocation", "samples_per_prompt", "eval_interval"):
            _positive_int(f"assumptions.{name}", getattr(self, name))
        _positive_int("assumptions.eval_samples_per_prompt", self.eval_samples_per_prompt)
        if self.eval_output_tokens is not None:
            _positive_int("assumptions.eval_output_tokens", self.eval_output_tokens)
        rate = self.training_samples_per_hour
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0):
            raise ConfigError("assumptions.training_samples_per_hour", f"must be a number > 0, got {rate!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> ForecastAssumptions:
        """Build from a mapping of the field names; unknown keys are an error naming the key."""
        values = dict(values or {})
        known = set(cls.__dataclass_fields__)
        for key in values:
            if key not in known:
                allowed = ", ".join(sorted(known))
                raise ConfigError(f"assumptions.{key}", f"is not a forecast assumption; allowed: {allowed}")
        return cls(**values)


@dataclass(frozen=True)
class ForecastInputs:
    """What the forecast reads from the run: dataset counts, prompt lengths, the grader's measurement.

    :param backend: ``"native"`` or ``"open-weight"`` (``jobs.backends.choose_backend``).
    :param hyperparameters: the job's hyperparameters as the DAG gives them (pythonic or API names).
    :param prompt_tokens_mean: mean estimated prompt tokens (the dataset report's ``prompt_length``).
    :param grader_seconds_per_sample: measured reward Lambda duration per sample (the preflight).
    :param grader_memory_mb: the grader Lambda's configured memory, in MB.
    """

    backend: str
    train_records: int
    validation_records: int = 0
    test_records: int = 0
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    prompt_tokens_mean: float | None = None
    grader_seconds_per_sample: float | None = None
    grader_memory_mb: int | None = None

    def __post_init__(self) -> None:
        if self.backend not in (NATIVE, OPEN_WEIGHT):
            raise ConfigError("backend", f"{self.backend!r} is not one of {NATIVE}, {OPEN_WEIGHT}")
        _positive_int("train_records", self.train_records)
        for name in ("validation_records", "test_records"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(name, f"must be a whole number >= 0, got {value!r}")
        memory = self.grader_memory_mb
        # A negative or zero memory made negative GB-seconds, i.e. a lower money total under max_budget.
        if memory is not None and (
            isinstance(memory, bool)
            or not isinstance(memory, int)
            or not LAMBDA_MEMORY_MB[0] <= memory <= LAMBDA_MEMORY_MB[1]
        ):
            low, high = LAMBDA_MEMORY_MB
            raise ConfigError(
                "grader_memory_mb", f"must be a whole number of MB from {low} to {high}, got {memory!r}"
            )


@dataclass(frozen=True)
class TrainingPlan:
    """The steps and samples one job will run, with the source of every value."""

    epochs: int
    batch_size: int
    samples_per_prompt: int
    eval_interval: int
    steps: int
    validation_passes: int
    assumed: tuple[str, ...]


@dataclass(frozen=True)
class SpendForecast:
    """The forecast: units always, money for each priced component (``money``, in ``currency``).

    Quantities the inputs cannot determine are ``None`` (and say why in ``notes``): ``lambda_gb_seconds``
    without a measured preflight and the grader's memory, ``training_hours`` without a training rate.
    """

    backend: str
    plan: TrainingPlan
    graded_training_samples: int
    graded_validation_samples: int
    grader_invocations: int
    grader_samples_per_invocation: int
    lambda_gb_seconds: float | None
    eval_input_tokens: int | None
    eval_output_tokens: int
    training_hours: float | None
    money: dict[str, float]
    currency: str
    price_source: str
    unpriced: tuple[str, ...]
    unquantified: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def graded_samples(self) -> int:
        """Training plus validation responses the grader scores."""
        return self.graded_training_samples + self.graded_validation_samples

    @property
    def total_money(self) -> float | None:
        """The sum of the priced components; None when nothing is priced."""
        return round(sum(self.money.values()), 6) if self.money else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: every quantity, the plan, money per component and total, notes (for XCom)."""
        return {
            "backend": self.backend,
            "plan": asdict(self.plan),
            "graded_training_samples": self.graded_training_samples,
            "graded_validation_samples": self.graded_validation_samples,
            "graded_samples": self.graded_samples,
            "grader_invocations": self.grader_invocations,
            "grader_samples_per_invocation": self.grader_samples_per_invocation,
            "lambda_gb_seconds": self.lambda_gb_seconds,
            "eval_input_tokens": self.eval_input_tokens,
            "eval_output_tokens": self.eval_output_tokens,
            "training_hours": self.training_hours,
            "money": self.money,
            "total_money": self.total_money,
            "currency": self.currency,
            "unpriced": list(self.unpriced),
            "unquantified": list(self.unquantified),
            "notes": list(self.notes),
            "lines": self.lines(),
        }

    def lines(self) -> list[str]:
        """The forecast as log / CLI lines, one quantity per line."""
        p = self.plan
        out = [
            f"Spend forecast ({self.backend} backend): {p.steps} training steps = {p.epochs} epoch(s) x "
            f"{p.steps // p.epochs} step(s) of {p.batch_size} prompts x {p.samples_per_prompt} samples; "
            f"{p.validation_passes} validation pass(es)",
            f"  graded samples:      {self.graded_samples:,} ({self.graded_training_samples:,} training + "
            f"{self.graded_validation_samples:,} validation)",
            f"  grader invocations:  {self.grader_invocations:,}",
            f"  Lambda GB-seconds:   {_or_unknown(self.lambda_gb_seconds, '{:,.4g}')}",
            f"  evaluation tokens:   {_or_unknown(self.eval_input_tokens, '{:,}')} in, "
            f"{self.eval_output_tokens:,} out (at most)",
            f"  training hours:      {_or_unknown(self.training_hours, '{:,.2f}')}",
        ]
        if self.money:
            parts = ", ".join(f"{k} {format_money(v)}" for k, v in self.money.items())
            total = format_money(sum(self.money.values()))
            source = f"; prices: {self.price_source}" if self.price_source else ""
            out.append(f"  money:               {total} {self.currency} ({parts}){source}")
        if self.unpriced and self.money:
            out.append(f"  not priced:          {', '.join(self.unpriced)}")
        if self.unquantified:
            out.append(f"  priced, amount unknown: {', '.join(self.unquantified)}")
        out.extend(f"  note: {note}" for note in self.notes)
        return out


def training_plan(inputs: ForecastInputs, assumptions: ForecastAssumptions) -> TrainingPlan:
    """Epochs, batch, samples per prompt and validation interval for ``inputs.backend``, with steps.

    The hyperparameters are validated by the backend's own class (errors name ``hyperparameters.X``).
    """
    assumed: list[str] = []

    def pick(name: str, value: int | None, default: int, why: str) -> int:
        if value is None:
            assumed.append(f"{name} = {default} ({why})")
            return default
        return int(value)

    if inputs.backend == NATIVE:
        hp = RFTHyperParameters.from_dict(inputs.hyperparameters)
        why = "unset; the user guide's example value, the service default is undocumented"
        d = NATIVE_EXAMPLE_DEFAULTS
        epochs = pick("epoch_count", hp.epoch_count, d["epoch_count"], why)
        batch = pick("batch_size", hp.batch_size, d["batch_size"], why)
        group = pick(
            "training_sample_per_prompt", hp.training_sample_per_prompt, d["training_sample_per_prompt"], why
        )
        interval = pick("eval_interval", hp.eval_interval, d["eval_interval"], why)
    else:
        ow = OpenWeightHyperParameters.from_dict(inputs.hyperparameters)
        why = "unset; the open-weight API's default is undocumented"
        epochs = pick("n_epochs", ow.n_epochs, OPEN_WEIGHT_ASSUMED_DEFAULTS["n_epochs"], why)
        batch = pick("batch_size", ow.batch_size, OPEN_WEIGHT_ASSUMED_DEFAULTS["batch_size"], why)
        group, interval = assumptions.samples_per_prompt, assumptions.eval_interval
        assumed.append(
            f"samples_per_prompt = {group} and eval_interval = {interval} "
            "(assumptions: the open-weight API does not take them)"
        )
    steps = epochs * math.ceil(inputs.train_records / batch)
    passes = math.ceil(steps / interval) if inputs.validation_records else 0
    return TrainingPlan(epochs, batch, group, interval, steps, passes, tuple(assumed))


def forecast_spend(
    inputs: ForecastInputs,
    assumptions: ForecastAssumptions | None = None,
    prices: PriceTable | None = None,
) -> SpendForecast:
    """The spend forecast of one run; pure. Raises ConfigError for inputs that cannot be forecast."""
    assumptions = assumptions or ForecastAssumptions()
    prices = prices or PriceTable()
    plan = training_plan(inputs, assumptions)
    notes = list(plan.assumed)
    per_step = min(plan.batch_size, inputs.train_records) * plan.samples_per_prompt
    per_call = assumptions.grader_samples_per_invocation
    training_samples = plan.steps * per_step
    validation_samples = plan.validation_passes * inputs.validation_records
    invocations = plan.steps * math.ceil(per_step / per_call) + plan.validation_passes * math.ceil(
        inputs.validation_records / per_call
    )
    if per_call == 1:
        notes.append("grader invocations assume 1 sample per invocation (Bedrock's batching is undocumented)")

    gb_seconds = None
    if inputs.grader_seconds_per_sample is None or inputs.grader_memory_mb is None:
        notes.append("Lambda GB-seconds need the preflight's measured latency and the grader's memory")
    else:
        seconds = (training_samples + validation_samples) * inputs.grader_seconds_per_sample
        gb_seconds = round(seconds * inputs.grader_memory_mb / MB_PER_GB, 6)

    eval_responses = inputs.test_records * 2 * assumptions.eval_samples_per_prompt  # tuned + baseline
    input_tokens = None
    if inputs.prompt_tokens_mean is None:
        notes.append("evaluation input tokens need the dataset report's prompt lengths")
    else:
        input_tokens = math.ceil(eval_responses * inputs.prompt_tokens_mean)
    output_tokens = eval_responses * _output_tokens(inputs, assumptions)

    hours = None
    if assumptions.training_samples_per_hour is None:
        notes.append("training hours need a training rate (assumptions.training_samples_per_hour)")
    else:
        hours = round(training_samples / assumptions.training_samples_per_hour, 4)
        if not math.isfinite(hours):  # a rate such as 1e-320: no cap could be checked against it
            raise ConfigError(
                "assumptions.training_samples_per_hour",
                f"= {assumptions.training_samples_per_hour!r} is too small: the forecast hours are infinite",
            )

    quantities = {
        "training_hour": hours,
        "grader_gb_second": gb_seconds,
        "grader_million_requests": invocations / 1e6,
        "input_million_tokens": None if input_tokens is None else input_tokens / 1e6,
        "output_million_tokens": output_tokens / 1e6,
    }
    money, unpriced, unquantified = price_quantities(quantities, prices)
    if not math.isfinite(sum(money.values())):
        raise ConfigError("prices", "are so large that the forecast money total is infinite")
    return SpendForecast(
        backend=inputs.backend,
        plan=plan,
        graded_training_samples=training_samples,
        graded_validation_samples=validation_samples,
        grader_invocations=invocations,
        grader_samples_per_invocation=per_call,
        lambda_gb_seconds=gb_seconds,
        eval_input_tokens=input_tokens,
        eval_output_tokens=output_tokens,
        training_hours=hours,
        money=money,
        currency=prices.currency,
        price_source=prices.source,
        unpriced=unpriced,
        unquantified=unquantified,
        notes=tuple(notes),
    )


def _output_tokens(inputs: ForecastInputs, assumptions: ForecastAssumptions) -> int:
    if assumptions.eval_output_tokens is not None:
        return assumptions.eval_output_tokens
    if inputs.backend == NATIVE:
        configured = RFTHyperParameters.from_dict(inputs.hyperparameters).inference_max_tokens
        if configured:
            return configured
    return DEFAULT_EVAL_OUTPUT_TOKENS


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(name, f"must be a whole number >= 1, got {value!r}")


def _or_unknown(value: float | None, fmt: str) -> str:
    return "unknown" if value is None else fmt.format(value)


def plan_mismatch(
    forecast: Mapping[str, Any], backend: str, hyperparameters: Mapping[str, Any] | None
) -> str:
    """What differs between the plan ``forecast`` was made for and the job's ``hyperparameters``
    (``""`` when they agree): caps checked against another configuration's forecast prove nothing."""
    planned = forecast.get("plan") or {}
    assumptions = ForecastAssumptions(
        samples_per_prompt=int(planned.get("samples_per_prompt") or 4),
        eval_interval=int(planned.get("eval_interval") or 10),
    )
    job = ForecastInputs(backend, train_records=1, hyperparameters=dict(hyperparameters or {}))
    actual = training_plan(job, assumptions)
    names = ("epochs", "batch_size", "samples_per_prompt", "eval_interval")
    return ", ".join(
        f"{name} {planned.get(name)} (forecast) != {getattr(actual, name)} (job)"
        for name in names
        if planned.get(name) != getattr(actual, name)
    )
