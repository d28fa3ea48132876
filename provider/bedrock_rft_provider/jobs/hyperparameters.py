"""``rftConfig.hyperParameters``: the eight RFT knobs, validated against the service bounds."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from bedrock_rft_provider.errors import ConfigError, raise_config_errors


@dataclass(frozen=True)
class Bound:
    """The allowed values of one hyperparameter, as the service enforces them."""

    api_name: str
    kind: type
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    # False for bounds we chose because the service documents none (the message then says so).
    documented: bool = True

    def describe(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.minimum is not None and self.maximum is not None:
            return f"{self.kind.__name__} from {self.minimum:g} to {self.maximum:g}"
        return f"positive {self.kind.__name__}"


# Source: botocore bedrock 2023-04-20 (RFTHyperParameters). botocore checks only the minima; the
# service checks the maxima after the request is sent, so both are enforced here. maxPromptLength and
# inferenceMaxTokens have no bounds in the model (undocumented): only "positive integer" is checked.
BOUNDS: dict[str, Bound] = {
    "epoch_count": Bound("epochCount", int, 1, 50),
    "batch_size": Bound("batchSize", int, 16, 512),
    "learning_rate": Bound("learningRate", float, 1e-7, 1e-3),
    "max_prompt_length": Bound("maxPromptLength", int, 1),
    "training_sample_per_prompt": Bound("trainingSamplePerPrompt", int, 2, 16),
    "inference_max_tokens": Bound("inferenceMaxTokens", int, 1),
    "reasoning_effort": Bound("reasoningEffort", str, choices=("low", "medium", "high")),
    "eval_interval": Bound("evalInterval", int, 1, 100),
}
_BY_API_NAME = {bound.api_name: name for name, bound in BOUNDS.items()}


def _check(name: str, value: Any) -> Any:
    return check_bound(f"hyperparameters.{name}", BOUNDS[name], value)


def check_bound(field: str, bound: Bound, value: Any) -> Any:
    """``value`` as ``bound.kind`` if within ``bound``; else a ConfigError naming ``field``."""
    if bound.choices:
        if value not in bound.choices:
            raise ConfigError(field, f"{value!r} is not {bound.describe()}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(
            field, f"must be a number ({bound.describe()}), got {type(value).__name__} {value!r}"
        )
    if bound.kind is int and (isinstance(value, float) and not value.is_integer()):
        raise ConfigError(field, f"must be a whole number ({bound.describe()}), got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(field, f"must be finite ({bound.describe()}), got {value!r}")
    whose = "service" if bound.documented else "provider's defensive (the service documents none)"
    if bound.minimum is not None and value < bound.minimum:
        raise ConfigError(field, f"= {value!r} is below the {whose} minimum {bound.minimum:g}")
    if bound.maximum is not None and value > bound.maximum:
        raise ConfigError(field, f"= {value!r} is above the {whose} maximum {bound.maximum:g}")
    return bound.kind(value)


@dataclass(frozen=True)
class RFTHyperParameters:
    """RFT hyperparameters; an unset field is omitted from the request (the service picks its default).

    The service's defaults for omitted fields are undocumented, so this class never fills them in.
    """

    epoch_count: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    max_prompt_length: int | None = None
    training_sample_per_prompt: int | None = None
    inference_max_tokens: int | None = None
    reasoning_effort: str | None = None
    eval_interval: int | None = None

    def __post_init__(self) -> None:
        check_fields(self, _check)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> RFTHyperParameters:
        """Build from pythonic (``batch_size``) or API (``batchSize``) keys; unknown keys are an error."""
        if values is None:
            return cls()
        if not isinstance(values, Mapping):
            raise ConfigError("hyperparameters", f"must be a dict, got {type(values).__name__}")
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            name = key if key in BOUNDS else _BY_API_NAME.get(key)
            if name is None:
                allowed = ", ".join(BOUNDS)
                raise ConfigError(
                    f"hyperparameters.{key}", f"is not an RFT hyperparameter; allowed: {allowed}"
                )
            if name in kwargs:
                raise ConfigError(f"hyperparameters.{name}", "is given twice (pythonic and API name)")
            kwargs[name] = value
        return cls(**kwargs)

    from_api = from_dict

    def to_request(self) -> dict[str, Any]:
        """The ``rftConfig.hyperParameters`` member of the request, set fields only."""
        return {
            BOUNDS[f.name].api_name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not None
        }


def check_fields(values: Any, check: Callable[[str, Any], Any]) -> None:
    """Replace each set field of the frozen dataclass ``values`` by ``check(name, value)``; every bad
    field is reported at once (``ConfigErrors``). The validation loop of both backends' hyperparameters."""
    raise_config_errors(coerce_fields(values, check))


def coerce_fields(
    values: Any, check: Callable[[str, Any], Any], names: Sequence[str] | None = None
) -> list[ConfigError]:
    """:func:`check_fields` for the fields ``names`` (default all), returning the errors instead of
    raising them, for a caller that reports them together with its own."""
    errors: list[ConfigError] = []
    for name in names if names is not None else [f.name for f in fields(values)]:
        value = getattr(values, name)
        if value is None:
            continue
        try:
            object.__setattr__(values, name, check(name, value))
        except ConfigError as exc:
            errors.append(exc)
    return errors
