"""A small DAG using BedrockRFTJobOperator runs green under ``dag.test()`` (deferrable, moto server)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from moto.bedrock.models import bedrock_backends

from support.airflow_compat import dagbag_for_test
from support.bedrock_jobs import ACCOUNT, REGION

SLOW_TIMEOUT_S = 900  # a safety net (~10x a run on 2 busy cores, ~85 s at load 15-19), not a speed limit

DAG_SOURCE = """
from __future__ import annotations

from airflow.sdk import DAG

from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator

with DAG(dag_id="rft_job_smoke", schedule=None, catchup=False) as dag:
    BedrockRFTJobOperator(
        task_id="train",
        base_model_id="amazon.nova-2-lite-v1:0:256k",
        role_arn="arn:aws:iam::123456789012:role/bedrock-rft-service",
        training_data_uri="s3://rft-test-bucket/{{ ds }}/train.jsonl",
        output_data_uri="s3://rft-test-bucket/output/{{ ds }}/",
        reward_lambda_arn="arn:aws:lambda:us-east-1:123456789012:function:gsm8k-grader:live",
        hyperparameters={"batch_size": 64, "epoch_count": 2},
        deferrable=True,
        waiter_delay=1,
    )
"""


def _complete_when_created(stop: threading.Event) -> None:
    while not stop.is_set():
        for job in list(bedrock_backends[ACCOUNT][REGION].model_customization_jobs.values()):
            if job.job_name.startswith("rft-rft-job-smoke-train-"):
                time.sleep(1)
                job.status = "Completed"
                return
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_rft_job_dag_runs_green_with_dag_test(
    airflow_db: Path,
    airflow_home: Path,
    moto_server: str,
    aws_conn_to: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.models.variable import Variable
    from airflow.utils.state import DagRunState

    from bedrock_rft_provider.namespace import VARIABLE_KEY

    aws_conn_to(moto_server)
    # No configured namespace: a real task run draws the install's namespace into the metadata DB.
    monkeypatch.delenv("AIRFLOW__BEDROCK_RFT__NAMESPACE")
    Variable.delete(VARIABLE_KEY)
    dag_file = airflow_home / "dags" / "rft_job_smoke.py"
    dag_file.write_text(DAG_SOURCE)
    try:
        dagbag = dagbag_for_test(str(dag_file))
        assert dagbag.import_errors == {}
        dag = dagbag.get_dag("rft_job_smoke")
        stop = threading.Event()
        watcher = threading.Thread(target=_complete_when_created, args=(stop,), daemon=True)
        watcher.start()
        try:
            run = dag.test()
        finally:
            stop.set()
            watcher.join(timeout=5)
        assert run.state == DagRunState.SUCCESS
        ti = run.get_task_instance("train")
        assert ti is not None and ti.state == "success"
        jobs = bedrock_backends[ACCOUNT][REGION].model_customization_jobs
        job = next(j for j in jobs.values() if j.job_name.startswith("rft-rft-job-smoke-train-"))
        assert job.training_data_config["s3Uri"].startswith("s3://rft-test-bucket/2")  # {{ ds }} was rendered
        assert Variable.get(VARIABLE_KEY).startswith("af-")
    finally:
        dag_file.unlink(missing_ok=True)
        shutil.rmtree(airflow_home / "dags" / "__pycache__", ignore_errors=True)
