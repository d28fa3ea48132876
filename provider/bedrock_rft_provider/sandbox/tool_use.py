"""Tool calls in the sandbox's model answers: the simulated model's text call lifted into API blocks.

When a request offers tools (Converse ``toolConfig.tools``, Chat Completions ``tools``), a serving
stack's tool parser turns the model's written call into the API's structured block; so does this
module, with the reward's own defensive parser (``rewards/toolparse.py``). An answer it cannot read as
calls whose arguments are objects (prose, malformed JSON) stays text, as such stacks leave it.
"""

from __future__ import annotations

import json
from typing import Any

from bedrock_rft_provider.rewards.toolparse import ToolCallError, calls_in_text, calls_text
from bedrock_rft_provider.sandbox.tasks import stable_seed

__all__ = ["chat_tool_calls", "converse_tool_use", "lift_calls", "offered_tools"]


def lift_calls(text: str) -> list[dict[str, Any]] | None:
    """``[{"name", "arguments": dict}]`` written in ``text``, or None when it is not (only) calls."""
    try:
        calls = calls_in_text(text)
    except ToolCallError:
        return None
    if any(call.arguments is None for call in calls):
        return None
    # Through JSON once: Decimal (exact parsing) back to plain numbers the wire formats carry.
    lifted: list[dict[str, Any]] = json.loads(
        calls_text([{"name": c.name, "arguments": dict(c.arguments or {})} for c in calls])
    )["tool_calls"]
    return lifted


def offered_tools(tools: Any) -> bool:
    """True when a request's tool list offers at least one tool."""
    return isinstance(tools, list) and bool(tools)


def converse_tool_use(calls: list[dict[str, Any]], seed: object) -> list[dict[str, Any]]:
    """Converse ``content`` blocks (``toolUse`` with ``toolUseId``, ``name``, ``input``) for the calls."""
    return [
        {
            "toolUse": {
                "toolUseId": f"tooluse_{stable_seed('tool-use', seed, index) % 16**22:022x}",
                "name": call["name"],
                "input": call["arguments"],
            }
        }
        for index, call in enumerate(calls)
    ]


def chat_tool_calls(calls: list[dict[str, Any]], seed: object) -> list[dict[str, Any]]:
    """Chat Completions ``message.tool_calls`` for the calls (``arguments`` as JSON text)."""
    return [
        {
            "id": f"call_{stable_seed('tool-call', seed, index) % 16**24:024x}",
            "type": "function",
            "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])},
        }
        for index, call in enumerate(calls)
    ]
