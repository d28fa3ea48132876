"""``report.md`` and a self-contained ``report.html`` (plots embedded as base64 PNGs) for an evaluation."""

from __future__ import annotations

import base64
import html
import io
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bedrock_rft_provider.evaluation import moderation, tool_calls
from bedrock_rft_provider.evaluation.scoring import SampleResult
from bedrock_rft_provider.jobs.metrics import HACKING_ATTEMPT_SHARE, TrainingMetrics

TrainingCurve = Mapping[str, Sequence[tuple[float, float]]]
SANDBOX_NOTICE = (
    "Sandbox run: model answers and training were simulated by the local Bedrock RFT sandbox; "
    "the data, reward code and orchestration were real. These numbers say nothing about a real model."
)


# Training series plotted on their own, not with the rewards: name -> (plot title, y label).
OWN_PLOTS = {
    HACKING_ATTEMPT_SHARE: ("Share of reward-hacking attempts over steps", "share of responses (sandbox)"),
}


def training_curve(metrics: TrainingMetrics) -> dict[str, list[tuple[float, float]]]:
    """The reward series (names containing "reward") of a job's parsed training metrics, and the
    series of :data:`OWN_PLOTS` (e.g. the sandbox's share of reward-hacking attempts)."""
    return {
        name: [(float(step), value) for step, value in points]
        for name, points in sorted(metrics.series.items())
        if ("reward" in name.lower() or name in OWN_PLOTS) and points
    }


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def histogram_range(scores: Sequence[float], bins: int = 20) -> tuple[float, float, int]:
    """``(low, high, bins)`` for a histogram of ``scores`` that any finite scores can be drawn with.

    Equal scores get one bin around them; a span too small for float precision (scores near 1e300) or
    too large to represent (-1e308..1e308) falls back to one bin or a clipped range.
    """
    low, high = min(scores), max(scores)
    span = high - low
    if not math.isfinite(span):
        return -sys.float_info.max / 2, sys.float_info.max / 2, bins
    if span <= max(abs(low), abs(high)) * 1e-9:
        pad = max(abs(low) * 0.5, 0.5)
        return low - pad, low + pad, 1
    return low, high, bins


PLOTS_MISSING_NOTICE = (
    "No plots: matplotlib is not installed. Install it with "
    "pip install 'airflow-provider-bedrock-rft[reports]'."
)


