"""The RFT training record: validation rules (bedrock-rft-facts §1), stable ids and prompt keys."""

from __future__ import annotations

import hashlib
import re
from typing import Any

ROLES = ("system", "user", "assistant")
_MISSING = object()
# How many training records an RFT job accepts (bedrock-rft-facts section 1): the one home of these bounds.
MIN_TRAINING_RECORDS = 100
MAX_TRAINING_RECORDS = 20_000
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else f'"{value[:37]}..."'
    return type(value).__name__


def _messages_look_valid(messages: Any) -> bool:
    # The common case, checked cheaply; anything unusual goes through the explaining checks below.
    if type(messages) is not list or not messages:
        return False
    last = messages[-1]
    if type(last) is not dict or last.get("role") != "user":
        return False
    for index, message in enumerate(messages):
        if type(message) is not dict:
            return False
        role = message.get("role")
        content = message.get("content")
        if role != "user" and role != "assistant" and (role != "system" or index):  # noqa: PLR1714
            return False
        if type(content) is not str or not content or content.isspace():
            return False
    return True


def validate_messages(messages: Any) -> list[str]:
    """Problems with a prompt's ``messages`` list (empty when it is valid)."""
    if _messages_look_valid(messages):
        return []
    if not isinstance(messages, list):
        return [f"messages is {_describe(messages)}; expected a list of {{role, content}} objects"]
    if not messages:
        return ["messages is empty; expected at least one user message"]
    problems: list[str] = []
    has_user = False
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            problems.append(f"{where} is {_describe(message)}; expected an object with role and content")
            continue
        role = message.get("role")
        if role not in ROLES:
            problems.append(f"{where}.role is {_describe(role)}; expected one of {', '.join(ROLES)}")
        elif role == "system" and index != 0:
            problems.append(f"{where}.role is system; a system message may only come first")
        has_user = has_user or role == "user"
        content = message.get("content")
        if not isinstance(content, str):
            problems.append(f"{where}.content is {_describe(content)}; expected a non-empty string")
        elif not content.strip():
            problems.append(f"{where}.content is empty; expected a non-empty string")
    if not has_user:
        problems.append("messages has no user message; expected at least one")
    last = messages[-1]
    if isinstance(last, dict) and last.get("role") in ("system", "assistant"):
        problems.append(
            f"messages[{len(messages) - 1}].role is {last.get('role')}; the prompt must end on a user turn "
            "(the model writes the assistant turn)"
        )
    return problems


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def validate_tools(tools: Any) -> list[str]:
    """Problems with an optional OpenAI-style ``tools`` list.

    The rules of AWS's own client-side Nova RFT validator (aws/nova-forge-sdk,
    ``amzn_nova_forge/dataset/dataset_validator/rft_dataset_validator.py``: ``RFTTool``,
    ``RFTFunction``, ``RFTFunctionParameters``, ``RFTDatasetSample.validate_tools``): a non-empty list;
    each tool ``{"type": "function", "function": {name, description, parameters}}``; name and
    description non-blank; ``parameters`` an object schema with ``"type": "object"`` and a
    ``properties`` object (``required``, if given, a list of strings); names unique. Names also follow
    the OpenAI function-name pattern (1-64 of ``[A-Za-z0-9_-]``), which Bedrock's OpenAI format uses.
    """
    if not isinstance(tools, list):
        return [f"tools is {_describe(tools)}; expected a list of function specs"]
    if not tools:
        return ["tools is empty; leave it out or give at least one function spec"]
    problems: list[str] = []
    names: set[str] = set()
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            problems.append(f"{where} is {_describe(tool)}; expected an object")
            continue
        if tool.get("type") != "function":
            problems.append(f"{where}.type is {_describe(tool.get('type'))}; expected function")
        function = tool.get("function")
        if not isinstance(function, dict):
            problems.append(f"{where}.function is {_describe(function)}; expected an object with a name")
            continue
        name = function.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            problems.append(f"{where}.function.name is {_describe(name)}; expected 1-64 of [A-Za-z0-9_-]")
        elif name in names:
            problems.append(
                f'{where}.function.name "{name}" is used by an earlier tool; names must be unique'
            )
        else:
            names.add(name)
        if _blank(function.get("description")):
            problems.append(
                f"{where}.function.description is {_describe(function.get('description'))}; "
                "expected a non-empty string (the model reads it to choose the tool)"
            )
        problems.extend(_parameter_problems(function.get("parameters"), f"{where}.function.parameters"))
    return problems


