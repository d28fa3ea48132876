"""matplotlib is the optional ``reports`` extra: without it the reports are still written, minus plots."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bedrock_rft_provider.evaluation.report import PLOTS_MISSING_NOTICE, plots_available, write_reports
from bedrock_rft_provider.evaluation.scoring import SampleResult
from bedrock_rft_provider.evaluation.summary import summarize


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError


def _results() -> list[SampleResult]:
    return [SampleResult("a", 0, 1.0, response_length=3), SampleResult("b", 0, 0.0, response_length=4)]


@pytest.mark.usefixtures("no_matplotlib")
def test_reports_without_matplotlib_have_no_plots_and_say_how_to_get_them(tmp_path: Path) -> None:
    assert plots_available() is False
    summary = summarize(_results(), resamples=50)
    paths = write_reports(tmp_path, summary, _results(), None, {"critic/rewards/mean": [(1.0, 0.5)]})
    html = paths["report_html"].read_text()
    assert "data:image/png" not in html
    assert "airflow-provider-bedrock-rft[reports]" in html and PLOTS_MISSING_NOTICE.split(":")[0] in html
    assert "mean reward" in paths["report_md"].read_text() and "Plots (in report.html)" not in (
        paths["report_md"].read_text()
    )


def test_reports_with_matplotlib_carry_no_missing_notice(tmp_path: Path) -> None:
    assert plots_available() is True  # the dev extra installs it
    paths = write_reports(tmp_path, summarize(_results(), resamples=50), _results())
    html = paths["report_html"].read_text()
    assert "data:image/png" in html and PLOTS_MISSING_NOTICE not in html
