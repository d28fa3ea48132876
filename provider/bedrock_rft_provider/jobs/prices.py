"""The user's price table: what one unit of each spend component costs. We ship no prices.

Bedrock RFT training prices are not in any public document we could find, and Lambda and inference
prices vary by region and change; so every price comes from the user (the ``prices`` DAG param, the
``bedrock_rft_prices`` Airflow Variable or ``bedrock-rft forecast --prices``). A component without a
price is forecast in units only. :func:`price_quantities` prices the forecast and the actual spend alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.errors import ConfigError, raise_config_errors
from bedrock_rft_provider.jobs.hyperparameters import check_fields
from bedrock_rft_provider.templated import as_float

#: Price keys, the unit each price is for, and the forecast quantity it multiplies.
PRICE_UNITS: dict[str, str] = {
    "training_hour": "per hour of RFT training",
    "grader_gb_second": "per GB-second of reward Lambda duration",
    "grader_million_requests": "per 1,000,000 reward Lambda invocations",
    "input_million_tokens": "per 1,000,000 evaluation input (prompt) tokens",
    "output_million_tokens": "per 1,000,000 evaluation output (response) tokens",
}
_TEXT_KEYS = ("currency", "source")


@dataclass(frozen=True)
class PriceTable:
    """Prices in ``currency`` (default ``"USD"``); each is ``None`` (unpriced) or a number >= 0.

    ``source`` says where the user took them from (shown with the forecast). Keys and units:
    ``training_hour``, ``grader_gb_second``, ``grader_million_requests``, ``input_million_tokens``,
    ``output_million_tokens`` (see ``PRICE_UNITS``).
    """

    training_hour: float | None = None
    grader_gb_second: float | None = None
    grader_million_requests: float | None = None
    input_million_tokens: float | None = None
    output_million_tokens: float | None = None
    currency: str = "USD"
    source: str = ""

    def __post_init__(self) -> None:
        check_fields(self, _check_price)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> PriceTable:
        """Build from a mapping of the keys above; unknown keys are an error (a typo would silently
        leave a component unpriced). ``None`` or ``{}`` is the empty table."""
        if not values:
            return cls()
        if not isinstance(values, Mapping):
            raise ConfigError("prices", f"must be a dict of prices, got {type(values).__name__}")
        unknown = [str(k) for k in values if k not in PRICE_UNITS and k not in _TEXT_KEYS]
        if unknown:
            allowed = ", ".join([*PRICE_UNITS, *_TEXT_KEYS])
            raise_config_errors(
                [ConfigError(f"prices.{key}", f"is not a price key; allowed: {allowed}") for key in unknown]
            )
        return cls(**{str(k): v for k, v in values.items()})

    @property
    def empty(self) -> bool:
        """True when no component has a price."""
        return all(getattr(self, key) is None for key in PRICE_UNITS)

    def price(self, key: str) -> float | None:
        """The price of one unit of ``key`` (a ``PRICE_UNITS`` key), or None when unpriced."""
        value: float | None = getattr(self, key)
        return value

    def as_dict(self) -> dict[str, Any]:
        """The set prices plus currency and source, JSON-ready."""
        priced = {key: getattr(self, key) for key in PRICE_UNITS if getattr(self, key) is not None}
        return {**priced, "currency": self.currency, "source": self.source}


def _check_price(name: str, value: Any) -> Any:
    field = f"prices.{name}"
    if name in _TEXT_KEYS:
        if not isinstance(value, str) or (name == "currency" and not value.strip()):
            raise ConfigError(field, f"must be text, got {value!r}")
        return value
    try:
        return as_float(field, value, minimum=0)
    except ConfigError as exc:
        raise ConfigError(field, f"{exc.message} ({PRICE_UNITS[name]})") from None


def price_quantities(
    quantities: Mapping[str, float | None], prices: PriceTable
) -> tuple[dict[str, float], tuple[str, ...], tuple[str, ...]]:
    """``(money, unpriced, unquantified)``: money per component with a price and a known amount
    (rounded to 1e-6), the components without a price, and those priced whose amount is unknown.

    ``quantities`` maps ``PRICE_UNITS`` keys to amounts in those units (None = not known). Used for
    the forecast and for pricing the actual spend the same way.
    """
    money: dict[str, float] = {}
    unpriced: list[str] = []
    unquantified: list[str] = []
    for key in PRICE_UNITS:
        price, amount = prices.price(key), quantities.get(key)
        if price is None:
            unpriced.append(key)
        elif amount is None:
            unquantified.append(key)
        else:
            money[key] = round(price * amount, 6)
            if not math.isfinite(money[key]):
                raise ConfigError(f"prices.{key}", f"= {price!r} makes this component's money infinite")
    return money, tuple(unpriced), tuple(unquantified)


def format_money(amount: float) -> str:
    """Two decimals, or four significant digits below 0.01 (a grader's cents still show)."""
    return f"{amount:,.2f}" if amount >= 0.01 or amount == 0 else f"{amount:.4g}"
