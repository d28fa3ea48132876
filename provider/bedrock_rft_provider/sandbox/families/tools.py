"""The ``tools`` family: tool-calling tasks answered with calls that are right or wrong in typical ways.

SIMULATED. A record belongs here when it carries ``tools`` and its reference names the expected calls
(``{"tool_calls": [...]}``, read by :func:`~bedrock_rft_provider.rewards.toolcall.expected_calls`).
The answer is one of: the right call, a wrong function (another offered tool), a missing argument, a
hallucinated extra argument, a number sent as a string (a string sent as a list), malformed JSON (cut
short), or a prose answer instead of a call. Calls are written as text, as an open-weight model's chat
template writes them (``<tool_call>{...}</tool_call>`` or bare JSON); where a request offers tools, the
runtime lifts them into the API's structured block (``sandbox/tool_use.py``), as a serving stack's
tool parser does.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

from bedrock_rft_provider.rewards.toolcall import expected_calls
from bedrock_rft_provider.sandbox.families.base import ActionSpace, Family
from bedrock_rft_provider.sandbox.tasks import Task, prompt_key

ACTIONS: tuple[tuple[str], ...] = (
    ("right",),
    ("wrong_function",),
    ("missing_argument",),
    ("extra_argument",),
    ("wrong_type",),
    ("malformed_json",),
    ("prose",),
)
_BASE_PREFERENCE = {
    "right": 0.3,
    "wrong_function": 0.0,
    "missing_argument": 0.1,
    "extra_argument": 0.3,
    "wrong_type": 0.2,
    "malformed_json": -0.4,
    "prose": 0.4,
}
HALLUCINATED = {"include_details": True}


def initial_logits(rng: random.Random) -> list[float]:
    """The base model's preferences: often chats instead of calling, or pads calls with extra arguments."""
    return [_BASE_PREFERENCE[name] + rng.gauss(0.0, 0.25) for (name,) in ACTIONS]


def _offered_names(task: Task) -> list[str]:
    return [str(name) for name in task.detail.get("offered", [])]


def _mutated(
    calls: list[dict[str, Any]], mistake: str, task: Task, rng: random.Random
) -> list[dict[str, Any]]:
    first = dict(calls[0])
    arguments = dict(first["arguments"])
    if mistake == "wrong_function":
        others = [n for n in _offered_names(task) if n != first["name"]]
        first["name"] = rng.choice(others) if others else f"{first['name']}_v2"
    elif mistake == "missing_argument" and arguments:
        del arguments[rng.choice(sorted(arguments))]
    elif mistake == "wrong_type" and arguments:
        numeric = sorted(
            k for k, v in arguments.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
        )
        if numeric:
            name = rng.choice(numeric)
            arguments[name] = str(arguments[name])
        else:
            name = rng.choice(sorted(arguments))
            arguments[name] = [arguments[name]]
    else:  # extra_argument (and the fallbacks of a call without arguments)
        arguments.update(HALLUCINATED)
    first["arguments"] = arguments
    return [first, *calls[1:]]


def render(task: Task, action: int, rng: random.Random) -> str:
    """The response text for one action on one task (deterministic for a given ``rng`` state)."""
    (mistake,) = ACTIONS[action]
    calls: list[dict[str, Any]] = list(task.detail.get("calls") or [])
    if mistake == "prose" or not calls:
        name = calls[0]["name"] if calls else "a tool"
        return f"I can help with that: {name} would give you the answer. Shall I go ahead?"
    if mistake != "right":
        calls = _mutated(calls, mistake, task, rng)
    body = json.dumps(calls[0] if len(calls) == 1 else calls)
    if mistake == "malformed_json":
        body = body[: max(1, len(body) // 2)]
    return f"<tool_call>\n{body}\n</tool_call>" if rng.random() < 0.5 else body


def _task_from_record(prompt: str, record: Mapping[str, Any]) -> Task | None:
    tools = record.get("tools")
    if not isinstance(tools, list):
        return None
    calls = expected_calls(record.get("reference_answer"), record)
    if not calls:
        return None
    expected = [{"name": c.name, "arguments": dict(c.arguments or {})} for c in calls]
    offered = [
        t["function"]["name"]
        for t in tools
        if isinstance(t, dict)
        and isinstance(t.get("function"), dict)
        and isinstance(t["function"].get("name"), str)
    ]
    answer = json.dumps(expected, sort_keys=True, default=str)
    return Task(
        prompt_key(prompt), answer, False, kind="tools", detail={"calls": expected, "offered": offered}
    )


SPACE = ActionSpace(
    kind="tools",
    actions=ACTIONS,
    right=frozenset({0}),
    initial_logits=initial_logits,
    render=render,
)
FAMILY = Family(SPACE, _task_from_record)
