"""The example DAGs installed into a test AIRFLOW_HOME's dags folder (``dag.test()`` syncs from it)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from support.airflow_compat import dagbag_for_test

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "dags"


@contextmanager
def installed_example_dags(airflow_home: Path) -> Iterator[Any]:
    """Copy every example DAG into ``airflow_home/dags``, yield their DagBag, remove the copies after."""
    installed = []
    for source in EXAMPLE_DAGS.glob("*.py"):
        target = airflow_home / "dags" / source.name
        shutil.copyfile(source, target)
        installed.append(target)
    try:
        yield dagbag_for_test(str(airflow_home / "dags"))
    finally:
        for target in installed:
            target.unlink(missing_ok=True)


# Tests of the example DAGs check promotion and idempotency, not the simulated policy's verbosity: its
# sampled answers (and so response length) vary with what the session's sandbox served before, which the
# default response-length guard can read as a regression. Only the error-rate guard stays.
PROMOTABLE: dict[str, Any] = {"gate_guards": [{"metric": "error_rate", "tolerance": 0.01}]}


def run_example_dag(dagbag: Any, dag_id: str, logical_date: datetime, conf: dict[str, Any]) -> Any:
    """``dag.test()`` one run and assert it succeeded (naming the failed tasks); returns the DagRun."""
    from airflow.utils.state import DagRunState

    # A fixed run_after gives a fixed run_id: a second call re-runs the same DAG run (cleared first).
    run = dagbag.get_dag(dag_id).test(logical_date=logical_date, run_after=logical_date, run_conf=conf)
    failed = [ti.task_id for ti in run.get_task_instances() if ti.state == "failed"]
    assert run.state == DagRunState.SUCCESS, f"{dag_id} failed tasks: {failed}"
    return run


def read_champion(sandbox: Any, family: str) -> dict[str, Any] | None:
    """The champion record of ``family`` in the sandbox's SSM, or None."""
    ssm = sandbox.client("ssm")
    try:
        return dict(
            json.loads(ssm.get_parameter(Name=f"/bedrock-rft/champion/{family}")["Parameter"]["Value"])
        )
    except ssm.exceptions.ParameterNotFound:
        return None
