"""Final-answer extraction for GSM8K-style math rewards: which number of a response is its answer.

The extraction rules, strongest signal first (the first rule that finds a number decides):
``hash`` (``#### N``), ``boxed`` (``\\boxed{N}``), ``answer_is`` ("The (final) answer is N", "Answer: N"),
``label`` (a line starting ``A: N``), ``final_line`` (a last line holding one number, or ``... = N``),
``last_number`` (the last number anywhere). Within a rule the last occurrence wins, since a model that
corrects itself states its final answer last; ``conflicting`` reports that the rule saw different values.

Numbers are read and compared exactly by ``written_numbers`` (:func:`same_number`: ``2.50`` equals
``2.5``, ``1000000000`` never equals ``1000000001``); its names are re-exported here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from bedrock_rft_provider.rewards.written_numbers import (
    NUMBER,
    Number,
    has_finite_decimal,
    numbers_in,
    read_number,
    same_number,
    to_number,
    word_number,
)

__all__ = [
    "NOT_FOUND",
    "RULES",
    "Extraction",
    "Number",
    "clause_answer",
    "extract_answer",
    "extract_by_rules",
    "has_finite_decimal",
    "line_answer",
    "normalize_text",
    "numbers_in",
    "parse_reference",
    "same_number",
    "word_number",
]

RULES = ("hash", "boxed", "answer_is", "label", "final_line", "last_number")

_SPACED_THOUSANDS = re.compile(r"(?<=\d)[\u00a0\u202f\u2009](?=\d{3}(?!\d))")
_CALCULATOR = re.compile(r"<<[^<>]*>>")
_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*([-+]?[\d.,]+)\s*\}\s*\{\s*([\d.,]+)\s*\}")
_LATEX_WRAP = re.compile(r"\\(?:text|textbf|mathrm|mathbf|textrm)\s*\{([^{}]*)\}")
_LATEX_DROP = re.compile(r"\\(?:left|right|[!,;: ]|quad|qquad)")
_MIXED = re.compile(r"(?<![\w./])(\d+)[ \t]+(\d+)/(\d+)(?![\w/])")
_HASH = re.compile(r"####[ \t]*([^\n]*)")
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BRACE = re.compile(r"[{}]")
_ANSWER_IS = re.compile(
    r"answer\**\s*(?:is|was|would\s+be|will\s+be|equals|:|=)\**\s*:?\s*",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^[ \t>*_#-]*(?:a|ans)\.?\**[ \t]*:\**[ \t]*([^\n]*)", re.IGNORECASE | re.MULTILINE)
_CLAUSE_END = re.compile(r"\.(?:\s|$)|;")
_OPERATOR_NEXT = re.compile(r"[ \t]*[-+*/\u00d7x\u00f7][ \t]*[$(]?[ \t]*\d")


@dataclass(frozen=True)
class Extraction:
    """The final answer found in a text, the rule that found it, and whether that rule saw rivals."""

    number: Number | None
    rule: str
    conflicting: bool = False


NOT_FOUND = Extraction(None, "none")


def normalize_text(text: str) -> str:
    """Text with calculator annotations, LaTeX number markup and unicode minus signs normalized."""
    if "<<" in text:
        text = _CALCULATOR.sub("", text)
    if "\\" in text:
        if "frac" in text:
            text = _LATEX_FRAC.sub(r"\1/\2", text)
        if "\\text" in text or "\\math" in text:
            text = _LATEX_WRAP.sub(r"\1", text)
        text = _LATEX_DROP.sub("", text.replace("\\$", "$").replace("\\%", "%"))
    if "\u00a0" in text or "\u202f" in text or "\u2009" in text:
        text = _SPACED_THOUSANDS.sub("", text)
    if "{,}" in text:
        text = text.replace("{,}", ",")
    if "\u2212" in text:
        text = text.replace("\u2212", "-")
    return text


def _mixed_numbers(text: str) -> str:
    """``3 1/2`` -> ``7/2`` (only in the short answer clauses: a mixed number reads as one number)."""
    return _MIXED.sub(_mixed_to_fraction, text) if "/" in text else text


def _mixed_to_fraction(match: re.Match[str]) -> str:
    whole, numerator, denominator = (int(g) for g in match.groups())
    if 0 < numerator < denominator:
        return f"{whole * denominator + numerator}/{denominator}"
    return match.group(0)


def _first(text: str) -> tuple[Number, int] | None:
    for match in NUMBER.finditer(text):
        number = to_number(match)
        if number is not None:
            return number, match.end()
    return None


def clause_answer(clause: str) -> Number | None:
    """The number an answer clause states: its first number, or the result when it opens with a sum.

    The clause ends at the first sentence end, so a later "check: 16 - 3 - 4 = 9" does not count;
    ``2 + 3 = 5`` reads as 5, ``$18 (9 eggs)`` as 18.
    """
    clause = _mixed_numbers(_CLAUSE_END.split(clause, 1)[0])
    found = _first(clause)
    if found is None:
        return word_number(clause)
    number, end = found
    if "=" in clause[end:] and _OPERATOR_NEXT.match(clause, end):
        after = _first(clause.rsplit("=", 1)[1])
        if after is not None:
            return after[0]
    return number


def line_answer(line: str) -> Number | None:
    """The number a last line states: the one after its last ``=``, else its only number."""
    line = _mixed_numbers(line)
    if "=" in line:
        found = _first(line.rsplit("=", 1)[1])
        if found is not None:
            return found[0]
    numbers = []
    for match in NUMBER.finditer(line):  # converted lazily: a line of 200,000 numbers stops at two
        number = to_number(match)
        if number is not None:
            numbers.append(number)
            if len(numbers) > 1:
                return None
    return numbers[0] if numbers else None


def _boxed_contents(text: str) -> list[str]:
    """The contents of every closed ``\\boxed{...}``, in order (an unclosed box holds no answer).

    One pass matches every brace pair, so a response of thousands of unclosed boxes costs linear time
    (scanning to the end from each box took minutes on 140 KB).
    """
    closing: dict[int, int] = {}
    open_braces: list[int] = []
    for match in _BRACE.finditer(text):
        if match.group() == "{":
            open_braces.append(match.start())
        elif open_braces:
            closing[open_braces.pop()] = match.start()
    contents = []
    for match in _BOXED.finditer(text):
        end = closing.get(match.end() - 1)
        if end is not None:
            contents.append(text[match.end() : end])
    return contents


def _glued(text: str, start: int) -> bool:
    """True when a trigger at ``start`` is part of a word ("reanswer", "points/answer"): not a statement."""
    return start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_/")


def _clauses_after(trigger: re.Pattern[str], text: str) -> list[str]:
    """The clause after each trigger: up to the end of its line or the next trigger, whichever is first.

    Stopping at the next trigger keeps the work linear in the text (a line of 50,000 "answer is" would
    otherwise yield 50,000 clauses each running to the end of the line).
    """
    matches = list(trigger.finditer(text))
    clauses = []
    for index, match in enumerate(matches):
        if _glued(text, match.start()):
            continue
        end = text.find("\n", match.end())
        end = end if end >= 0 else len(text)
        if index + 1 < len(matches):
            end = min(end, matches[index + 1].start())
        clauses.append(text[match.end() : end])
    return clauses


def _decide(candidates: list[str], rule: str) -> Extraction | None:
    numbers = [n for n in (clause_answer(c) for c in candidates) if n is not None]
    if not numbers:
        return None
    final = numbers[-1]
    conflicting = any(not same_number(n, final) for n in numbers[:-1])
    return Extraction(final, rule, conflicting)


def extract_answer(text: str) -> Extraction:
    """The final answer of a model response (or of a GSM8K solution), by the rules in the module doc."""
    text = normalize_text(text)
    return _stated_once(text) or extract_by_rules(text)


# The common well-formed answer: one "#### N", one \\boxed{N} or one "the answer is N." with N a plain
# integer (at most 18 digits), read with one search. Taken only where the full rules cannot decide
# otherwise: no stronger rule's trigger anywhere and the trigger once (so no rivals); ASCII text for
# "answer", since re's IGNORECASE also matches U+017F as "s", which str.lower() does not fold.
_HASH_PLAIN = re.compile(r"(?<!#)####[ \t]*(-?\d{1,18})[ \t]*(?![^\n])")
_BOXED_PLAIN = re.compile(r"\\boxed\{(-?\d{1,18})\}")
_CLAUSE_PLAIN = re.compile(r"(-?\d{1,18})[ \t]*(?:\.(?:\s|$)|;|(?![^\n]))")


@functools.lru_cache(maxsize=4096)  # final answers repeat (GSM8K's 8,792 solutions have 983 distinct)
def _plain_extraction(digits: str, rule: str) -> Extraction:
    # The number as NUMBER would read it, from the same cache: a reference "18" is then the same object.
    sign = "-" if digits[0] == "-" else None
    return Extraction(read_number((sign, None, None, digits.lstrip("-"), None, None, None)), rule)


def _stated_once(text: str) -> Extraction | None:
    """:func:`extract_by_rules`' answer when a plain integer is stated once by the deciding rule, else
    None (the full rules then decide); a test checks that both agree."""
    if "####" in text:
        found, rule = _HASH_PLAIN.search(text) if text.count("####") == 1 else None, "hash"
    elif "box" in text:
        found, rule = _BOXED_PLAIN.search(text) if text.count("box") == 1 else None, "boxed"
    elif ("nswer" in text or "NSWER" in text) and text.isascii() and text.lower().count("answer") == 1:
        trigger = _ANSWER_IS.search(text)
        if trigger is None or _glued(text, trigger.start()):
            return None
        found, rule = _CLAUSE_PLAIN.match(text, trigger.end()), "answer_is"
    else:
        return None
    return _plain_extraction(found[1], rule) if found else None


def extract_by_rules(text: str) -> Extraction:
    """:func:`extract_answer` without its fast path, for ``text`` already through :func:`normalize_text`."""
    if "####" in text:
        found = _decide(_HASH.findall(text), "hash")
        if found:
            return found
    if "box" in text:
        found = _decide(_boxed_contents(text), "boxed")
        if found:
            return found
    if "nswer" in text or "NSWER" in text:
        found = _decide(_clauses_after(_ANSWER_IS, text), "answer_is")
        if found:
            return found
    if ":" in text:  # _LABEL needs one
        found = _decide(_LABEL.findall(text), "label")
        if found:
            return found
    stripped = text.rstrip()
    last_line = stripped[stripped.rfind("\n") + 1 :]
    number = line_answer(last_line)
    if number is not None:
        return Extraction(number, "final_line")
    for match in reversed(list(NUMBER.finditer(text))):  # only the last number is converted
        number = to_number(match)
        if number is not None:
            return Extraction(number, "last_number")
    return NOT_FOUND


@functools.lru_cache(maxsize=1024)  # Bedrock grades several responses per prompt: same reference
def parse_reference(text: str) -> Number | None:
    """The numeric answer of a reference: a bare number, a GSM8K solution ending ``#### N``, or prose."""
    stripped = text.strip()
    match = NUMBER.fullmatch(stripped)
    if match:
        return to_number(match)
    return extract_answer(stripped).number
