"""Longest files first: the order pytest-xdist hands test files to its workers.

``make test`` runs ``-n 2 --dist loadfile --no-loadscope-reorder``: each file goes whole to one worker,
in collection order, as workers free up. xdist's own reorder puts files with the most tests first, which
left the few single-test DAG runs (minutes each) for last, so one worker ran them alone while the other
idled. Sorting files by their measured seconds, longest first, is the classic longest-processing-time
rule: the long runs start at once and the many short files fill in behind them.

``tests/durations.json`` maps a test file to its seconds in one recorded run (``make durations``
rewrites it). It is a scheduling hint only: a stale or missing figure changes the order, never a result;
files it does not name keep their collection order after the ones it names.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pytest

DURATIONS_FILE = Path(__file__).resolve().parents[1] / "durations.json"
# One line of pytest's --durations report: "12.34s call     tests/x/test_y.py::test_z[param]".
DURATION_LINE = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s+(?:setup|call|teardown)\s+(\S+?\.py)::")


def file_seconds(report_lines: Iterable[str]) -> dict[str, float]:
    """Seconds per test file from pytest ``--durations`` report lines (setup + call + teardown)."""
    seconds: dict[str, float] = defaultdict(float)
    for line in report_lines:
        match = DURATION_LINE.match(line)
        if match:
            seconds[match.group(2)] += float(match.group(1))
    return {path: round(total, 1) for path, total in sorted(seconds.items(), key=lambda kv: -kv[1])}


def load_durations(path: Path = DURATIONS_FILE) -> dict[str, float]:
    """The recorded seconds per file; empty when the file is absent or unreadable (order falls back)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))}


def longest_files_first(items: list[pytest.Item], durations: dict[str, float]) -> None:
    """Reorder ``items`` in place: whole files, longest recorded first; ties keep collection order."""
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(item.nodeid.split("::", 1)[0], index)

    def key(item: pytest.Item) -> tuple[float, int]:
        path = item.nodeid.split("::", 1)[0]
        return (-durations.get(path, 0.0), first_seen[path])

    items.sort(key=key)  # stable: a file's own tests keep their order


def main(argv: list[str]) -> int:
    """``python -m support.scheduling < durations-report.txt``: print tests/durations.json's new text."""
    seconds = file_seconds(sys.stdin)
    if not seconds:
        print("no --durations lines on stdin (run pytest with --durations=0)", file=sys.stderr)
        return 1
    print(json.dumps(seconds, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
