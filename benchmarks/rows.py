"""One summary row per issue-17 target, printed by each benchmark and gathered by ``make bench``.

A benchmark calls :func:`emit` for each target it measures; the line it prints starts with
:data:`MARKER` and holds JSON, so that ``python -m benchmarks`` can collect the rows from every
benchmark's output and print them as one table (:func:`table`) with the ratio against the named
baseline measured in the same run, the target, and whether it was met.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

MARKER = "BENCH_ROW "


def emit(what: str, baseline: str, measured: str, target: str, met: bool) -> None:
    """Print one summary row: ``measured`` (e.g. ``"0.93x"``) against ``baseline``, and ``target``."""
    row = {"what": what, "baseline": baseline, "measured": measured, "target": target, "met": met}
    print(MARKER + json.dumps(row), flush=True)


def collect(output: str) -> list[dict[str, Any]]:
    """The rows a benchmark printed (in order)."""
    return [json.loads(line[len(MARKER) :]) for line in output.splitlines() if line.startswith(MARKER)]


def table(rows: Iterable[dict[str, Any]]) -> str:
    """The rows as a fixed-width table, one line per target."""
    rows = list(rows)
    widths = [max([len(h), *(len(str(r[k])) for r in rows)]) for h, k in _COLUMNS]
    lines = ["  ".join(h.ljust(w) for (h, _), w in zip(_COLUMNS, widths, strict=True)) + "  result"]
    lines.append("-" * len(lines[0]))
    for row in rows:
        cells = "  ".join(str(row[k]).ljust(w) for (_, k), w in zip(_COLUMNS, widths, strict=True))
        lines.append(f"{cells}  {'met' if row['met'] else 'MISSED'}")
    return "\n".join(lines)


_COLUMNS = (
    ("what", "what"),
    ("baseline (same run)", "baseline"),
    ("measured", "measured"),
    ("target", "target"),
)
