"""Tool calling in an evaluation: offer a record's tools to the model, keep its calls, report per argument.

Requests: a test record's OpenAI-format ``tools`` become Converse ``toolConfig.tools[].toolSpec``
(``inputSchema.json`` = the function's ``parameters``) or Chat Completions ``tools`` as given. Replies:
structured calls (Converse ``toolUse`` blocks, Chat ``message.tool_calls``) are kept as the response
text ``{"tool_calls": [{"name", "arguments"}]}`` (``rewards.toolparse.calls_text``), which the tool-call
reward reads back; a chat call's ``arguments`` stays the JSON text the model wrote, malformed or not.
Report: the mean of each ``tool_arg.<function>.<argument>`` metric of ``tool_call_match`` is that
argument's accuracy over the prompts that expect it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from bedrock_rft_provider.rewards.toolparse import calls_text

ARGUMENT_METRIC_PREFIX = "tool_arg."
PART_COMPONENTS = (
    "tool_call_function",
    "tool_call_arguments",
    "tool_call_no_extra_arguments",
    "tool_call_types",
)


def _functions(tools: Any) -> list[Mapping[str, Any]]:
    if not isinstance(tools, list):
        return []
    return [t["function"] for t in tools if isinstance(t, dict) and isinstance(t.get("function"), dict)]


def converse_tool_config(tools: Any) -> dict[str, Any] | None:
    """``toolConfig`` for OpenAI-format function specs (None when there are none)."""
    specs = [
        {
            "toolSpec": {
                "name": function["name"],
                **({"description": function["description"]} if function.get("description") else {}),
                "inputSchema": {"json": function.get("parameters") or {"type": "object", "properties": {}}},
            }
        }
        for function in _functions(tools)
        if isinstance(function.get("name"), str)
    ]
    return {"tools": specs} if specs else None


def chat_tools(tools: Any) -> list[dict[str, Any]] | None:
    """Chat Completions ``tools`` (the record's function specs), None when there are none."""
    kept = [t for t in tools if isinstance(t, dict)] if isinstance(tools, list) else []
    return kept or None


def converse_calls(content: Any) -> list[dict[str, Any]]:
    """``[{"name", "arguments"}]`` of the ``toolUse`` blocks in a Converse reply's content."""
    blocks = content if isinstance(content, list) else []
    uses = [b["toolUse"] for b in blocks if isinstance(b, dict) and isinstance(b.get("toolUse"), dict)]
    return [{"name": u.get("name"), "arguments": u.get("input")} for u in uses]


def chat_calls(message: Any) -> list[dict[str, Any]]:
    """``[{"name", "arguments"}]`` of a chat message's ``tool_calls`` (arguments as the model wrote them)."""
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    functions = [
        c["function"] for c in calls or [] if isinstance(c, dict) and isinstance(c.get("function"), dict)
    ]
    return [{"name": f.get("name"), "arguments": f.get("arguments")} for f in functions]


def answer_text(text: str, calls: Sequence[Mapping[str, Any]]) -> str:
    """The response text kept for grading: the calls when the model made any, else its text."""
    return calls_text(calls) if calls else text


# -- the per-argument view of the report -------------------------------------------------------------


def argument_accuracy(summary: Mapping[str, Any]) -> dict[str, dict[str, float | None]]:
    """``{"function.argument": {"challenger": accuracy, "baseline": accuracy or None}}`` (empty when the
    evaluation's reward reported no per-argument metrics)."""
    metrics = summary.get("metrics") or {}
    baseline = (summary.get("baseline") or {}).get("metrics") or {}
    return {
        name[len(ARGUMENT_METRIC_PREFIX) :]: {"challenger": float(value), "baseline": baseline.get(name)}
        for name, value in sorted(metrics.items())
        if name.startswith(ARGUMENT_METRIC_PREFIX)
    }


def summary_lines(summary: Mapping[str, Any], worst: int = 3) -> list[str]:
    """Closing-summary lines of a tool-calling evaluation: overall call parts, then the ``worst``
    arguments of the challenger ([] when not a tool-calling evaluation)."""
    accuracy = argument_accuracy(summary)
    if not accuracy:
        return []
    metrics = summary.get("metrics") or {}
    parts = ", ".join(
        f"{name[len('tool_call_') :]} {_pct(metrics[name])}" for name in PART_COMPONENTS if name in metrics
    )
    weakest = sorted(accuracy.items(), key=lambda item: item[1]["challenger"] or 0.0)[:worst]
    arguments = ", ".join(
        f"{name} {_pct(acc['challenger'])} (baseline {_pct(acc['baseline'])})" for name, acc in weakest
    )
    return [f"Tool calls   tuned per part: {parts}", f"Tool calls   weakest arguments: {arguments}"]


def _pct(value: Any) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, (int, float)) else "n/a"


def _rows(summary: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    metrics = summary.get("metrics") or {}
    baseline = (summary.get("baseline") or {}).get("metrics") or {}
    rows = [
        (f"part: {name[len('tool_call_') :]}", _pct(metrics.get(name)), _pct(baseline.get(name)))
        for name in PART_COMPONENTS
        if name in metrics
    ]
    rows += [
        (f"argument: {name}", _pct(acc["challenger"]), _pct(acc["baseline"]))
        for name, acc in argument_accuracy(summary).items()
    ]
    return rows


def markdown_section(summary: Mapping[str, Any]) -> list[str]:
    """The report's "Tool calls" section as Markdown lines ([] when not a tool-calling evaluation)."""
    rows = _rows(summary)
    if not rows:
        return []
    out = ["", "## Tool calls: accuracy per part and per argument", "", "| | challenger | baseline |"]
    out.append("|---|---|---|")
    out += [f"| {name} | {value} | {base} |" for name, value, base in rows]
    return out


def html_section(summary: Mapping[str, Any]) -> str:
    """The same section as HTML ("" when not a tool-calling evaluation)."""
    rows = _rows(summary)
    if not rows:
        return ""
    esc = html.escape
    cells = "".join(f"<tr><td>{esc(n)}</td><td>{esc(v)}</td><td>{esc(b)}</td></tr>" for n, v, b in rows)
    return (
        "<h2>Tool calls: accuracy per part and per argument</h2>"
        f"<table><tr><th></th><th>challenger</th><th>baseline</th></tr>{cells}</table>"
    )
