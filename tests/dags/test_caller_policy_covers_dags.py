"""The Airflow caller policy `bedrock-rft iam-policy` prints allows every API call the example DAGs make.

The list of calls is not written by hand: the example DAGs run end to end on the sandbox while every
boto3/aiobotocore call made in this process (tasks, sensors, triggers) is recorded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider import demo
from bedrock_rft_provider.iam import policy_bundle
from bedrock_rft_provider.sandbox.bootstrap import bootstrap_sandbox
from support.example_dags import installed_example_dags
from unit.test_iam_policy import NEEDS_NO_PERMISSION, allows, iam_action

pytestmark = pytest.mark.integration


def record_calls(monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    """(signing name, operation) of every boto3 and aiobotocore call from now until the test ends."""
    from aiobotocore.client import AioBaseClient
    from botocore.client import BaseClient

    calls: set[tuple[str, str]] = set()
    sync_call, async_call = BaseClient._make_api_call, AioBaseClient._make_api_call

    def record(client: Any, operation: str) -> None:
        model = client.meta.service_model
        calls.add((model.signing_name or model.endpoint_prefix, operation))

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        record(self, operation_name)
        return sync_call(self, operation_name, api_params)

    async def recording_async(self: Any, operation_name: str, api_params: Any) -> Any:
        record(self, operation_name)
        return await async_call(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    monkeypatch.setattr(AioBaseClient, "_make_api_call", recording_async)
    return calls


@pytest.fixture
def dagbag(airflow_db: Path, airflow_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("BEDROCK_RFT_POLL_SECONDS", "1")  # read at parse time; sandbox jobs take seconds
    with installed_example_dags(airflow_home) as dagbag:
        yield dagbag


def _run(dagbag: Any, dag_id: str, logical_date: datetime, conf: dict[str, Any]) -> None:
    from airflow.utils.state import DagRunState

    run = dagbag.get_dag(dag_id).test(logical_date=logical_date, run_after=logical_date, run_conf=conf)
    failed = [ti.task_id for ti in run.get_task_instances() if ti.state == "failed"]
    assert run.state == DagRunState.SUCCESS, f"{dag_id} failed tasks: {failed}"


# A safety net, not a speed limit: 280 s with the suite on 2 cores under a load average of ~13 (the
# suite's default 300 s pytest-timeout was nearly hit); both example DAGs run end to end here.
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_caller_policy_allows_every_call_the_example_dags_make(
    bedrock_rft_sandbox_airflow_conn: Any, dagbag: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = bedrock_rft_sandbox_airflow_conn
    bootstrap_sandbox(sandbox.endpoint_url, [demo.BUCKET], session=sandbox.session())
    day = datetime(2026, 11, 19, tzinfo=timezone.utc)
    # An evaluation run reads the prompts of its data interval: the day before its logical date.
    demo.write_daily_prompts(sandbox.session(), sandbox.endpoint_url, [(day - timedelta(days=1)).date()])
    calls = record_calls(monkeypatch)
    family = f"iam-{os.getpid()}"
    _run(
        dagbag,
        "bedrock_rft_retraining",
        day,
        {"model_family": family, "dataset_input": "400", "min_eval_samples": 20},
    )
    _run(dagbag, "bedrock_rft_evaluation", day, {"model_family": family})
    # A challenger that cannot pass the gate: its deployment is torn down (DeleteCustomModelDeployment).
    rejected = {"model_family": f"{family}-rejected", "dataset_input": "400", "min_eval_samples": 20}
    _run(dagbag, "bedrock_rft_retraining", day + timedelta(days=1), {**rejected, "min_improvement": 5.0})

    policy = policy_bundle(bucket=demo.BUCKET, reward_function="gsm8k-grader")["airflow_caller"][
        "permissions_policy"
    ]
    needed = {iam_action(*call) for call in calls - NEEDS_NO_PERMISSION}
    # The recording saw the calls that matter (a broken recorder must not make this test pass).
    assert {
        "bedrock:CreateModelCustomizationJob",
        "bedrock:DeleteCustomModelDeployment",
        "bedrock:InvokeModel",
        "ssm:PutParameter",
    } <= needed
    missing = sorted(action for action in needed if not allows(policy, action))
    assert missing == [], f"the caller policy lacks {missing}; recorded calls: {sorted(calls)}"
