"""BedrockRFTJobSensor in a real task run keeps its first check in Airflow's task state store, so a
retry or clear continues the same wait (the limit is min(timeout, poke_interval * max_retries))."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from airflow import __version__ as airflow_version
from moto import mock_aws
from moto.bedrock.models import bedrock_backends
from packaging.version import Version

from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.sensors.rft_job import FIRST_CHECK_KEY
from support.airflow_compat import dagbag_for_test
from support.airflow_context import make_context
from support.bedrock_jobs import ACCOUNT, REGION, valid_job_args

JOB = "rft-sensed-in-a-dag"
DAG_SOURCE = f"""
from airflow.sdk import DAG

from bedrock_rft_provider.sensors.rft_job import BedrockRFTJobSensor

with DAG(dag_id="rft_job_sensor_smoke", schedule=None, catchup=False) as dag:
    BedrockRFTJobSensor(
        task_id="wait", job_identifier="{JOB}", aws_conn_id=None, region_name="{REGION}",
        poke_interval=1, timeout=600,
    )
"""

pytestmark = pytest.mark.skipif(
    Version(Version(airflow_version).base_version) < Version("3.3"),
    reason="the task state store arrived in Airflow 3.3; older versions count from the try's first check",
)


def _stored_first_checks() -> list[Any]:
    from airflow.models.task_state_store import TaskStateStoreModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskStateStoreModel).filter_by(dag_id="rft_job_sensor_smoke").all()
        return [row.value for row in rows if row.key == FIRST_CHECK_KEY.format(job=JOB)]


# Safety nets, not speed limits (the test takes ~7 s at load 15): the helper's wait gives up first, so a
# sensor that never checks fails on the assertion below instead of on pytest's timeout.
FIRST_CHECK_WAIT_S = 300
TEST_TIMEOUT_S = FIRST_CHECK_WAIT_S + 300


def _complete_once_first_check_is_stored(stored: list[Any], stop: threading.Event) -> None:
    """Bedrock's part: the job completes only after the sensor has checked it once (bounded wait)."""
    deadline = time.monotonic() + FIRST_CHECK_WAIT_S
    while not stop.is_set() and not stored and time.monotonic() < deadline:
        stored.extend(_stored_first_checks())
        time.sleep(0.5)
    bedrock_backends[ACCOUNT][REGION].model_customization_jobs[JOB].status = "Completed"


@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_the_sensor_waits_in_a_task_run_and_keeps_its_first_check(
    airflow_db: Path, airflow_home: Path
) -> None:
    from airflow.utils.state import DagRunState

    dag_file = airflow_home / "dags" / "rft_job_sensor_smoke.py"
    dag_file.write_text(DAG_SOURCE)
    stored: list[Any] = []
    stop = threading.Event()
    try:
        with mock_aws():
            BedrockRFTJobOperator(
                task_id="train",
                aws_conn_id=None,
                region_name=REGION,
                job_name=JOB,
                wait_for_completion=False,
                **valid_job_args(),
            ).execute(make_context())  # type: ignore[arg-type]
            started = datetime.now(timezone.utc)
            completer = threading.Thread(target=_complete_once_first_check_is_stored, args=(stored, stop))
            completer.start()
            dagbag = dagbag_for_test(str(dag_file))
            assert dagbag.import_errors == {}
            run = dagbag.get_dag("rft_job_sensor_smoke").test()
            stop.set()
            completer.join(timeout=30)
    finally:
        stop.set()
        dag_file.unlink(missing_ok=True)
    assert run.state == DagRunState.SUCCESS
    assert len(stored) == 1
    assert datetime.fromisoformat(json.loads(stored[0])) >= started  # the DB row holds JSON
