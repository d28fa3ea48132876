"""Every DAG the README shows runs green in a real DAG run (``dag.test()``) on the sandbox.

Compiling a snippet proves little: ``deploy.output["alias_arn"]`` compiles and then fails at run time
on Airflow 3 (issue 10, fault 5). Each README DAG gets only what a user would already have in their
account (bucket, roles, raw data, a deployed grader: the ``SETUP`` table) and then runs end to end.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.sandbox.bootstrap import bootstrap_sandbox
from support.airflow_compat import dagbag_for_test
from support.airflow_context import make_context
from unit.test_readme import PYTHON

pytestmark = pytest.mark.integration

RUN_DATE = datetime(2026, 11, 20, tzinfo=timezone.utc)
DS = RUN_DATE.date().isoformat()
DAG_BLOCKS = [code for code in PYTHON if "with DAG(" in code]


def _dag_id(code: str) -> str:
    found = re.search(r'dag_id="([^"]+)"', code)
    assert found, code
    return found[1]


def _synthetic_rft_lines(count: int, seed: int) -> str:
    from bedrock_rft_provider.data.gsm8k import to_rft_record
    from bedrock_rft_provider.data.synthetic import generate

    return "\n".join(json.dumps(to_rft_record(raw)) for raw in generate(count, seed)) + "\n"


def _raw_gsm8k(sandbox: Any) -> None:
    from bedrock_rft_provider.data.synthetic import generate

    bootstrap_sandbox(sandbox.endpoint_url, ["my-bucket"], session=sandbox.session())
    raw = "\n".join(json.dumps(r) for r in generate(300, 3)) + "\n"
    sandbox.client("s3").put_object(Bucket="my-bucket", Key=f"raw/gsm8k/{DS}.jsonl", Body=raw)


def _training_inputs(sandbox: Any) -> None:
    from bedrock_rft_provider.operators.reward import BedrockRewardFunctionOperator

    bootstrap_sandbox(sandbox.endpoint_url, ["my-rft-bucket"], session=sandbox.session())
    s3 = sandbox.client("s3")
    s3.put_object(Bucket="my-rft-bucket", Key=f"gsm8k/{DS}/train.jsonl", Body=_synthetic_rft_lines(120, 1))
    s3.put_object(
        Bucket="my-rft-bucket", Key=f"gsm8k/{DS}/validation.jsonl", Body=_synthetic_rft_lines(20, 2)
    )
    BedrockRewardFunctionOperator(
        task_id="deploy_reward",
        function_name="gsm8k-grader",
        reward="bedrock_rft_provider.rewards.builtin:math_answer",
        role_arn="arn:aws:iam::123456789012:role/bedrock-rft-grader",
    ).execute(make_context())  # type: ignore[arg-type]


def _training_inputs_and_reports(sandbox: Any) -> None:
    """The training inputs, plus the dataset and preflight reports the spend forecast reads."""
    _training_inputs(sandbox)
    report = {"counts": {"train": 120, "validation": 20, "test": 0}, "prompt_length": {}}
    preflight = {"run": {"n": 16, "latency_ms_per_batch": {"batches": 1, "mean": 40.0}}}
    s3 = sandbox.client("s3")
    s3.put_object(Bucket="my-rft-bucket", Key=f"gsm8k/{DS}/report.json", Body=json.dumps(report))
    s3.put_object(Bucket="my-rft-bucket", Key=f"gsm8k/{DS}/preflight.json", Body=json.dumps(preflight))


def _bootstrap_only(sandbox: Any) -> None:
    bootstrap_sandbox(sandbox.endpoint_url, session=sandbox.session())


# What each README DAG expects to exist already, as a user's account would have it.
SETUP: dict[str, Callable[[Any], None]] = {
    "rft_data": _raw_gsm8k,
    "rft_wiring": _bootstrap_only,
    "rft_gsm8k": _training_inputs,
    "after_rft": _bootstrap_only,  # a manual run: no triggering events, no AWS call
    "rft_capped": _training_inputs_and_reports,
}


def test_every_readme_dag_has_a_setup() -> None:
    assert sorted(_dag_id(code) for code in DAG_BLOCKS) == sorted(SETUP)


@pytest.fixture
def sandbox(bedrock_rft_sandbox_airflow_conn: Any, airflow_db: Path, airflow_home: Path) -> Iterator[Any]:
    yield bedrock_rft_sandbox_airflow_conn


@pytest.mark.parametrize("code", DAG_BLOCKS, ids=_dag_id)
@pytest.mark.slow
def test_readme_dag_runs_green(code: str, sandbox: Any, airflow_home: Path) -> None:
    from airflow.utils.state import DagRunState

    dag_id = _dag_id(code)
    SETUP[dag_id](sandbox)
    dag_file = airflow_home / "dags" / f"readme_{dag_id}.py"
    dag_file.write_text(code)
    try:
        dagbag = dagbag_for_test(str(dag_file))
        assert dagbag.import_errors == {}
        dag = dagbag.get_dag(dag_id)
        for task in dag.tasks:  # poll the sandbox every second, not every two minutes
            if isinstance(task, BedrockRFTJobOperator):
                task.waiter_delay = 1
        run = dag.test(logical_date=RUN_DATE, run_after=RUN_DATE)
        states = {ti.task_id: ti.state for ti in run.get_task_instances()}
        assert run.state == DagRunState.SUCCESS, states
        assert set(states.values()) == {"success"}, states
    finally:
        dag_file.unlink(missing_ok=True)
        shutil.rmtree(airflow_home / "dags" / "__pycache__", ignore_errors=True)
