"""``make bench``: run every ``benchmarks/bench_*.py`` in turn and keep their reports.

Each benchmark measures against a named baseline in the same run and prints its ratios; this runner
only sequences them (each in its own process, so peak-memory figures are per benchmark) and writes
the combined output to ``benchmarks/results/latest.txt``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import rows

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    selected = argv or sorted(p.stem for p in HERE.glob("bench_*.py"))
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    combined: list[str] = []
    summary: list[dict[str, object]] = []
    failures = 0
    load_before = os.getloadavg()
    for name in selected:
        started = time.monotonic()
        print(f"=== {name}", flush=True)
        proc = subprocess.run(
            [sys.executable, str(HERE / f"{name}.py")],
            capture_output=True,
            text=True,
            cwd=HERE.parent,
            check=False,
        )
        summary += rows.collect(proc.stdout)
        output = "\n".join(line for line in proc.stdout.splitlines() if not line.startswith(rows.MARKER))
        output += f"\n[stderr]\n{proc.stderr[-4000:]}" if proc.returncode else ""
        print(output, flush=True)
        combined.append(f"=== {name} (exit {proc.returncode}, {time.monotonic() - started:.0f}s)\n{output}")
        failures += proc.returncode != 0
    load_after = os.getloadavg()
    title = (
        f"=== summary: issue 17 targets, each against its baseline in the same run "
        f"({os.cpu_count()} cores; 1-min load average {load_before[0]:.1f} before, {load_after[0]:.1f} after)"
    )
    report = f"{title}\n{rows.table(summary)}\n"
    print(report, flush=True)
    combined.append(report)
    (results / "latest.txt").write_text("\n".join(combined))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
