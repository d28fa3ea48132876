"""How rewards compare answer values: text folded for comparison, JSON values compared exactly.

Shared by ``json_match`` (``builtin.py``) and ``tool_call_match`` (``toolcall.py``), so both read
"the same value" the same way: numbers exactly (:func:`exact_value`), strings after
:func:`normalize_answer`, booleans only equal booleans, objects and lists member by member.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any


def normalize_answer(text: str) -> str:
    """Text folded for comparison: NFKC, case-folded, whitespace collapsed, edge punctuation dropped."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).strip(" .,:;!?\"'`*")


def same_value(answer: Any, expected: Any) -> bool:
    """True when a parsed JSON ``answer`` equals ``expected`` under the rules of the module doc."""
    if isinstance(expected, bool) or isinstance(answer, bool):
        return answer is expected
    if isinstance(expected, (int, float, Decimal)) and isinstance(answer, (int, float, Decimal)):
        # Exact, like math_answer: ints as they are, floats as the decimal they were written as.
        exact_answer, exact_expected = exact_value(answer), exact_value(expected)
        return exact_answer is not None and exact_answer == exact_expected
    if isinstance(expected, str) and isinstance(answer, str):
        return normalize_answer(answer) == normalize_answer(expected)
    if isinstance(expected, Mapping) and isinstance(answer, Mapping):
        return expected.keys() == answer.keys() and all(same_value(answer[k], expected[k]) for k in expected)
    if isinstance(expected, list) and isinstance(answer, list):
        return len(answer) == len(expected) and all(map(same_value, answer, expected))
    return bool(answer == expected)


MAX_DECIMAL_EXPONENT = 1000


def exact_value(value: object) -> Fraction | None:
    """The exact value of a JSON number: ints and ``Decimal``s as they are, floats as their shortest text.

    Rewards read a response's JSON with ``parse_float=Decimal`` so that what the model wrote is what is
    compared (``1.0000000000000001`` is not 1). A float (a reference given as an already-parsed object)
    is the nearest binary value to what was written; its ``repr`` is the shortest decimal that reads back
    to it, which is the written text for up to 15 significant digits. ``None`` for NaN, infinities, bools
    and a ``Decimal`` whose exponent exceeds :data:`MAX_DECIMAL_EXPONENT` (``1e999999999`` would need a
    billion-digit integer; it equals nothing).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite() or abs(value.adjusted()) > MAX_DECIMAL_EXPONENT:
            return None
        return Fraction(value)
    if isinstance(value, float) and value - value == 0.0:
        return Fraction(Decimal(repr(value)))
    return None
