"""``make demo TASK=tools`` runs the same script as this test, so the tools demo cannot rot unnoticed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Safety nets, not speed limits (as in test_demo.py: the math demo took 79 s on 2 busy cores).
DEMO_TIMEOUT_S = 1200
TEST_TIMEOUT_S = DEMO_TIMEOUT_S + 120


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_the_tools_demo_trains_promotes_and_reports_per_argument(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BEDROCK_RFT_SANDBOX_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bedrock_rft_provider.demo",
            "--task",
            "tools",
            "--output",
            str(tmp_path / "out"),
        ],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "Task family  tools: tool calling" in out and "SANDBOX RUN" in out
    tuned, baseline = map(
        float, re.findall(r"Evaluation   tuned (\d\.\d+) .*? vs baseline (\d\.\d+)", out)[0]
    )
    assert tuned > baseline
    assert "Gate         PROMOTE" in out
    assert re.search(r"Tool calls   weakest arguments: \w+\.\w+ \d+\.\d%", out)
    assert out.count("Backfill     interval") == 3
    assert "Tool calls: accuracy per part and per argument" in (tmp_path / "out" / "report.html").read_text()
