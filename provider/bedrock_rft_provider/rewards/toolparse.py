"""Tool calls in a model's answer, read defensively (the parsing half of ``toolcall.py``).

How Bedrock hands a tool call to the grader Lambda is undocumented (facts §2, §9). AWS's BFCL sample
reads the call as the assistant turn's *text* (``get_weather(city="Paris")``); an OpenAI-format turn
may carry structured ``tool_calls`` (``function.arguments`` a JSON string), a Converse turn ``toolUse``
content blocks (``input`` an object). :func:`calls_in_message` accepts all of them: structured calls
first, then the text, read as ``<tool_call>…</tool_call>`` blocks (Hermes/Qwen3 style), a fenced
```json block, the whole text, its outermost ``{…}``/``[…]``, or Python call syntax (BFCL), each JSON
value in any of the shapes ``{"name", "arguments"|"parameters"|"input"}``, ``{"function": {...}}``,
``{"toolUse": {...}}``, ``{"tool_calls": [...]}`` or a list of those.

The text is attacker input: it is read only up to :data:`MAX_RESPONSE_CHARS`, JSON nested deeper than
:data:`MAX_DEPTH`, objects with a duplicate key (two parsers may keep different values), ``NaN`` and
``Infinity``, more than :data:`MAX_CALLS` calls and non-string names are refused; arguments that are
not an object are kept as "not an object" (they score nothing). Python call syntax is parsed with
``ast`` and read with ``ast.literal_eval`` only: nothing is evaluated.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "MAX_CALLS",
    "MAX_DEPTH",
    "MAX_RESPONSE_CHARS",
    "ToolCall",
    "ToolCallError",
    "calls_in_message",
    "calls_in_text",
    "calls_of_value",
    "calls_text",
    "python_calls",
    "strict_json",
]

MAX_RESPONSE_CHARS = 65_536
MAX_DEPTH = 32
MAX_CALLS = 16
MAX_NAME_CHARS = 128
_TAGGED = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_PY_CALL = re.compile(r"\s*\[?\s*[A-Za-z_][\w.]*\s*\(")


class ToolCallError(ValueError):
    """Why a text holds no readable call; ``reason`` is a short metric-safe word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ToolCall:
    """One function call: its name and arguments (``None`` when the arguments were not a JSON object)."""

    name: str
    arguments: Mapping[str, Any] | None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ToolCallError("duplicate_keys", "a JSON object repeats a key")
    return result


def _no_constants(name: str) -> Any:
    raise ToolCallError("non_finite", f"{name} is not JSON")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                break
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def strict_json(text: str) -> Any:
    """A JSON value read strictly: no duplicate keys, NaN or Infinity, at most :data:`MAX_DEPTH` deep.

    Fractions are read as ``Decimal`` (exactly as written). Raises :class:`ToolCallError`.
    """
    if len(text) > MAX_RESPONSE_CHARS:
        raise ToolCallError("too_large", f"longer than {MAX_RESPONSE_CHARS} characters")
    try:
        value = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants, parse_float=Decimal
        )
    except ToolCallError:
        raise
    except RecursionError:
        raise ToolCallError("too_deep", f"nested deeper than {MAX_DEPTH}") from None
    except ValueError as exc:  # also int strings over Python's digit limit
        raise ToolCallError("not_json", str(exc)[:200]) from None
    if _depth(value) > MAX_DEPTH:
        raise ToolCallError("too_deep", f"nested deeper than {MAX_DEPTH}")
    return value


def _arguments(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, str):  # OpenAI: function.arguments is JSON text
        try:
            value = strict_json(value)
        except ToolCallError:
            return None
    return value if isinstance(value, dict) else None


def _call(value: Any) -> ToolCall | None:
    if not isinstance(value, dict):
        return None
    for wrapper in ("function", "toolUse", "function_call"):
        if isinstance(value.get(wrapper), dict):
            return _call(value[wrapper])
    name = value.get("name")
    if not isinstance(name, str) or not name or len(name) > MAX_NAME_CHARS:
        return None
    for key in ("arguments", "parameters", "input", "args"):
        if key in value:
            return ToolCall(name, _arguments(value[key]))
    return ToolCall(name, {})


def calls_of_value(value: Any) -> list[ToolCall] | None:
    """The calls a parsed JSON value holds (module doc shapes), or None when it is not a call.

    Raises :class:`ToolCallError` (``too_many_calls``) for a list of more than :data:`MAX_CALLS`.
    """
    if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
        value = value["tool_calls"]
    items = value if isinstance(value, list) else [value]
    if not items:
        return None
    if len(items) > MAX_CALLS:
        raise ToolCallError("too_many_calls", f"more than {MAX_CALLS} calls")
    calls = [_call(item) for item in items]
    if any(call is None for call in calls):
        return None
    return calls  # type: ignore[return-value]  # None was ruled out above


