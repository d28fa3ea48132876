"""Booleans, numbers and text that may arrive as rendered template strings, coerced one way everywhere.

Airflow renders a templated field to a string unless the DAG renders native objects, so ``"8"``,
``"0.5"`` and ``"True"`` must read as 8, 0.5 and True. Anything that is not recognisably the wanted
type (a typo such as ``"maybe"``, an unrendered ``{{ ... }}``) is a ConfigError naming the field —
never silently False or 0. Pure and stdlib-only, so the core, the operators and the CLI share it.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Mapping
from typing import Any

from bedrock_rft_provider.errors import ConfigError

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})
# What an unset value renders to: nothing, or the text of Python's None.
UNSET_WORDS = frozenset({"", "none"})


def is_unset(value: Any) -> bool:
    """True for None and for the strings an unset template renders to (``""``, ``"None"``)."""
    return value is None or (isinstance(value, str) and value.strip().lower() in UNSET_WORDS)


def as_bool(field: str, value: Any, *, default: bool | None = None) -> bool:
    """``value`` as a bool: a bool, 0/1, or true/false, yes/no, on/off, 1/0 in any case.

    An unset value (see :func:`is_unset`) gives ``default``; without a default it is an error too.

    :raises ConfigError: naming ``field`` for anything else.
    """
    if is_unset(value) and default is not None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ConfigError(field, f"expected true or false, got {value!r}")


def as_float(field: str, value: Any, *, minimum: float | None = None) -> float:
    """``value`` as a finite float (a number or its text); at least ``minimum`` when given.

    :raises ConfigError: naming ``field`` for text that is not a number, a bool, NaN/infinity or a
        value below ``minimum``.
    """
    number = _finite(field, value, "a number")
    if minimum is not None and number < minimum:
        raise ConfigError(field, f"must be at least {minimum:g}, got {number:g}")
    return number


def as_int(field: str, value: Any, *, minimum: int | None = None) -> int:
    """``value`` as an int (an int, a whole float such as ``8.0``, or its text); at least ``minimum``.

    :raises ConfigError: naming ``field`` for a fraction (``"2.5"`` is not silently 2), text that is
        not a number, a bool, or a value below ``minimum``.
    """
    whole = _exact_int(value)
    if whole is None:
        number = _finite(field, value, "a whole number")
        if not number.is_integer():
            raise ConfigError(field, f"expected a whole number, got {value!r}")
        whole = int(number)
    if minimum is not None and whole < minimum:
        raise ConfigError(field, f"must be at least {minimum}, got {whole}")
    return whole


def as_optional_float(field: str, value: Any, *, minimum: float | None = None) -> float | None:
    """None when ``value`` is unset (see :func:`is_unset`), else :func:`as_float`."""
    return None if is_unset(value) else as_float(field, value, minimum=minimum)


def as_optional_text(field: str, value: Any) -> str | None:
    """None when ``value`` is unset (see :func:`is_unset`), else the string itself.

    :raises ConfigError: naming ``field`` when ``value`` is not a string (e.g. a dict from an XCom).
    """
    if is_unset(value):
        return None
    if not isinstance(value, str):
        raise ConfigError(field, f"expected text, got {type(value).__name__} {value!r}")
    return value


def as_mapping(field: str, value: Any, *, expected: str = "a dict") -> Mapping[str, Any]:
    """``value`` as a Mapping: a dict, or the JSON or Python-literal text of one (what a template renders).

    :raises ConfigError: naming ``field`` for anything else (the message says ``expected``).
    """
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        for parse in (json.loads, ast.literal_eval):
            try:
                parsed = parse(value)
            except (ValueError, SyntaxError):
                continue
            if isinstance(parsed, Mapping):
                return parsed
    # The type, not the value: a rendered summary can be long.
    raise ConfigError(field, f"expected {expected}, got {type(value).__name__}")


def _exact_int(value: Any) -> int | None:
    # Ints and their text are taken exactly (a large seed must not round through float).
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _finite(field: str, value: Any, wanted: str) -> float:
    # bool is an int subclass: True as a concurrency or a threshold is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(field, f"expected {wanted}, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(field, f"expected {wanted}, got {value!r}") from None
    if not math.isfinite(number):
        raise ConfigError(field, f"expected {wanted}, got {value!r}")
    return number
