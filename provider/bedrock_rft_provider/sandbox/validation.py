"""Service-side validation of a request against its botocore operation model, in the services' wording.

botocore validates client-side only types, required members and minimums, and only for clients that
use it; the services check every constraint in their model before running a call and answer HTTP 400
``ValidationException`` listing each violation::

    2 validation errors detected: Value '-1' at 'inferenceConfig.maxTokens' failed to satisfy
    constraint: Member must have value greater than or equal to 1; Value '"hi"' at
    'messages.1.member.content' failed to satisfy constraint: Member must be a list

This module does the same for every operation the sandbox answers itself (Bedrock, Bedrock Runtime,
Lambda ``Invoke``): JSON types, required members, unions (exactly one member), enums, min/max values
and lengths, patterns (matched against the whole value, as the services do), finite numbers, and
nesting depth. Paths follow the services' style: list items are ``name.<1-based index>.member``.
A pattern botocore writes in a syntax Python's ``re`` cannot compile is skipped, not guessed.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from botocore.model import OperationModel, Shape

from bedrock_rft_provider.sandbox.protocol import ServiceError, parse_timestamp, validation_error

# Deeper JSON than this is refused before it is walked: a request is data, not a stack-depth probe.
# The services' own limit is undocumented; every request this provider sends nests fewer than 15 levels.
MAX_DEPTH = 64
MAX_REPORTED = 10  # violations listed in one message; the count covers all of them
_VALUE_CHARS = 80


def parse_json_body(raw: bytes, *, what: str = "request body") -> Any:
    """Strict JSON: NaN/Infinity and non-UTF-8 bytes refused, nesting bounded; raises ValidationException."""

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=no_constant)
    except UnicodeDecodeError:
        raise validation_error(f"The {what} is not valid UTF-8.") from None
    except json.JSONDecodeError as exc:
        raise validation_error(f"The {what} is not valid JSON: {exc.msg} (char {exc.pos}).") from None
    except ValueError as exc:  # a NaN/Infinity constant
        raise validation_error(f"The {what} is not valid JSON: {exc}.") from None
    except RecursionError:
        raise validation_error(f"The {what} nests deeper than {MAX_DEPTH} levels.") from None
    if json_depth(value) > MAX_DEPTH:
        raise validation_error(f"The {what} nests deeper than {MAX_DEPTH} levels.")
    return value


def json_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), computed without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


@cache
def operation(service: str, name: str) -> OperationModel:
    import botocore.session

    return botocore.session.get_session().get_service_model(service).operation_model(name)


@cache
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:
        return None


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 3] + "..."


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, value: Any, where: str, constraint: str) -> None:
        shown = "null" if value is None else f"'{_show(value)}'"
        self.problems.append(
            f"Value {shown} at '{where}' failed to satisfy constraint: Member must {constraint}"
        )

    def shape(self, shape: Shape, value: Any, where: str) -> None:
        kind = shape.type_name
        if kind == "structure":
            self.structure(shape, value, where)
        elif kind == "list":
            self.sized(shape, value, where, list, "be a list")
            if isinstance(value, list):
                for index, item in enumerate(value, start=1):
                    self.member(shape.member, item, f"{where}.{index}.member")
        elif kind == "map":
            self.sized(shape, value, where, dict, "be a map")
            if isinstance(value, dict):
                for key, item in value.items():
                    self.scalar(shape.key, key, f"{where}.{key}.key")
                    self.member(shape.value, item, f"{where}.{key}.value")
        else:
            self.scalar(shape, value, where)

    def member(self, shape: Shape, value: Any, where: str) -> None:
        if value is None:
            self.fail(None, where, "not be null")
        else:
            self.shape(shape, value, where)

    def structure(self, shape: Shape, value: Any, where: str) -> None:
        if shape.metadata.get("document"):
            return  # any JSON; its depth was bounded when the body was parsed
        if not isinstance(value, dict):
            self.fail(value, where, "be a structure (JSON object)")
            return
        members = shape.members
        if shape.metadata.get("union"):
            present = [name for name in members if value.get(_key(members[name], name)) is not None]
            if len(present) != 1:
                options = ", ".join(members)
                self.fail(value, where, f"have exactly one of its members set: {options}")
        for name, member_shape in members.items():
            key = _key(member_shape, name)
            child = value.get(key)
            path = f"{where}.{key}" if where else key
            if child is None:
                if name in shape.required_members:
                    self.fail(None, path, "not be null")
                continue
            self.shape(member_shape, child, path)

    def sized(
        self, shape: Shape, value: Any, where: str, kind: type[list[Any] | dict[Any, Any]], expected: str
    ) -> None:
        if not isinstance(value, kind):
            self.fail(value, where, expected)
            return
        self.length(shape, value, len(value), where)

    def length(self, shape: Shape, value: Any, size: int, where: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and size < low:
            self.fail(value, where, f"have length greater than or equal to {low}")
        if high is not None and size > high:
            self.fail(value, where, f"have length less than or equal to {high}")

    def scalar(self, shape: Shape, value: Any, where: str) -> None:
        kind = shape.type_name
        if kind == "string":
            if not isinstance(value, str):
                self.fail(value, where, "be a string")
                return
            self.length(shape, value, len(value), where)
            enum = shape.metadata.get("enum")
            if enum and value not in enum:
                self.fail(value, where, f"satisfy enum value set: [{', '.join(enum)}]")
            regex = _pattern(shape.metadata.get("pattern", ""))
            if shape.metadata.get("pattern") and regex is not None and not regex.fullmatch(value):
                self.fail(value, where, f"satisfy regular expression pattern: {regex.pattern}")
        elif kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(value, where, "be an integer")
            else:
                self.bounds(shape, value, where)
        elif kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                self.fail(value, where, "be a finite number")
            else:
                self.bounds(shape, value, where)
        elif kind == "boolean":
            if not isinstance(value, bool):
                self.fail(value, where, "be a boolean")
        elif kind == "timestamp":
            self.timestamp(value, where)
        elif kind == "blob":
            self.blob(shape, value, where)

    def bounds(self, shape: Shape, value: float, where: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            self.fail(value, where, f"have value greater than or equal to {low}")
        if high is not None and value > high:
            self.fail(value, where, f"have value less than or equal to {high}")

    def timestamp(self, value: Any, where: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.fail(value, where, "be a timestamp")
            return
        try:
            moment = parse_timestamp(str(value))
        except (ValueError, OverflowError):
            self.fail(value, where, "be a timestamp")
            return
        if not math.isfinite(moment):
            self.fail(value, where, "be a timestamp")

    def blob(self, shape: Shape, value: Any, where: str) -> None:
        if not isinstance(value, str):
            self.fail(value, where, "be base64-encoded binary data")
            return
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            self.fail(value, where, "be base64-encoded binary data")
            return
        self.length(shape, value, len(data), where)


def _key(shape: Shape, name: str) -> str:
    return str(shape.serialization.get("name", name))


def _location_value(shape: Shape, name: str, labels: Mapping[str, str], query: Any, headers: Any) -> Any:
    """A URI/query/header member's raw text converted to the shape's type (strings otherwise)."""
    location = shape.serialization.get("location")
    key = _key(shape, name)
    if location == "uri":
        return labels.get(key)
    if location == "querystring":
        if shape.type_name == "list":
            values = query.getlist(key) if hasattr(query, "getlist") else [query.get(key)]
            return [v for v in values if v is not None] or None
        raw = query.get(key)
    elif location == "header":
        raw = headers.get(key)
    else:
        return None
    if raw is None or shape.type_name in ("string", "timestamp"):
        return raw
    if shape.type_name in ("integer", "long"):
        return int(raw) if re.fullmatch(r"[+-]?\d{1,19}", raw) else raw
    if shape.type_name == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw


def check_request(
    model: OperationModel,
    *,
    body: Any = None,
    raw_body: bytes = b"",
    labels: Mapping[str, str] | None = None,
    query: Any = None,
    headers: Any = None,
) -> None:
    """Raise one ValidationException listing every constraint ``body``/labels/query/headers violate.

    ``body`` is the parsed JSON body (for operations with a JSON body); ``raw_body`` the bytes of a blob
    payload (its length is checked against the model, e.g. InvokeModel's 25,000,000 bytes).
    """
    checker = _Checker()
    shape = model.input_shape
    if shape is None:
        return
    labels, query, headers = labels or {}, query or {}, headers or {}
    payload = shape.serialization.get("payload")
    members = shape.members
    for name, member_shape in members.items():
        location = member_shape.serialization.get("location")
        if location in ("uri", "querystring", "header"):
            value = _location_value(member_shape, name, labels, query, headers)
            where = _key(member_shape, name)
        elif name == payload and member_shape.type_name in ("blob", "string"):
            checker.length(member_shape, f"<{len(raw_body)} bytes>", len(raw_body), name)
            continue
        elif name == payload:
            value, where = body, name
        else:
            value = body.get(_key(member_shape, name)) if isinstance(body, dict) else None
            where = _key(member_shape, name)
        if value is None:
            if name in shape.required_members:
                checker.fail(None, where, "not be null")
            continue
        checker.shape(member_shape, value, where)
    if checker.problems:
        count = len(checker.problems)
        noun = "error" if count == 1 else "errors"
        listed = "; ".join(checker.problems[:MAX_REPORTED])
        raise ServiceError("ValidationException", f"{count} validation {noun} detected: {listed}", 400)
