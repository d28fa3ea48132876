"""The judge-graded family's report view: a label confusion matrix and the agreement with the labels.

Built from ``summary["metrics"]`` alone: :func:`~bedrock_rft_provider.rewards.moderation.label_match`
one-hots each answer as ``label_<reference>_as_<stated>``, so the metric's mean is that cell's share of
all answers (``stated`` is ``none`` when no single label was stated). Works for any labels that reward
(or one like it) reports; a summary without such metrics has no view.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

_CELL = re.compile(r"^label_([a-z0-9]+)_as_([a-z0-9]+)$")


def label_confusion(summary: Mapping[str, Any]) -> dict[str, Any] | None:
    """``{"labels", "stated", "shares", "agreement"}`` from a summary, or None without label metrics.

    ``shares[reference][stated]`` is the share of all answers in that cell; ``agreement`` the diagonal's
    sum (the share of answers stating the reference label).
    """
    shares: dict[str, dict[str, float]] = {}
    stated: list[str] = []
    for name, value in (summary.get("metrics") or {}).items():
        found = _CELL.match(name)
        if found and isinstance(value, (int, float)):
            reference, said = found.groups()
            shares.setdefault(reference, {})[said] = float(value)
            if said not in stated:
                stated.append(said)
    if not shares:
        return None
    labels = sorted(shares)
    columns = [label for label in labels if label in stated] + [s for s in stated if s not in labels]
    agreement = sum(shares[label].get(label, 0.0) for label in labels)
    return {"labels": labels, "stated": columns, "shares": shares, "agreement": agreement}


def markdown_section(summary: Mapping[str, Any]) -> list[str]:
    """Markdown lines of the view ([] when the summary has no label metrics)."""
    view = label_confusion(summary)
    if view is None:
        return []
    out = [
        "",
        "## Labels: confusion matrix (share of answers)",
        "",
        f"Agreement with the reference labels: {view['agreement']:.4f}",
        "",
        "| reference \\ stated | " + " | ".join(view["stated"]) + " |",
        "|---|" + "---|" * len(view["stated"]),
    ]
    for label in view["labels"]:
        row = view["shares"][label]
        out.append(f"| {label} | " + " | ".join(f"{row.get(s, 0.0):.3f}" for s in view["stated"]) + " |")
    return out


def html_section(summary: Mapping[str, Any]) -> list[str]:
    """HTML parts of the view ([] when the summary has no label metrics)."""
    view = label_confusion(summary)
    if view is None:
        return []
    esc = html.escape
    parts = [
        "<h2>Labels: confusion matrix (share of answers)</h2>",
        f"<p>Agreement with the reference labels: {view['agreement']:.4f}</p>",
        "<table><tr><th>reference \\ stated</th>"
        + "".join(f"<th>{esc(s)}</th>" for s in view["stated"])
        + "</tr>",
    ]
    for label in view["labels"]:
        row = view["shares"][label]
        cells = "".join(f"<td>{row.get(s, 0.0):.3f}</td>" for s in view["stated"])
        parts.append(f"<tr><td>{esc(label)}</td>{cells}</tr>")
    parts.append("</table>")
    return parts