def plots_available() -> bool:
    """Whether matplotlib (the optional ``reports`` extra) can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def render_plots(
    results: Sequence[SampleResult],
    baseline_results: Sequence[SampleResult] | None,
    summary: Mapping[str, Any],
    training_curve: TrainingCurve | None,
) -> dict[str, str]:
    """Plot title -> base64 PNG: reward distribution, per-slice accuracy, training reward curve.

    Empty when matplotlib (the ``reports`` extra) is not installed: the reports then carry no plots.
    """
    if not plots_available():
        return {}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots: dict[str, str] = {}
    fig, ax = plt.subplots(figsize=(6, 3.5))
    series = [("challenger", [r.score for r in results])]
    if baseline_results:
        series.insert(0, ("baseline", [r.score for r in baseline_results]))
    low, high, bins = histogram_range([score for _, scores in series for score in scores])
    for label, scores in series:
        ax.hist(scores, bins=bins, range=(low, high), alpha=0.6, label=label)
    ax.set_xlabel("reward")
    ax.set_ylabel("samples")
    ax.legend()
    plots["Reward distribution"] = _png(fig)
    plt.close(fig)

    slices = summary.get("slices")
    if slices:
        names = list(slices)
        fig, ax = plt.subplots(figsize=(max(5, 0.6 * len(names) + 2), 3.5))
        positions = range(len(names))
        base_slices = (summary.get("baseline") or {}).get("slices") or {}
        width = 0.4 if base_slices else 0.8
        if base_slices:
            ax.bar(
                [p - width / 2 for p in positions],
                [base_slices.get(n, {}).get("accuracy", 0.0) for n in names],
                width,
                label="baseline",
            )
        ax.bar(
            [p + (width / 2 if base_slices else 0) for p in positions],
            [slices[n]["accuracy"] for n in names],
            width,
            label="challenger",
        )
        ax.set_xticks(list(positions), names, rotation=30, ha="right")
        ax.set_ylabel("accuracy")
        ax.set_title(f"accuracy by {summary.get('slice_field')}")
        ax.legend()
        plots["Per-slice accuracy"] = _png(fig)
        plt.close(fig)

    curves = dict(training_curve or {})
    figures: list[tuple[str, str, list[str]]] = [
        ("Training reward curve", "reward", [n for n in curves if n not in OWN_PLOTS])
    ]
    figures += [(*OWN_PLOTS[name], [name]) for name in curves if name in OWN_PLOTS]
    for title, ylabel, names in figures:
        if not names:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for name in names:
            ax.plot([p[0] for p in curves[name]], [p[1] for p in curves[name]], label=name)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.legend()
        plots[title] = _png(fig)
        plt.close(fig)
    return plots


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, float) for v in value):
        return f"[{value[0]:.4f}, {value[1]:.4f}]"
    return "n/a" if value is None else str(value)


def _key_rows(summary: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    baseline = summary.get("baseline") or {}
    rows = [
        (name, _fmt(summary.get(key)), _fmt(baseline.get(key)) if baseline else "")
        for name, key in (
            ("samples", "n"),
            ("mean reward", "mean_reward"),
            ("mean reward 95% CI", "ci95"),
            ("accuracy", "accuracy"),
            ("error rate", "error_rate"),
        )
    ]
    length, base_length = summary.get("response_length") or {}, baseline.get("response_length") or {}
    rows.append(("mean response length (words)", _fmt(length.get("mean")), _fmt(base_length.get("mean"))))
    for name, value in (summary.get("metrics") or {}).items():
        rows.append((f"metric {name}", _fmt(value), _fmt((baseline.get("metrics") or {}).get(name))))
    for name, value in (summary.get("pass_at_k") or {}).items():
        rows.append((name, _fmt(value), _fmt((baseline.get("pass_at_k") or {}).get(name))))
    return rows


def _comparison_lines(summary: Mapping[str, Any]) -> list[str]:
    if "delta" not in summary:
        return []
    lines = [
        f"delta mean reward: {_fmt(summary['delta'])}",
        f"delta 95% CI: {_fmt(summary.get('delta_ci95'))}",
    ]
    paired = summary.get("paired")
    if paired:
        lines.append(
            f"paired {paired['test']} p-value: {_fmt(summary.get('p_value'))} "
            f"(n={paired['n']}, wins {paired['wins']}, losses {paired['losses']}, ties {paired['ties']})"
        )
    else:
        lines.append("baseline compared by summary only: no paired CI or test")
    return lines


def _spend_rows(summary: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """``(quantity, forecast, actual, actual/forecast)`` rows of the run's spend; [] without one."""
    from bedrock_rft_provider.jobs.spend import forecast_vs_actual

    spend = summary.get("spend")
    if not isinstance(spend, Mapping):
        return []
    rows = forecast_vs_actual(spend.get("forecast") or {}, spend.get("actual") or {})

    def cell(value: Any) -> str:
        if value is None:
            return "n/a"
        return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"

    currency = spend.get("currency", "")
    labels = {name: name.replace("_", " ") for name in rows} | {"total_money": f"money ({currency})"}
    return [
        (labels[name], cell(row["forecast"]), cell(row["actual"]), cell(row["ratio"]))
        for name, row in rows.items()
    ]


