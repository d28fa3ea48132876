"""The evaluation brief: one short Markdown text for the approval request and every notification.

It says what a reviewer needs to decide: the mean-reward delta with its 95% CI and p-value, the
challenger's and baseline's key metrics, the guard metrics side by side, the gate's reasons, and
where the full report is. Pure: takes the evaluation summary and the gate decision as dicts.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

# Guard metrics shown side by side (the default gate guards, and the usual extra one).
GUARD_METRICS = ("response_length.mean", "error_rate", "accuracy")
# Words in a training failure that mean a spend/health cap stopped the job on purpose (issue 16's
# caps are the params max_budget, max_training_hours, max_grader_invocations).
BUDGET_MARKERS = ("max_budget", "max_training_hours", "max_grader_invocations", "budget", "spend cap")
SUBJECT_LIMIT = 100  # SNS rejects longer subjects
SNS_MESSAGE_BYTES = 262_144  # SNS rejects longer messages (bytes of the Message parameter)
# Untrusted text in the brief (model ids, gate reasons) is cut to this many characters each.
FIELD_LIMIT = 300
MAX_REASONS = 50  # a gate has a handful of checks; more is not something a reviewer reads
# Markdown that could make a link, an image, raw HTML, a code span or a table cell out of plain text.
_MARKDOWN = re.compile(r"([\\`\[\]<>|!])")


def _printable(text: str, *, keep_lines: bool) -> str:
    """``text`` without control, format (bidi overrides, zero-width) and surrogate characters; tabs and
    line breaks stay only with ``keep_lines`` (else each run of whitespace is one space)."""
    kept = "".join(
        ch
        for ch in text
        if (keep_lines and ch in "\n\t") or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    return kept if keep_lines else " ".join(kept.split())


def plain(value: Any, limit: int = FIELD_LIMIT) -> str:
    """Untrusted text as one line of Markdown that renders literally: no links, images, HTML, code or
    table cells (their characters are backslash-escaped), at most ``limit`` characters (then "...")."""
    text = _printable(str(value), keep_lines=False)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return _MARKDOWN.sub(r"\\\1", text)


def _json_size(ch: str) -> int:
    """Bytes ``ch`` takes inside a JSON string as ``json.dumps`` writes it (ASCII only, ``\\uXXXX``)."""
    if " " <= ch <= "~":
        return 2 if ch in '"\\' else 1
    return 2 if ch in "\n\t" else (12 if ord(ch) > 0xFFFF else 6)


def sns_message(text: str, limit: int = SNS_MESSAGE_BYTES) -> str:
    """``text`` as SNS can take it: printable (lines kept), cut (with a note saying so) so that the
    amazon provider's JSON message structure ``{"default": text}`` fits in ``limit`` bytes. In that
    JSON every non-ASCII character is a 6-byte ``\\uXXXX`` escape, so the limit is not 256 K characters.
    """
    text = _printable(text, keep_lines=True)
    envelope = len(json.dumps({"default": ""}))
    size = envelope + sum(_json_size(ch) for ch in text)
    if size <= limit:
        return text
    note = f"\n\n... (cut: {{}} of {len(text)} characters kept; the rest would not fit in an SNS message)"
    room = limit - envelope - sum(_json_size(ch) for ch in note.format(len(text)))
    kept = 0
    for ch in text:
        room -= _json_size(ch)
        if room < 0:
            break
        kept += 1
    return text[:kept] + note.format(kept)


def _number(summary: Mapping[str, Any], path: str) -> float | None:
    """The gate's reading of a summary number, or None for an int too large for a float (a hand-edited
    summary.json). The gate module loads when a brief is written, not when a DAG file that names
    ``evaluation_brief`` as a template macro is parsed."""
    from bedrock_rft_provider.evaluation.gate import metric_value

    try:
        return metric_value(summary, path)
    except OverflowError:
        return None


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.4f}" if signed else f"{value:.4g}"


def _interval(value: Any) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        return f"[{_fmt(_number({'v': value[0]}, 'v'), True)}, {_fmt(_number({'v': value[1]}, 'v'), True)}]"
    return "n/a"


def evaluation_brief(
    summary: Mapping[str, Any] | None,
    decision: Mapping[str, Any] | None = None,
    *,
    report_uri: str | None = None,
    family: str | None = None,
) -> str:
    """Markdown: delta with CI, key and guard metrics (challenger vs baseline), gate reasons, report link.

    :param summary: the evaluation ``summary.json`` (``delta``, ``delta_ci95``, ``p_value``,
        ``baseline``...); missing fields print ``n/a``.
    :param decision: the gate decision ``{promote, reasons}`` (XCom ``gate_decision``), if any.
    :param report_uri: where ``report.html`` is (an ``s3://`` URI or URL).
    :param family: the champion family, for the heading.
    """
    summary = summary or {}
    found = summary.get("baseline")
    baseline: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    lines = [
        f"### Challenger {plain(summary.get('model_id') or '?')}"
        + (f" for {plain(family)}" if family else "")
    ]
    lines.append(
        f"- mean reward delta {_fmt(_number(summary, 'delta'), True)}, 95% CI "
        f"{_interval(summary.get('delta_ci95'))}, p-value {_fmt(_number(summary, 'p_value'))}, "
        f"n={plain(summary.get('n', 'n/a'))}"
    )
    lines.append(
        f"- mean reward {_fmt(_number(summary, 'mean_reward'))} vs baseline "
        f"{_fmt(_number(baseline, 'mean_reward'))} ({plain(baseline.get('model_id') or 'baseline')})"
    )
    lines.append("")
    lines.append("| guard metric | challenger | baseline |")
    lines.append("|---|---|---|")
    for metric in GUARD_METRICS:
        lines.append(f"| {metric} | {_fmt(_number(summary, metric))} | {_fmt(_number(baseline, metric))} |")
    if decision is not None:
        verdict = "PROMOTE" if decision.get("promote") else "REJECT"
        lines += ["", f"Gate: **{verdict}**"]
        reasons = decision.get("reasons") or []
        reasons = reasons if isinstance(reasons, (list, tuple)) else [reasons]
        lines += [f"- {plain(reason)}" for reason in reasons[:MAX_REASONS]]
    if report_uri:
        lines += ["", f"Report: {plain(report_uri, 2048)}"]
    return "\n".join(lines)


def is_budget_stop(error: BaseException | str | None) -> bool:
    """True when a training failure is a deliberate stop by a spend cap rather than a job failure."""
    if error is None:
        return False
    text = f"{type(error).__name__} {error}".lower() if isinstance(error, BaseException) else error.lower()
    return any(marker in text for marker in BUDGET_MARKERS)


def subject(event: str, family: str | None, detail: str = "") -> str:
    """``Bedrock RFT <family>: <event>[ - detail]``, cut to the SNS subject limit."""
    text = f"Bedrock RFT {family or ''}: {event}" + (f" - {detail}" if detail else "")
    # SNS subjects are one line of ASCII without control characters: anything else is dropped.
    text = " ".join("".join(ch for ch in text if " " <= ch <= "~" or ch.isspace()).split())
    return text if len(text) <= SUBJECT_LIMIT else text[: SUBJECT_LIMIT - 3] + "..."
