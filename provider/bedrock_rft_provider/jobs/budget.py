"""Spend caps for one RFT run: the limits a forecast (before submission) and the wait (while training)
are held to.

The DAG params and operator arguments carry exactly these names: ``max_budget`` (money, in the price
table's currency; needs prices), ``max_training_hours`` (wall-clock training hours) and
``max_grader_invocations`` (reward Lambda invocations). ``None`` (or a missing key) means no cap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from bedrock_rft_provider.errors import ConfigError, raise_config_errors

CAP_NAMES = ("max_budget", "max_training_hours", "max_grader_invocations")


@dataclass(frozen=True)
class SpendCaps:
    """The caps of one run; each is ``None`` (uncapped) or a positive number.

    ``max_budget``: money, same currency as the price table (``PriceTable``); float > 0.
    ``max_training_hours``: hours of training (service-reported or estimated); float > 0.
    ``max_grader_invocations``: reward Lambda invocations, training + validation; int >= 1.
    """

    max_budget: float | None = None
    max_training_hours: float | None = None
    max_grader_invocations: int | None = None

    def __post_init__(self) -> None:
        errors: list[ConfigError] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            try:
                object.__setattr__(self, f.name, _check_cap(f.name, value))
            except ConfigError as exc:
                errors.append(exc)
        raise_config_errors(errors)

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> SpendCaps:
        """The caps among ``params`` (a DAG's params or an operator's arguments); other keys are ignored.

        Values may be numbers or numeric strings (templated fields render as strings); ``None``, ``""``,
        ``"none"`` and ``"null"`` mean uncapped. Raises ConfigError naming the param for anything else.
        """
        if not params:
            return cls()
        return cls(**{name: _blank_to_none(params.get(name)) for name in CAP_NAMES})

    @property
    def any(self) -> bool:
        """Whether at least one cap is set."""
        return any(getattr(self, name) is not None for name in CAP_NAMES)

    def as_dict(self) -> dict[str, float | int | None]:
        """``{max_budget, max_training_hours, max_grader_invocations}`` for XCom and reports."""
        return asdict(self)


def _blank_to_none(value: Any) -> Any:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
        return None
    return value


def _check_cap(name: str, value: Any) -> float | int:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ConfigError(name, f"must be a positive number or empty (no cap), got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, f"must be a positive number or empty (no cap), got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(name, f"= {value!r} must be a positive finite number (omit it for no cap)")
    if name == "max_grader_invocations":
        if not float(value).is_integer():
            raise ConfigError(name, f"must be a whole number of invocations, got {value!r}")
        return int(value)
    return float(value)
