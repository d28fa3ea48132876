"""Evaluation against the Bedrock RFT sandbox: injected latency and throttling, a killed run, the operator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from bedrock_rft_provider.evaluation.inference import ConverseRunner, finished_keys
from bedrock_rft_provider.evaluation.records import EvalRecord
from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.server import Sandbox

pytestmark = pytest.mark.integration

MODEL_ID = "amazon.nova-2-lite-v1:0"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "evaluation"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def slow_flaky_sandbox() -> Iterator[Sandbox]:
    """A sandbox whose Converse takes 20 ms and throttles 20% of calls."""
    config = SandboxConfig.from_env(
        time_scale=0.0, latency_ms="Converse=20", throttle_rate="Converse=0.2", seed=5
    )
    with Sandbox(config=config) as sandbox:
        yield sandbox


def runtime(sandbox: Sandbox) -> Any:
    return sandbox.client(
        "bedrock-runtime", config=Config(retries={"total_max_attempts": 1}, max_pool_connections=16)
    )


def records(n: int) -> list[EvalRecord]:
    return [
        EvalRecord(f"s{i:03d}", [{"role": "user", "content": f"What is {i} plus {i}?"}], str(2 * i))
        for i in range(n)
    ]


def keys(path: Path) -> list[tuple[str, int]]:
    return [(r["id"], r["sample"]) for r in map(json.loads, path.read_text().splitlines())]


def test_every_prompt_answered_once_under_sandbox_latency_and_throttling(
    slow_flaky_sandbox: Sandbox, tmp_path: Path
) -> None:
    out = tmp_path / "responses.jsonl"
    runner = ConverseRunner(
        runtime(slow_flaky_sandbox),
        MODEL_ID,
        concurrency=8,
        max_attempts=30,
        base_delay_s=0.01,
        max_delay_s=0.2,
        seed=0,
    )
    stats = runner.run(records(80), out)
    assert sorted(keys(out)) == [(f"s{i:03d}", 0) for i in range(80)]  # none lost, none twice
    assert stats.completed == 80 and stats.errors == 0 and stats.unfinished == 0
    assert stats.throttles > 0 and stats.retries >= stats.throttles
    assert stats.requests_per_s > 0
    answers = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(a["response"] and a["latency_ms"] >= 20 for a in answers)


_CHILD = """
import sys
sys.path[:0] = [{provider!r}]
import boto3
from botocore.config import Config
from bedrock_rft_provider.evaluation.inference import ConverseRunner
from bedrock_rft_provider.evaluation.records import EvalRecord
client = boto3.client("bedrock-runtime", endpoint_url={endpoint!r}, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing",
                      config=Config(retries={{"total_max_attempts": 1}}))
records = [EvalRecord(f"s{{i:03d}}", [{{"role": "user", "content": f"What is {{i}} plus {{i}}?"}}], "")
           for i in range(150)]
ConverseRunner(client, {model!r}, concurrency=2, max_attempts=30, base_delay_s=0.01).run(records, {out!r})
"""


def test_killed_run_against_the_sandbox_resumes_without_redoing_prompts(
    slow_flaky_sandbox: Sandbox, tmp_path: Path
) -> None:
    out = tmp_path / "responses.jsonl"
    code = _CHILD.format(
        provider=str(REPO_ROOT / "provider"),
        endpoint=slow_flaky_sandbox.endpoint_url,
        model=MODEL_ID,
        out=str(out),
    )
    child = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": ""})
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and (not out.exists() or len(out.read_bytes().splitlines()) < 15):
            assert child.poll() is None, "the child ended before it could be killed"
            time.sleep(0.02)
    finally:
        child.kill()
        child.wait(timeout=30)
    done = finished_keys(out)
    assert 15 <= len(done) < 150

    runner = ConverseRunner(
        runtime(slow_flaky_sandbox),
        MODEL_ID,
        concurrency=8,
        max_attempts=30,
        base_delay_s=0.01,
        max_delay_s=0.2,
    )
    stats = runner.run(records(150), out)
    assert stats.already_done == len(done)
    assert stats.completed == 150 - len(done)  # only the unfinished prompts were requested again
    assert sorted(keys(out)) == [(f"s{i:03d}", 0) for i in range(150)]


def test_evaluation_operator_through_the_airflow_connection(
    bedrock_rft_sandbox_airflow_conn: Sandbox,
) -> None:
    from bedrock_rft_provider.operators.evaluation import BedrockRFTEvaluationOperator

    sandbox = bedrock_rft_sandbox_airflow_conn
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="eval-sandbox")
    s3.upload_file(str(FIXTURES / "dataset.jsonl"), "eval-sandbox", "data/test.jsonl")

    class TI:
        def __init__(self) -> None:
            self.pushed: dict[str, Any] = {}

        def xcom_push(self, key: str, value: Any) -> None:
            self.pushed[key] = value

    op = BedrockRFTEvaluationOperator(
        task_id="evaluate",
        dataset_uri="s3://eval-sandbox/data/test.jsonl",
        model_id=MODEL_ID,
        baseline_responses_uri=str(FIXTURES / "responses_base.jsonl"),
        reward="bedrock_rft_provider.rewards.builtin:math_answer",
        output_uri="s3://eval-sandbox/eval/run-1",
        inference_config={"temperature": 0.0, "maxTokens": 256},
        concurrency=4,
        sandbox=True,
    )
    summary = op.execute({"ti": TI()})  # type: ignore[arg-type]
    assert summary["n"] == 12 and summary["sandbox"] is True and summary["model_id"] == MODEL_ID
    assert 0.0 <= summary["accuracy"] <= 1.0 and summary["paired"]["n"] == 12
    listed = s3.list_objects_v2(Bucket="eval-sandbox", Prefix="eval/run-1/")["Contents"]
    assert {o["Key"].rsplit("/", 1)[1] for o in listed} >= {
        "summary.json",
        "results.jsonl",
        "report.html",
        "responses.jsonl",
    }
    responses = s3.get_object(Bucket="eval-sandbox", Key="eval/run-1/responses.jsonl")["Body"].read().decode()
    assert len(responses.splitlines()) == 12


def test_deployment_trigger_waits_on_aiobotocore_and_reports_a_missing_deployment(
    bedrock_rft_sandbox_airflow_conn: Sandbox,
) -> None:
    import asyncio

    from bedrock_rft_provider.triggers.deployment import BedrockCustomModelDeploymentActiveTrigger

    missing = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/zzzzzzzzzzzz"
    trigger = BedrockCustomModelDeploymentActiveTrigger(
        deployment_arn=missing, waiter_delay=0, waiter_max_attempts=2
    )

    async def first_event() -> Any:
        async for event in trigger.run():
            return event
        return None

    event = asyncio.run(first_event())
    assert event.payload["status"] == "error"
    assert missing in event.payload["message"] and "did not become Active" in event.payload["message"]
