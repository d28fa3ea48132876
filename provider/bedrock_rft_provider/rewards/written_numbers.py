"""Numbers as model text writes them: read exactly, and compared with the project's one tolerance.

Numbers compare exactly (:func:`same_number`): every value is held as a :class:`~fractions.Fraction` of
what was written, so ``1000000000`` never equals ``1000000001`` and ``2.50`` equals ``2.5``. The only
tolerance is for a value that is genuinely inexact as written: a fraction with no finite decimal form
(``1/3``, ``\\frac{2}{3}``) matches a decimal of at least two places that equals it rounded to that many
places (``0.33``, ``0.667``). A percent sign or scale word on one side only also allows the other reading
(``50%`` matches ``0.5`` and ``50``). Which number of a response is its final answer is ``numeric``'s
business. Standard library only: this module ships in the grader Lambda.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from fractions import Fraction

NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-+])?[ \t]?(?P<cur>[$€£¥₹])?[ \t]?(?P<sign2>[-+])?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d])"
    r"(?:[ \t]?/[ \t]?(?P<den>\d+(?:\.\d+)?)(?![\d.]\d))?"
    r"(?P<scale>[ \t]+(?:thousand|million|billion)\b)?"
    r"(?P<pct>[ \t]?(?:%|percent\b))?",
    re.IGNORECASE,
)
_SCALES = {"thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_WORD = re.compile(r"[a-z]+")
_UNIT_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
)
_TENS_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety"
_WORD_VALUES = {word: value for value, word in enumerate(_UNIT_WORDS.split())}
_WORD_VALUES.update({word: 10 * value for value, word in enumerate(_TENS_WORDS.split(), start=2)})
_WORD_SCALES = {"thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}


@dataclass(frozen=True)
class Number:
    """A number read from text, exactly as written.

    ``value`` is exact (``Fraction("0.1")`` is one tenth, not the nearest float); ``percent`` when written
    with ``%``; ``scale`` from "thousand", "million", "billion"; ``places`` is the count of decimal places
    written (``None`` for a fraction such as ``1/3``, which names an exact value of its own).
    """

    value: Fraction
    percent: bool = False
    scale: int = 1
    places: int | None = 0


def _places(digits: str) -> int:
    point = digits.find(".")
    return 0 if point < 0 else len(digits) - point - 1


def to_number(match: re.Match[str]) -> Number | None:
    """The :class:`Number` a match of :data:`NUMBER` wrote, or None (a zero denominator)."""
    # Short numbers repeat (answers, references, "2 steps"): each is read once; long ones are not kept.
    if match.end() - match.start() <= 32:
        return read_number(match.groups())
    return read_number.__wrapped__(match.groups())


@functools.lru_cache(maxsize=4096)
def read_number(groups: tuple[str | None, ...]) -> Number | None:
    """:func:`to_number` from the match's groups (cached: equal groups give the same object)."""
    sign, _currency, sign2, digits, denominator, scale, percent = groups
    assert digits is not None  # the one group NUMBER always fills
    if "," in digits:
        digits = digits.replace(",", "")
    places: int | None = _places(digits)
    # Fraction(int) skips Fraction(str)'s regex parse, the costliest step of grading a plain answer.
    if places:
        value = Fraction(int(digits.replace(".", "")), 10**places)
    else:
        value = Fraction(int(digits.rstrip(".")))
    if denominator is not None:
        divisor = Fraction(denominator)
        if divisor == 0:
            return None
        value /= divisor
        places = None
    factor = _SCALES[scale.strip().lower()] if scale else 1
    if sign == "-" or sign2 == "-":
        value = -value
    if factor != 1:
        value *= factor
    return Number(value, percent=bool(percent), scale=factor, places=places)


def numbers_in(text: str) -> list[Number]:
    """Every number in ``text``, in order (thousands separators, currency, signs, fractions, percent)."""
    found = []
    for match in NUMBER.finditer(text):
        number = to_number(match)
        if number is not None:
            found.append(number)
    return found


def word_number(text: str) -> Number | None:
    """The first number written in words (``eighteen``, ``twenty-five``, ``one hundred and five``)."""
    total = current = 0
    seen = False
    for word in _WORD.findall(text.lower()):
        if word in _WORD_VALUES:
            current += _WORD_VALUES[word]
        elif word == "hundred" and seen:
            current *= 100
        elif word in _WORD_SCALES and seen:
            total, current = total + current * _WORD_SCALES[word], 0
        elif word == "and" and seen:
            continue
        elif seen:
            break
        else:
            continue
        seen = True
    return Number(Fraction(total + current)) if seen else None


def has_finite_decimal(value: Fraction) -> bool:
    """True when ``value`` can be written exactly with finitely many decimal places (1/4 yes, 1/3 no)."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


def _rounds_to(exact: Fraction, decimal: Fraction, places: int) -> bool:
    """True when ``exact`` rounded half away from zero to ``places`` decimal places is ``decimal``."""
    scaled = abs(exact) * 10**places
    units = math.floor(scaled + Fraction(1, 2))
    return Fraction(units if exact >= 0 else -units, 10**places) == decimal


def _equal(a: Fraction, a_places: int | None, b: Fraction, b_places: int | None) -> bool:
    if a == b:
        return True
    # The one tolerance: a value with no finite decimal form, against a decimal rounding of it.
    if a_places is None and b_places is not None and b_places >= 2 and not has_finite_decimal(a):
        return _rounds_to(a, b, b_places)
    if b_places is None and a_places is not None and a_places >= 2 and not has_finite_decimal(b):
        return _rounds_to(b, a, a_places)
    return False


def _alternative(number: Number, other: Number) -> Fraction | None:
    """The other reading of a number when only it carries a percent sign or a scale word."""
    if number.percent and not other.percent:
        return number.value / 100
    if number.scale != 1 and other.scale == 1:
        return number.value / number.scale
    return None


def _alternative_places(number: Number, other: Number) -> int | None:
    """Decimal places of :func:`_alternative`'s reading (a percent moves the point two places)."""
    if number.places is None:
        return None
    return number.places + 2 if number.percent and not other.percent else number.places


def same_number(answer: Number, reference: Number) -> bool:
    """Exact numeric equality (see the module doc for the one tolerance and for percent/scale readings).

    ``50%`` matches ``0.5`` and ``50``; ``$4 million`` matches ``4000000`` and ``4``; ``1000000000`` does
    not match ``1000000001``.
    """
    if answer is reference:  # plain answers and references share their Number objects (read_number)
        return True
    plain = answer.scale == reference.scale == 1 and not (answer.percent or reference.percent)
    if plain and answer.places is not None and reference.places is not None:
        return answer.value == reference.value  # two plain decimals: no tolerance, no other reading
    if _equal(answer.value, answer.places, reference.value, reference.places):
        return True
    answer_alt, reference_alt = _alternative(answer, reference), _alternative(reference, answer)
    if answer_alt is not None and _equal(
        answer_alt, _alternative_places(answer, reference), reference.value, reference.places
    ):
        return True
    return reference_alt is not None and _equal(
        answer.value, answer.places, reference_alt, _alternative_places(reference, answer)
    )
