"""A failing demo names the failing task and its error (its own file: pytest-xdist --dist loadfile runs it
on another worker than the successful demo in test_demo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dags.test_demo import TEST_TIMEOUT_S, _demo


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_demo_fails_with_the_failing_tasks_error(tmp_path: Path) -> None:
    result = _demo(tmp_path, BEDROCK_RFT_SANDBOX_FAIL_JOBS="rft-*@training")
    assert result.returncode == 1
    assert "DEMO FAILED" in result.stderr
    assert "failed task(s): train" in result.stderr
    assert "ended Failed" in result.stderr  # ... which carries Bedrock's failureMessage
