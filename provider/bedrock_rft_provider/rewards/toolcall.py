"""The ``tool_call_match`` reward: a model's tool calls against the expected calls, with partial credit.

BFCL-style (AWS's ``bfcl_tool_call_rew_func.py`` sample scores function name, argument names and
argument values); ours scores, per expected call, the function name, each expected argument's value,
no argument outside the tool's schema, and the arguments' JSON types (:data:`WEIGHTS`). The answer is
read by :mod:`~bedrock_rft_provider.rewards.toolparse` (every accepted form, hostile-input bounds).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from bedrock_rft_provider.rewards.contract import ASSISTANT_ROLES, RewardResult, Sample
from bedrock_rft_provider.rewards.toolparse import (
    MAX_NAME_CHARS,
    ToolCall,
    ToolCallError,
    calls_in_message,
    calls_of_value,
    python_calls,
    strict_json,
)
from bedrock_rft_provider.rewards.values import same_value

__all__ = ["WEIGHTS", "expected_calls", "score_calls", "tool_call_match", "tool_schemas"]

# Share of one call's score per part; a call to the wrong function scores 0 whatever its arguments
# (AWS's BFCL sample gives such a call two thirds for matching argument names; we do not pay for that).
WEIGHTS = {"function": 0.2, "arguments": 0.5, "no_extra_arguments": 0.15, "types": 0.15}
_METRIC_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float, Decimal),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


# -- the expected calls and the schema ---------------------------------------------------------------


def expected_calls(reference: Any, metadata: Mapping[str, Any] | None = None) -> list[ToolCall] | None:
    """The calls a sample expects: ``reference_answer`` as ``{"tool_calls": [...]}`` or one call (object
    or JSON text), else ``metadata.ground_truth`` (BFCL call strings). ``[]`` means "make no call";
    None when the sample names no expected call."""
    if isinstance(reference, str):
        try:
            reference = strict_json(reference)
        except ToolCallError:
            reference = None
    try:
        if isinstance(reference, dict):
            if isinstance(reference.get("tool_calls"), list) and not reference["tool_calls"]:
                return []
            calls = calls_of_value(reference)
            if calls is not None:
                return calls
        truth = (metadata or {}).get("ground_truth")
        if isinstance(truth, str):
            truth = [truth]
        if isinstance(truth, list) and all(isinstance(t, str) for t in truth):
            parsed = [python_calls(t) for t in truth]
            if parsed and all(p is not None and len(p) == 1 for p in parsed):
                return [p[0] for p in parsed if p is not None]
    except ToolCallError:  # a reference of more than MAX_CALLS calls: not gradable
        pass
    return None


def tool_schemas(tools: Any) -> dict[str, Mapping[str, Any]]:
    """``{function name: JSON-schema parameters}`` of OpenAI function specs or Converse ``toolSpec``s."""
    schemas: dict[str, Mapping[str, Any]] = {}
    if not isinstance(tools, list):
        return schemas
    for tool in tools[:256]:
        if not isinstance(tool, dict):
            continue
        spec = tool.get("function") if isinstance(tool.get("function"), dict) else tool.get("toolSpec")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            continue
        parameters = spec.get("parameters")
        if parameters is None and isinstance(spec.get("inputSchema"), dict):
            parameters = spec["inputSchema"].get("json")
        schemas[spec["name"]] = parameters if isinstance(parameters, dict) else {}
    return schemas


def _is_json_type(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return name == "boolean"
    if name == "integer":  # JSON Schema: 5.0 is an integer
        return isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral_value())
    return isinstance(value, _JSON_TYPES.get(name, ()))


def _has_type(value: Any, declared: Any, expected: Any) -> bool:
    """``value`` is of the schema's declared JSON type(s), else of the expected value's JSON type."""
    names = [declared] if isinstance(declared, str) else declared
    if isinstance(names, list) and names and all(isinstance(n, str) and n in _JSON_TYPES for n in names):
        return any(_is_json_type(value, n) for n in names)
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(expected, bool)
    if isinstance(expected, (int, float, Decimal)):
        return isinstance(value, (int, float, Decimal))
    return type(value) is type(expected)


def _coerced_same(answer: Any, expected: Any) -> bool:
    """Values equal, also across a number written as a string (``"5"`` == 5): the type part, not the
    value part, pays for the type."""
    if same_value(answer, expected):
        return True
    pair = (answer, expected) if isinstance(answer, str) else (expected, answer)
    text, number = pair
    if isinstance(text, str) and isinstance(number, (int, float, Decimal)) and not isinstance(number, bool):
        try:
            return len(text) <= 64 and same_value(Decimal(text.strip()), number)
        except InvalidOperation:
            return False
    return False


@dataclass(frozen=True)
class _Scored:
    score: float
    parts: dict[str, float]
    argument_hits: dict[str, bool]


def _score_call(predicted: ToolCall, expected: ToolCall, schema: Mapping[str, Any] | None) -> _Scored:
    wanted = expected.arguments or {}
    misses = dict.fromkeys(wanted, False)
    if predicted.name != expected.name:
        return _Scored(0.0, dict.fromkeys(WEIGHTS, 0.0), misses)
    given = predicted.arguments
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    # An argument the reference expects is never hallucinated, whatever a (partial) schema says.
    allowed = set(wanted) | (set(properties) if isinstance(properties, dict) else set())
    if given is None:
        parts = {"function": 1.0, "arguments": 0.0, "no_extra_arguments": 0.0, "types": 0.0}
        return _Scored(WEIGHTS["function"], parts, misses)
    hits = {k: k in given and _coerced_same(given[k], v) for k, v in wanted.items()}
    typed = {
        k: k in given and _has_type(given[k], _declared_type(properties, k), v) for k, v in wanted.items()
    }
    parts = {
        "function": 1.0,
        "arguments": sum(hits.values()) / len(hits) if hits else 1.0,
        "no_extra_arguments": 0.0 if any(k not in allowed for k in given) else 1.0,
        "types": sum(typed.values()) / len(typed) if typed else 1.0,
    }
    return _Scored(sum(WEIGHTS[k] * v for k, v in parts.items()), parts, hits)


def _declared_type(properties: Any, name: str) -> Any:
    prop = properties.get(name) if isinstance(properties, dict) else None
    return prop.get("type") if isinstance(prop, dict) else None


def _metric_name(*parts: str) -> str:
    return _METRIC_UNSAFE.sub("_", ".".join(parts))[:MAX_NAME_CHARS]


def score_calls(
    predicted: Sequence[ToolCall], expected: Sequence[ToolCall], tools: Any = None
) -> RewardResult:
    """Score predicted calls against expected ones (order-free; extra or missing calls score 0).

    Each expected call is paired with the unused predicted call that scores best for it; the sample's
    score is the sum of the pairs' scores over ``max(len(expected), len(predicted))``. Components: the
    score (``tool_call``) and the mean of each part over the expected calls (``tool_call_<part>``);
    metrics: ``tool_arg.<function>.<argument>`` 1/0 per expected argument, for per-argument accuracy.
    """
    if not expected:
        score = 0.0 if predicted else 1.0
        return RewardResult(score, {"tool_call": score}, {"tool_call_expected_none": 1.0})
    schemas = tool_schemas(tools)
    unused = list(range(len(predicted)))
    total = 0.0
    part_sums = dict.fromkeys(WEIGHTS, 0.0)
    metrics: dict[str, float] = {}
    for call in expected:
        best: tuple[int, _Scored] | None = None
        for index in unused:
            scored = _score_call(predicted[index], call, schemas.get(call.name))
            if best is None or scored.score > best[1].score:
                best = (index, scored)
        result = best[1] if best is not None else _score_call(ToolCall("", {}), call, None)
        if best is not None and best[1].score > 0:
            unused.remove(best[0])
        total += result.score
        for part, value in result.parts.items():
            part_sums[part] += value
        for argument, hit in result.argument_hits.items():
            metrics[_metric_name("tool_arg", call.name, argument)] = 1.0 if hit else 0.0
    score = total / max(len(expected), len(predicted))
    components = {"tool_call": score, **{f"tool_call_{k}": v / len(expected) for k, v in part_sums.items()}}
    metrics["tool_call_count_match"] = 1.0 if len(predicted) == len(expected) else 0.0
    return RewardResult(score, components, metrics)


def tool_call_match(sample: Sample) -> RewardResult | None:
    """Tool calling (BFCL-style partial credit): the calls the response makes vs the expected calls.

    Per expected call: function name (``WEIGHTS["function"]``), the share of expected arguments with the
    right value (``"arguments"``; a number written as a string counts), no argument outside the tool's
    schema (``"no_extra_arguments"``; without a schema: outside the expected ones) and the share of
    expected arguments of the schema's JSON type (``"types"``). A call to the wrong function scores 0.
    The schema is ``metadata.tools`` (or the sample's top-level ``tools``) when Bedrock passes it on.
    Responses that make no readable call score 0 with ``tool_call_parsed`` = 0 and
    ``tool_call_error_<reason>`` = 1; when no call is expected, only a response that plainly makes none
    scores 1 (an unreadable attempt still scores 0). ``None`` when the sample names no expected call.
    """
    expected = expected_calls(sample.reference, sample.metadata)
    if expected is None:
        return None
    raw = sample.raw if isinstance(sample.raw, dict) else {}
    messages = raw.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    message = last if isinstance(last, dict) and last.get("role") in ASSISTANT_ROLES else None
    try:
        predicted = calls_in_message(message, sample.response)
    except ToolCallError as exc:
        # "No call" is right only for a response that plainly makes none: one whose call is unreadable
        # (duplicate keys, NaN, too deep, too many calls, too large) tried to call and scores 0 below.
        if not expected and exc.reason == "no_call":
            return RewardResult(
                1.0, {"tool_call": 1.0}, {"tool_call_parsed": 0.0, "tool_call_expected_none": 1.0}
            )
        metrics = {"tool_call_parsed": 0.0, _metric_name(f"tool_call_error_{exc.reason}"): 1.0}
        for call in expected:
            for argument in call.arguments or {}:
                metrics[_metric_name("tool_arg", call.name, argument)] = 0.0
        return RewardResult(0.0, {"tool_call": 0.0, **{f"tool_call_{k}": 0.0 for k in WEIGHTS}}, metrics)
    tools = sample.metadata.get("tools", raw.get("tools"))
    result = score_calls(predicted, expected, tools)
    return RewardResult(result.score, result.components, {"tool_call_parsed": 1.0, **result.metrics})
