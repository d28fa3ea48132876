"""Spend caps for one RFT run: the limits a forecast (before submission) and the wait (while training)
are held to.

The DAG params and operator arguments carry exactly these names: ``max_budget`` (money, in the price
table's currency; needs prices), ``max_training_hours`` (wall-clock training hours) and
``max_grader_invocations`` (reward Lambda invocations). ``None`` (or a missing key) means no cap.
:class:`SpendCaps` is the one place they are coerced and checked: the wait's ``jobs.spend_guard.WaitGuard``
is a ``SpendCaps`` with the wait's own knobs added, so both give the same messages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.errors import BedrockRFTError, ConfigError, raise_config_errors
from bedrock_rft_provider.jobs.cap_names import CAP_NAMES
from bedrock_rft_provider.templated import as_float, as_int, is_unset


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
        raise_config_errors(self._coerce_caps())

    def _coerce_caps(self) -> list[ConfigError]:
        """Set each given cap to its number (numbers or their text); one ConfigError per bad cap."""
        # Imported here: a DAG file reads CAP_NAMES without the hyperparameter bounds.
        from bedrock_rft_provider.jobs.hyperparameters import coerce_fields

        return coerce_fields(self, _check_cap, CAP_NAMES)

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> SpendCaps:
        """The caps among ``params`` (a DAG's params or an operator's arguments); other keys are ignored.

        Values may be numbers or numeric strings (templated fields render as strings); ``None``, ``""``
        and ``"None"`` mean uncapped. Raises ConfigError naming the param for anything else.
        """
        if not params:
            return cls()
        return cls(**{name: None if is_unset(params.get(name)) else params.get(name) for name in CAP_NAMES})

    @property
    def any(self) -> bool:
        """Whether at least one cap is set."""
        return any(getattr(self, name) is not None for name in CAP_NAMES)

    def as_dict(self) -> dict[str, float | int | None]:
        """``{max_budget, max_training_hours, max_grader_invocations}`` for XCom and reports."""
        return {name: getattr(self, name) for name in CAP_NAMES}


class SpendCapExceeded(BedrockRFTError):
    """The spend forecast is over a cap: the job is not submitted. ``problems`` has one line per cap."""

    def __init__(self, problems: list[str], forecast_lines: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "RFT job not submitted: the spend forecast is over "
            + ("a cap" if len(problems) == 1 else f"{len(problems)} caps")
            + ":\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\n"
            + "\n".join(forecast_lines)
        )


def over_caps(forecast: Mapping[str, Any], caps: SpendCaps) -> list[str]:
    """One line per cap the forecast exceeds: forecast vs cap, and what to change. [] when within.

    ``forecast`` is ``SpendForecast.as_dict()`` (also as read back from XCom). A ``max_budget`` without
    any priced component, or with a priced component the forecast cannot quantify, is a ConfigError:
    a budget that cannot be checked must not pass silently.
    """
    epochs = int((forecast.get("plan") or {}).get("epochs") or 1)
    problems: list[str] = []
    invocations = forecast.get("grader_invocations")
    cap = caps.max_grader_invocations
    if cap is not None and invocations is not None and invocations > cap:
        problems.append(
            f"max_grader_invocations = {cap:,}: the forecast is {invocations:,} grader invocations; "
            + _what_to_change("max_grader_invocations", invocations, cap, epochs)
        )
    hours = forecast.get("training_hours")
    if caps.max_training_hours is not None and hours is not None and hours > caps.max_training_hours:
        problems.append(
            f"max_training_hours = {caps.max_training_hours:g}: the forecast is {hours:,.2f} training hours; "
            + _what_to_change("max_training_hours", hours, caps.max_training_hours, epochs)
        )
    if caps.max_budget is not None:
        total = forecast.get("total_money")
        currency = forecast.get("currency", "")
        if total is None:
            raise ConfigError(
                "max_budget",
                "needs prices (the prices param or the bedrock_rft_prices Variable); the forecast has "
                "no priced component, so the budget cannot be checked",
            )
        unknown = list(forecast.get("unquantified") or [])
        if unknown:
            raise ConfigError(
                "max_budget",
                f"cannot be checked: {', '.join(unknown)} is priced but its quantity is unknown "
                "(give assumptions.training_samples_per_hour / the measured preflight, or drop its price)",
            )
        if total > caps.max_budget:
            problems.append(
                f"max_budget = {caps.max_budget:,.2f} {currency}: the forecast is {total:,.2f} {currency}; "
                + _what_to_change("max_budget", total, caps.max_budget, epochs)
            )
    return problems


def unchecked_caps(forecast: Mapping[str, Any], caps: SpendCaps) -> list[str]:
    """One line per set cap the forecast cannot check (its quantity is unknown), for the reader: such a
    cap passes submission and is enforced only by the wait, once the job trains. [] when all were."""
    lines = []
    if caps.max_training_hours is not None and forecast.get("training_hours") is None:
        lines.append(
            f"max_training_hours = {caps.max_training_hours:g}: not checked, the forecast has no training "
            "hours (give assumptions.training_samples_per_hour); the wait stops the job at the cap"
        )
    if caps.max_grader_invocations is not None and forecast.get("grader_invocations") is None:
        lines.append(
            f"max_grader_invocations = {caps.max_grader_invocations:,}: not checked, the forecast has no "
            "grader invocations; the wait stops the job at the cap"
        )
    return lines


def check_caps(forecast: Mapping[str, Any], caps: SpendCaps) -> None:
    """Raise SpendCapExceeded (quoting the forecast's ``lines``) when ``over_caps`` finds anything."""
    problems = over_caps(forecast, caps)
    if problems:
        raise SpendCapExceeded(problems, [str(line) for line in forecast.get("lines") or []])


def _what_to_change(cap: str, forecast: float, limit: float, epochs: int) -> str:
    fitting = math.floor(epochs * limit / forecast)
    fewer = (
        f"lower the epochs to {fitting}"
        if 1 <= fitting < epochs
        else "use fewer training records or samples per prompt (even one epoch is over)"
        if fitting < 1
        else "use fewer training records or samples per prompt"
    )
    return f"{fewer}, or raise {cap} to at least {_round_up(forecast)}"


def _round_up(value: float) -> str:
    return f"{math.ceil(value):,}" if value >= 10 else f"{math.ceil(value * 100) / 100:g}"


def _check_cap(name: str, value: Any) -> float | int:
    if name == "max_grader_invocations":
        return as_int(name, value, minimum=1)
    number = as_float(name, value)
    if number <= 0:
        raise ConfigError(name, f"= {number:g} must be more than 0 (omit it for no cap)")
    return number