def render_markdown(summary: Mapping[str, Any], plot_names: Sequence[str]) -> str:
    """The Markdown report (plots are in report.html)."""
    title = f"# Evaluation of {summary.get('model_id') or 'responses'}"
    out = [title, ""]
    if summary.get("sandbox"):
        out += [f"> **{SANDBOX_NOTICE}**", ""]
    out += ["| | challenger | baseline |", "|---|---|---|"]
    out += [f"| {name} | {value} | {base} |" for name, value, base in _key_rows(summary)]
    out.append("")
    out += [f"- {line}" for line in _comparison_lines(summary)]
    if summary.get("slices"):
        out += ["", f"## Accuracy by {summary['slice_field']}", "", "| slice | n | accuracy | mean reward |"]
        out.append("|---|---|---|---|")
        out += [
            f"| {name} | {row['n']} | {row['accuracy']:.4f} | {row['mean_reward']:.4f} |"
            for name, row in summary["slices"].items()
        ]
    out += moderation.markdown_section(summary)
    out += tool_calls.markdown_section(summary)
    spend = _spend_rows(summary)
    if spend:
        out += ["", "## Spend: forecast vs actual", "", "| | forecast | actual | actual / forecast |"]
        out += ["|---|---|---|---|"] + [f"| {q} | {f} | {a} | {r} |" for q, f, a, r in spend]
    if plot_names:
        out += ["", "Plots (in report.html): " + ", ".join(plot_names) + "."]
    return "\n".join(out) + "\n"


def render_html(summary: Mapping[str, Any], plots: Mapping[str, str]) -> str:
    """A single HTML file with every plot inline, readable offline and from S3."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>Evaluation of {esc(str(summary.get('model_id') or 'responses'))}</title>",
        "<style>body{font-family:sans-serif;max-width:960px;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}"
        ".sandbox{background:#fff3cd;border:1px solid #e0c060;padding:8px}</style></head><body>",
        f"<h1>Evaluation of {esc(str(summary.get('model_id') or 'responses'))}</h1>",
    ]
    if summary.get("sandbox"):
        parts.append(f"<p class='sandbox'><strong>{esc(SANDBOX_NOTICE)}</strong></p>")
    parts.append("<table><tr><th></th><th>challenger</th><th>baseline</th></tr>")
    parts += [
        f"<tr><td>{esc(n)}</td><td>{esc(v)}</td><td>{esc(b)}</td></tr>" for n, v, b in _key_rows(summary)
    ]
    parts.append("</table><ul>")
    parts += [f"<li>{esc(line)}</li>" for line in _comparison_lines(summary)]
    parts.append("</ul>")
    parts += moderation.html_section(summary)
    parts.append(tool_calls.html_section(summary))
    spend = _spend_rows(summary)
    if spend:
        parts.append("<h2>Spend: forecast vs actual</h2><table><tr><th></th><th>forecast</th><th>actual</th>")
        parts.append("<th>actual / forecast</th></tr>")
        parts += [f"<tr>{''.join(f'<td>{esc(c)}</td>' for c in row)}</tr>" for row in spend]
        parts.append("</table>")
    for title, png in plots.items():
        parts.append(f"<h2>{esc(title)}</h2><img alt='{esc(title)}' src='data:image/png;base64,{png}'>")
    if not plots:
        parts.append(f"<p>{esc(PLOTS_MISSING_NOTICE)}</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_reports(
    output_dir: str | Path,
    summary: Mapping[str, Any],
    results: Sequence[SampleResult],
    baseline_results: Sequence[SampleResult] | None = None,
    training_curve: TrainingCurve | None = None,
) -> dict[str, Path]:
    """Write report.md and report.html into ``output_dir``; returns their paths."""
    output_dir = Path(output_dir)
    texts = render_reports(summary, results, baseline_results, training_curve)
    paths = {"report_md": output_dir / "report.md", "report_html": output_dir / "report.html"}
    paths["report_md"].write_text(texts["report.md"], encoding="utf-8")
    paths["report_html"].write_text(texts["report.html"], encoding="utf-8")
    return paths


def render_reports(
    summary: Mapping[str, Any],
    results: Sequence[SampleResult],
    baseline_results: Sequence[SampleResult] | None = None,
    training_curve: TrainingCurve | None = None,
) -> dict[str, str]:
    """``{"report.md": text, "report.html": text}``, rendered in memory (nothing written)."""
    plots = render_plots(results, baseline_results, summary, training_curve)
    return {"report.md": render_markdown(summary, list(plots)), "report.html": render_html(summary, plots)}
