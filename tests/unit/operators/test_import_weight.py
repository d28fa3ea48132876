"""What a DAG file pays to import our operators: no OpenAI client, no data pipeline, no reward runner.

Airflow parses DAG files over and over; an operator module imports only what its class and constructor
need, and the rest (the ``openai`` client of the open-weight path, the dataset pipeline, the reward
packager and runner, the inference runner) when the task runs. Each check runs in a fresh interpreter,
since this test process has imported everything already. (Triggers load in the triggerer, after
execute() has imported the client.)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "provider" / "bedrock_rft_provider"
# Imported only when a task executes (or never on the DAG-parse path).
EXECUTE_TIME_ONLY = (
    "openai",
    "bedrock_rft_provider.data.prepare",
    "bedrock_rft_provider.evaluation.inference",
    "bedrock_rft_provider.evaluation.report",
    "bedrock_rft_provider.rewards.packaging",
    "bedrock_rft_provider.rewards.runner",
    "bedrock_rft_provider.rewards.handler",
)
_CHILD = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def _parse_time_modules() -> list[str]:
    """Every module a DAG file imports operators or sensors from (those defining such a class)."""
    defines = re.compile(r"^class \w+(Operator|Sensor)\b", re.MULTILINE)
    return [
        f"bedrock_rft_provider.{folder}.{path.stem}"
        for folder in ("operators", "sensors")
        for path in sorted((PACKAGE / folder).glob("*.py"))
        if defines.search(path.read_text())
    ]


def _modules_after_importing(names: list[str]) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, *names], capture_output=True, text=True, timeout=300, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.fixture(scope="module")
def loaded() -> set[str]:
    return _modules_after_importing(_parse_time_modules())


def test_every_operator_and_sensor_module_is_checked() -> None:
    names = _parse_time_modules()
    assert "bedrock_rft_provider.operators.rft_job" in names
    assert "bedrock_rft_provider.sensors.rft_job" in names
    assert len(names) >= 7 + 1


@pytest.mark.parametrize("module", EXECUTE_TIME_ONLY)
def test_importing_every_operator_module_does_not_import(loaded: set[str], module: str) -> None:
    assert "bedrock_rft_provider.operators.rft_job" in loaded  # the child really imported them
    assert module not in loaded


def test_the_check_sees_an_eager_import() -> None:
    """Guard against a check that passes because the child imports nothing."""
    loaded = _modules_after_importing(["bedrock_rft_provider.operators.gate", "openai"])
    assert "openai" in loaded
