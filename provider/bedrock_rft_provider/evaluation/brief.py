"""The evaluation brief: one short Markdown text for the approval request and every notification.

It says what a reviewer needs to decide: the mean-reward delta with its 95% CI and p-value, the
challenger's and baseline's key metrics, the guard metrics side by side, the gate's reasons, and
where the full report is. Pure: takes the evaluation summary and the gate decision as dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Guard metrics shown side by side (the default gate guards, and the usual extra one).
GUARD_METRICS = ("response_length.mean", "error_rate", "accuracy")
# Words in a training failure that mean a spend/health cap stopped the job on purpose (issue 16's
# caps are the params max_budget, max_training_hours, max_grader_invocations).
BUDGET_MARKERS = ("max_budget", "max_training_hours", "max_grader_invocations", "budget", "spend cap")
SUBJECT_LIMIT = 100  # SNS rejects longer subjects


def _number(summary: Mapping[str, Any], path: str) -> float | None:
    """The gate's reading of a summary number; the gate module loads when a brief is written, not
    when a DAG file that names ``evaluation_brief`` as a template macro is parsed."""
    from bedrock_rft_provider.evaluation.gate import metric_value

    return metric_value(summary, path)


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
    lines = [f"### Challenger {summary.get('model_id') or '?'}" + (f" for {family}" if family else "")]
    lines.append(
        f"- mean reward delta {_fmt(_number(summary, 'delta'), True)}, 95% CI "
        f"{_interval(summary.get('delta_ci95'))}, p-value {_fmt(_number(summary, 'p_value'))}, "
        f"n={summary.get('n', 'n/a')}"
    )
    lines.append(
        f"- mean reward {_fmt(_number(summary, 'mean_reward'))} vs baseline "
        f"{_fmt(_number(baseline, 'mean_reward'))} ({baseline.get('model_id') or 'baseline'})"
    )
    lines.append("")
    lines.append("| guard metric | challenger | baseline |")
    lines.append("|---|---|---|")
    for metric in GUARD_METRICS:
        lines.append(f"| {metric} | {_fmt(_number(summary, metric))} | {_fmt(_number(baseline, metric))} |")
    if decision is not None:
        verdict = "PROMOTE" if decision.get("promote") else "REJECT"
        lines += ["", f"Gate: **{verdict}**"]
        lines += [f"- {reason}" for reason in decision.get("reasons") or []]
    if report_uri:
        lines += ["", f"Report: {report_uri}"]
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
    text = " ".join(text.split())  # SNS subjects must be one line
    return text if len(text) <= SUBJECT_LIMIT else text[: SUBJECT_LIMIT - 3] + "..."