def _parameter_problems(parameters: Any, where: str) -> list[str]:
    if not isinstance(parameters, dict):
        return [f'{where} is {_describe(parameters)}; expected a JSON schema object with "type": "object"']
    problems = []
    if parameters.get("type") != "object":
        problems.append(f'{where}.type is {_describe(parameters.get("type"))}; expected "object"')
    if not isinstance(parameters.get("properties"), dict):
        problems.append(
            f"{where}.properties is {_describe(parameters.get('properties'))}; expected an object "
            "(use {} for a function without arguments)"
        )
    required = parameters.get("required")
    if required is not None and (
        not isinstance(required, list) or not all(isinstance(r, str) for r in required)
    ):
        problems.append(f"{where}.required is {_describe(required)}; expected a list of property names")
    return problems


_SURROGATE = re.compile("[\ud800-\udfff]")


def unpaired_surrogate(record: Any) -> str | None:
    """Where ``record`` holds an unpaired UTF-16 surrogate (``"\\ud800"`` escaped in JSON), or None.

    JSON allows the escape but the text is not Unicode: it cannot be encoded as UTF-8 (so not written,
    hashed or tokenized). ``json.loads`` joins a valid pair into one code point, so any surrogate left
    is unpaired. The walk is iterative (records may nest deeply).
    """
    stack: list[tuple[str, Any]] = [("record", record)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    return f"{where} key {key.encode('utf-8', 'backslashreplace').decode()!r}"
                name = key if where == "record" else f"{where}.{key}"
                stack.append((name, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
    return None


def validate_record(
    record: Any, require_reference_answer: bool = False, *, unicode_ok: bool = False
) -> list[str]:
    """Problems with one RFT record (empty when it is valid). ``id`` may be absent (it gets assigned).

    ``unicode_ok=True`` skips the unpaired-surrogate walk, for records whose reader already ruled them
    out (``SourceItem.strict_json``).
    """
    if not isinstance(record, dict):
        return [f"record is {_describe(record)}; expected a JSON object"]
    broken = None if unicode_ok else unpaired_surrogate(record)
    if broken is not None:
        return [f"{broken} holds an unpaired UTF-16 surrogate escape (e.g. \\ud800); not valid Unicode text"]
    messages = record.get("messages", _MISSING)
    if messages is _MISSING:
        return ["messages is missing; expected a list of {role, content} objects"]
    problems = [] if _messages_look_valid(messages) else validate_messages(messages)
    record_id = record.get("id", _MISSING)
    if record_id is not _MISSING and (not isinstance(record_id, str) or not record_id.strip()):
        problems.append(f"id is {_describe(record_id)}; expected a non-empty string")
    if "tools" in record:
        problems.extend(validate_tools(record["tools"]))
    answer = record.get("reference_answer", _MISSING)
    if answer is not _MISSING:
        blank = isinstance(answer, str) and answer.isspace()
        if not isinstance(answer, (str, dict)) or not answer or blank:
            problems.append(f"reference_answer is {_describe(answer)}; expected a non-empty string or object")
    elif require_reference_answer:
        problems.append("reference_answer is missing; the chosen grader needs one")
    return problems


def prompt_text(messages: list[dict[str, Any]]) -> str:
    """The prompt as one string (role-tagged), used for duplicate detection and content ids."""
    return "\x1e".join(f"{m['role']}\x1f{m['content']}" for m in messages)


def prompt_key_and_chars(messages: list[dict[str, Any]]) -> tuple[int, int]:
    """A 64-bit duplicate-detection key of the prompt and its length in characters.

    Python's SipHash of the (role, content) pairs: fast, and keys live only within one run, so
    per-process hash randomization does not matter; a false duplicate needs ~4e9 records.
    """
    if len(messages) == 1:
        message = messages[0]
        return hash((message["role"], message["content"])), len(message["content"])
    return hash(tuple((m["role"], m["content"]) for m in messages)), prompt_chars(messages)


def prompt_chars(messages: list[dict[str, Any]]) -> int:
    """Characters the model reads in the prompt (sum of message contents)."""
    return sum(len(m["content"]) for m in messages)


def content_id(text: str, prefix: str = "rft") -> str:
    """A stable id from content: ``<prefix>-<first 16 hex of sha256>``."""
    return f"{prefix}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"
