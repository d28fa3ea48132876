"""The reward library: plain functions ``fn(sample) -> float | RewardResult | None`` (None: not applicable).

Use one directly (``bedrock_rft_provider.rewards.builtin:math_answer``) or combine them with
:func:`composite`. Factories (``llm_judge``, ``composite``, ``format_check``, ``length_penalty``)
return such functions. Every reward here grades ``sample.response``, the final answer with the model's
reasoning removed (the rule is in :mod:`bedrock_rft_provider.rewards.contract`); numbers compare exactly
(:mod:`bedrock_rft_provider.rewards.written_numbers`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bedrock_rft_provider.rewards.codeexec import code_tests, make_code_tests
from bedrock_rft_provider.rewards.codegen import code_solution, make_code_solution
from bedrock_rft_provider.rewards.contract import RewardResult, Sample, reference_text
from bedrock_rft_provider.rewards.deadline import bounded_search
from bedrock_rft_provider.rewards.handler import RewardFn, as_result, constant_result, reward_name
from bedrock_rft_provider.rewards.judge import llm_judge
from bedrock_rft_provider.rewards.numeric import (
    RULES,
    extract_answer,
    parse_reference,
    same_number,
)
from bedrock_rft_provider.rewards.toolcall import tool_call_match
from bedrock_rft_provider.rewards.values import normalize_answer, same_value

__all__ = [
    "code_solution",
    "code_tests",
    "composite",
    "exact_match",
    "format_check",
    "json_match",
    "length_penalty",
    "llm_judge",
    "make_code_solution",
    "make_code_tests",
    "math_answer",
    "regex_match",
    "tool_call_match",
]

# Every outcome of math_answer — score, the one-hot "which rule decided" (the mean of each metric is that
# rule's share) and whether the rule saw rivals — built once and rendered once (see constant_result).
_OUTCOMES = {
    (score, fired, conflicting): constant_result(
        score,
        {"math_answer": score},
        {
            **{f"math_rule_{rule}": 1.0 if rule == fired else 0.0 for rule in (*RULES, "none")},
            "math_answer_found": 0.0 if fired == "none" else 1.0,
            "math_conflicting_answers": 1.0 if conflicting else 0.0,
        },
    )
    for score in (0.0, 1.0)
    for fired in (*RULES, "none")
    for conflicting in (False, True)
}


def math_answer(sample: Sample) -> RewardResult | None:
    """1.0 when the response's final answer equals the reference number, else 0.0 (GSM8K-style).

    Reports which extraction rule fired (``math_rule_<rule>``), whether an answer was found and whether
    the deciding rule saw conflicting answers. ``None`` when the sample has no numeric reference.
    """
    given = sample.reference
    text = given if type(given) is str else reference_text(given)
    reference = parse_reference(text) if text is not None else None
    if reference is None:
        return None
    found = extract_answer(sample.response)
    correct = found.number is not None and same_number(found.number, reference)
    return _OUTCOMES[1.0 if correct else 0.0, found.rule, found.conflicting]


def exact_match(sample: Sample) -> float | None:
    """1.0 when the normalized response equals the normalized reference text."""
    reference = sample.reference_text
    if reference is None:
        return None
    return 1.0 if normalize_answer(sample.response) == normalize_answer(reference) else 0.0


REGEX_TIMEOUT_S = 1.0


def regex_match(sample: Sample) -> RewardResult | None:
    """1.0 when the response matches the reference pattern (``{"pattern": ...}`` or the reference text).

    The search is time-bounded (:data:`REGEX_TIMEOUT_S`, see :func:`~.deadline.bounded_search`): a
    response that makes the pattern backtrack catastrophically scores 0 with ``regex_timed_out`` = 1.
    """
    reference = sample.reference
    pattern = reference.get("pattern") if isinstance(reference, dict) else sample.reference_text
    if not isinstance(pattern, str):
        return None
    matched = bounded_search(pattern, sample.response, re.DOTALL, REGEX_TIMEOUT_S)
    score = 1.0 if matched else 0.0
    return RewardResult(score, {"regex_match": score}, {"regex_timed_out": 1.0 if matched is None else 0.0})


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def parse_json_response(text: str) -> Any:
    """The JSON value in a response: a fenced ```json block, the whole text, or its outermost {...}.

    Numbers with a fraction or exponent are read as :class:`~decimal.Decimal`, exactly as written (a float
    would round ``9007199254740993.0`` to ``2**53``). A candidate with a repeated key, or nested too
    deeply to parse, is not read. Raises ValueError when no candidate is JSON.
    """
    candidates = [*reversed([m.group(1) for m in _FENCE.finditer(text)]), text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate, parse_float=Decimal, object_pairs_hook=_unique_keys)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
            continue
    raise ValueError("no JSON object found in the response")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # {"total": 5, "total": 7} states two answers; parsers differ on which one counts, so neither does.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a JSON object repeats a key")
    return result


def json_match(sample: Sample) -> RewardResult | None:
    """Structured extraction: the share of the reference object's fields the response's JSON gets right.

    Numeric fields compare exactly (``1000000000`` != ``1000000001``; ``2.50`` == ``2.5``; ``18`` ==
    ``18.0``); strings compare after :func:`normalize_answer`; booleans only equal booleans.
    """
    expected: Any = sample.reference
    if isinstance(expected, str):
        try:
            expected = json.loads(expected, parse_float=Decimal)
        except ValueError:
            return None
    if not isinstance(expected, Mapping) or not expected:
        return None
    try:
        answer = parse_json_response(sample.response)
    except ValueError:
        return RewardResult(0.0, {"json_match": 0.0}, {"json_parsed": 0.0})
    if not isinstance(answer, Mapping):
        return RewardResult(0.0, {"json_match": 0.0}, {"json_parsed": 1.0})
    hits = {key: same_value(answer.get(key), value) and key in answer for key, value in expected.items()}
    score = sum(hits.values()) / len(hits)
    metrics = {"json_parsed": 1.0, **{f"json_field_{k}": 1.0 if ok else 0.0 for k, ok in hits.items()}}
    return RewardResult(score, {"json_match": score}, metrics)


def format_check(pattern: str = r"####\s*\S", *, name: str = "format_check") -> RewardFn:
    """A reward of 1.0 when the response matches ``pattern`` (default: a GSM8K ``#### answer`` line)."""
    compiled = re.compile(pattern, re.DOTALL)

    def reward(sample: Sample) -> float:
        return 1.0 if compiled.search(sample.response) else 0.0

    reward.reward_name = name  # type: ignore[attr-defined]
    return reward


def length_penalty(target_chars: int = 1500, max_chars: int = 4000, *, name: str = "length") -> RewardFn:
    """1.0 up to ``target_chars``, falling linearly to 0.0 at ``max_chars`` (curbs verbosity hacking)."""
    if not 0 <= target_chars < max_chars:
        raise ValueError(
            f"length_penalty needs 0 <= target_chars < max_chars; got {target_chars}, {max_chars}"
        )

    def reward(sample: Sample) -> float:
        excess = len(sample.response) - target_chars
        return 1.0 if excess <= 0 else max(0.0, 1.0 - excess / (max_chars - target_chars))

    reward.reward_name = name  # type: ignore[attr-defined]
    return reward


def composite(weights: Mapping[RewardFn, float], *, name: str = "composite") -> RewardFn:
    """A weighted mean of rewards; a reward returning ``None`` is left out of that sample's weighting.

    Every component is reported: its score as a ``Reward`` entry when it applied, and
    ``<component>_applied`` (1 or 0) as a ``Metric``; component metrics are passed through.
    """
    if not weights:
        raise ValueError("composite needs at least one reward")
    for fn, weight in weights.items():
        if (
            not callable(fn)
            or not isinstance(weight, (int, float))
            or weight <= 0
            or not math.isfinite(weight)
        ):
            raise ValueError(
                f"composite weight for {reward_name(fn)} is {weight!r}; expected a positive number"
            )
    parts = [(reward_name(fn), fn, float(weight)) for fn, weight in weights.items()]
    names = [part_name for part_name, _, _ in parts]
    if len(set(names)) != len(names):
        raise ValueError(f"composite rewards need distinct names; got {names}")

    def reward(sample: Sample) -> RewardResult | None:
        total = weight_sum = 0.0
        components: dict[str, float] = {}
        metrics: dict[str, float] = {}
        for part_name, fn, weight in parts:
            value = fn(sample)
            metrics[f"{part_name}_applied"] = 0.0 if value is None else 1.0
            if value is None:
                continue
            result = as_result(value, part_name)
            components[part_name] = float(result.score)
            metrics.update(result.metrics)
            total += weight * result.score
            weight_sum += weight
        if not weight_sum:
            return None
        return RewardResult(total / weight_sum, components, metrics)

    reward.reward_name = name  # type: ignore[attr-defined]
    reward.max_workers = max(int(getattr(fn, "max_workers", 1) or 1) for _, fn, _ in parts)  # type: ignore[attr-defined]
    return reward