def python_calls(text: str) -> list[ToolCall] | None:
    """BFCL's text form: ``f(a=1)``, several on separate lines, or ``[f(a=1), g(b=2)]``.

    None when the text is not in that form; :class:`ToolCallError` for more than :data:`MAX_CALLS` calls.
    """
    if not _PY_CALL.match(text):
        return None
    stripped = text.strip()
    body = stripped[1:-1] if stripped.startswith("[") and stripped.endswith("]") else stripped
    nodes: list[ast.expr] = []
    for source in (f"[{body}]", "[" + ",".join(body.splitlines()) + "]"):
        try:
            tree = ast.parse(source, "<call>", "eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        if isinstance(tree.body, ast.List):
            nodes = tree.body.elts
            break
    if not nodes:
        return None
    if len(nodes) > MAX_CALLS:
        raise ToolCallError("too_many_calls", f"more than {MAX_CALLS} calls")
    calls = []
    for node in nodes:
        if not isinstance(node, ast.Call):
            return None
        name = _dotted(node.func)
        if name is None:
            return None
        arguments: dict[str, Any] = {}
        for index, arg in enumerate(node.args):
            arguments[f"_arg{index}"] = _literal(arg)
        for keyword in node.keywords:
            if keyword.arg is None or keyword.arg in arguments:
                return None  # **kwargs, or a repeated keyword
            arguments[keyword.arg] = _literal(keyword.value)
        calls.append(ToolCall(name, arguments))
    return calls


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    name = ".".join([node.id, *reversed(parts)])
    return name if len(name) <= MAX_NAME_CHARS else None


_UNREADABLE = object()


def _literal(node: ast.expr) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return _UNREADABLE
    return Decimal(repr(value)) if isinstance(value, float) else value


def _candidates(text: str) -> Iterator[str]:
    tagged = [m.group(1) for m in _TAGGED.finditer(text)]
    if tagged:
        yield "[" + ",".join(t.strip() or "null" for t in tagged) + "]"
    yield from reversed([m.group(1) for m in _FENCE.finditer(text)])
    yield text
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = text.find(opener), text.rfind(closer)
        if 0 <= start < end:
            yield text[start : end + 1]


def calls_in_text(text: str) -> list[ToolCall]:
    """The calls a response text makes (module doc forms); raises :class:`ToolCallError` when none."""
    if len(text) > MAX_RESPONSE_CHARS:
        raise ToolCallError("too_large", f"response longer than {MAX_RESPONSE_CHARS} characters")
    first_error: ToolCallError | None = None
    for candidate in _candidates(text):
        try:
            calls = calls_of_value(strict_json(candidate))
        except ToolCallError as exc:
            if exc.reason != "not_json" and first_error is None:
                first_error = exc
            continue
        if calls is not None:
            return calls
    if first_error is not None:
        raise first_error
    calls = python_calls(text)
    if calls is not None:
        return calls
    raise ToolCallError("no_call", "the response makes no tool call")


def _structured_calls(message: Mapping[str, Any]) -> list[ToolCall] | None:
    found: list[Any] = []
    if isinstance(message.get("tool_calls"), list):  # OpenAI chat
        found.extend(message["tool_calls"])
    content = message.get("content")
    if isinstance(content, list):  # Converse toolUse blocks, Anthropic tool_use blocks
        found.extend(
            block
            for block in content
            if isinstance(block, dict) and ("toolUse" in block or block.get("type") == "tool_use")
        )
    if not found:
        return None
    if len(found) > MAX_CALLS:
        raise ToolCallError("too_many_calls", f"more than {MAX_CALLS} calls")
    calls = [_call(item) for item in found]
    return [call for call in calls if call is not None] or None


def calls_in_message(message: Any, text: str) -> list[ToolCall]:
    """The calls of a graded assistant turn: its structured calls, else those in ``text`` (its answer)."""
    if isinstance(message, Mapping):
        structured = _structured_calls(message)
        if structured is not None:
            return structured
    return calls_in_text(text)


def calls_text(calls: Sequence[Mapping[str, Any]]) -> str:
    """Structured calls (``{"name", "arguments"}``; arguments an object or JSON text) as response text
    that :func:`calls_in_text` reads back: how an evaluation stores a model's tool calls."""
    rendered = []
    for call in calls:
        arguments = call.get("arguments")
        rendered.append({"name": call.get("name"), "arguments": arguments if arguments is not None else {}})
    return json.dumps({"tool_calls": rendered}, default=_json_default, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)
