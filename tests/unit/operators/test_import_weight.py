"""What a DAG file pays to import our operators: no OpenAI client, no data pipeline, no reward runner.

Airflow parses DAG files over and over; an operator module imports only what its class and constructor
need, and the rest (the ``openai`` client of the open-weight path, the dataset pipeline, the reward
packager and runner, the inference runner, the job spec and spend model, lineage, the triggers) when
the task runs, defers or reports lineage. Each check runs in a fresh interpreter, since this test
process has imported everything already. (Triggers load in the triggerer, after execute() has
deferred to them.)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "provider" / "bedrock_rft_provider"
# Imported only when a task executes (or never on the DAG-parse path).
EXECUTE_TIME_ONLY = (
    "openai",
    "numpy",
    "pandas",
    "pyarrow",
    "moto",
    "bedrock_rft_provider.sandbox",
    "bedrock_rft_provider.dag_tasks",
    "bedrock_rft_provider.lineage",
    "bedrock_rft_provider.namespace",
    "bedrock_rft_provider.data.prepare",
    "bedrock_rft_provider.data.problems",
    "bedrock_rft_provider.data.sources",
    "bedrock_rft_provider.data.validate",
    "bedrock_rft_provider.evaluation.checkpoints",
    "bedrock_rft_provider.evaluation.gate",
    "bedrock_rft_provider.evaluation.grader_change",
    "bedrock_rft_provider.evaluation.inference",
    "bedrock_rft_provider.evaluation.records",
    "bedrock_rft_provider.evaluation.report",
    "bedrock_rft_provider.evaluation.request",
    "bedrock_rft_provider.evaluation.scoring",
    "bedrock_rft_provider.evaluation.statistics",
    "bedrock_rft_provider.evaluation.promotion",
    "bedrock_rft_provider.operators.native_job",
    "bedrock_rft_provider.jobs.budget",
    "bedrock_rft_provider.jobs.events",
    "bedrock_rft_provider.jobs.forecast",
    "bedrock_rft_provider.jobs.health",
    "bedrock_rft_provider.jobs.hyperparameters",
    "bedrock_rft_provider.jobs.metrics",
    "bedrock_rft_provider.jobs.openweight",
    "bedrock_rft_provider.jobs.spec",
    "bedrock_rft_provider.jobs.spend",
    "bedrock_rft_provider.jobs.spend_guard",
    "bedrock_rft_provider.jobs.training_key",
    "bedrock_rft_provider.jobs.validation",
    "bedrock_rft_provider.rewards.packaging",
    "bedrock_rft_provider.rewards.runner",
    "bedrock_rft_provider.rewards.handler",
    "bedrock_rft_provider.triggers.deployment",
    "bedrock_rft_provider.triggers.rft_job",
    "bedrock_rft_provider.triggers.spend_watch",
)
# Airflow's own DAG machinery imports the trigger base classes while a DAG is built; importing the
# operator modules alone must not.
IMPORT_TIME_ONLY = ("airflow.triggers.base", "airflow.providers.amazon.aws.triggers.base")
RETRAINING_DAG = ROOT / "dags" / "bedrock_rft_retraining.py"
_CHILD = """
import importlib, json, runpy, sys
import botocore.client
clients = []
create_client = botocore.client.ClientCreator.create_client
def counting(self, service_name, *args, **kwargs):
    clients.append(service_name)
    return create_client(self, service_name, *args, **kwargs)
botocore.client.ClientCreator.create_client = counting
for name in sys.argv[1:]:
    runpy.run_path(name) if name.endswith(".py") else importlib.import_module(name)
print(json.dumps({"modules": sorted(sys.modules), "clients": clients}))
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


def _run_child(names: list[str]) -> dict[str, list[str]]:
    """Import ``names`` (modules, or run ``.py`` DAG files) in a fresh interpreter: its modules and
    the botocore clients it created."""
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, *names], capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(result.stdout.splitlines()[-1])


def _modules_after_importing(names: list[str]) -> set[str]:
    return set(_run_child(names)["modules"])


@pytest.fixture(scope="module")
def imported() -> dict[str, list[str]]:
    return _run_child(_parse_time_modules())


@pytest.fixture(scope="module")
def loaded(imported: dict[str, list[str]]) -> set[str]:
    return set(imported["modules"])


@pytest.fixture(scope="module")
def parsed() -> dict[str, list[str]]:
    """The retraining DAG file run as the DAG processor runs it: every operator constructed."""
    return _run_child([str(RETRAINING_DAG)])


def test_every_operator_and_sensor_module_is_checked() -> None:
    names = _parse_time_modules()
    assert "bedrock_rft_provider.operators.rft_job" in names
    assert "bedrock_rft_provider.sensors.rft_job" in names
    assert len(names) >= 7 + 1


@pytest.mark.parametrize("module", EXECUTE_TIME_ONLY + IMPORT_TIME_ONLY)
def test_importing_every_operator_module_does_not_import(loaded: set[str], module: str) -> None:
    assert "bedrock_rft_provider.operators.rft_job" in loaded  # the child really imported them
    assert module not in loaded
    assert not any(name.startswith(module + ".") for name in loaded)


def test_importing_every_operator_module_creates_no_aws_client(imported: dict[str, list[str]]) -> None:
    assert "bedrock_rft_provider.operators.rft_job" in imported["modules"]
    assert imported["clients"] == []


@pytest.mark.parametrize("module", EXECUTE_TIME_ONLY)
def test_building_the_retraining_dag_does_not_import(parsed: dict[str, list[str]], module: str) -> None:
    assert "bedrock_rft_provider.operators.rft_job" in parsed["modules"]  # the DAG file really ran
    assert module not in parsed["modules"]
    assert not any(name.startswith(module + ".") for name in parsed["modules"])


def test_building_the_retraining_dag_creates_no_aws_client(parsed: dict[str, list[str]]) -> None:
    assert parsed["clients"] == []


def test_the_check_sees_an_eager_import() -> None:
    """Guard against a check that passes because the child imports nothing."""
    loaded = _modules_after_importing(["bedrock_rft_provider.operators.gate", "openai"])
    assert "openai" in loaded


def test_the_check_sees_a_client_created_at_import(tmp_path: Path) -> None:
    """Guard against a client count that stays empty whatever the imported code does."""
    eager = tmp_path / "eager_client.py"
    eager.write_text("import boto3\nboto3.client('s3', region_name='us-east-1')\n")
    assert _run_child([str(eager)])["clients"] == ["s3"]


def test_parsing_the_post_training_dags_does_not_import_their_task_logic() -> None:
    """Its tasks import ``dag_tasks.post_training`` when they run; the file itself must not."""
    modules = _run_child([str(ROOT / "dags" / "bedrock_rft_post_training.py")])["modules"]
    assert "bedrock_rft_provider.operators.promote" in modules  # the DAG file really ran
    assert not any(name.startswith("bedrock_rft_provider.dag_tasks") for name in modules)
