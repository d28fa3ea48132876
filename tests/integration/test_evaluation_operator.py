"""BedrockRFTEvaluationOperator end to end on local files and moto S3/SSM, with a fake runtime client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bedrock_rft_provider.evaluation.champion import build_record
from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from bedrock_rft_provider.hooks.evaluation import BedrockRFTEvaluationHook
from bedrock_rft_provider.operators.evaluation import BedrockRFTEvaluationOperator
from tests.unit.evaluation.fake_runtime import FakeRuntime, user_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "evaluation"
REWARD = "bedrock_rft_provider.rewards.builtin:math_answer"
DEPLOYMENT_A = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/aaaaaaaaaaaa"
DEPLOYMENT_B = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/bbbbbbbbbbbb"
MODEL = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-2-lite-v1:0:256k/abcdefghijkl"
REFERENCES = {
    json.loads(line)["messages"][-1]["content"]: json.loads(line)["reference_answer"]
    for line in (FIXTURES / "dataset.jsonl").read_text().splitlines()
}


def answer_all_right(request: dict[str, Any]) -> str:
    return f"Working it out.\n#### {REFERENCES[user_text(request)]}"


class FakeTI(SimpleNamespace):
    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def context(**extra: Any) -> Any:
    return {"ti": FakeTI(pushed={}), **extra}


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    fake = FakeRuntime(latency_s=0.001, answer=answer_all_right)
    monkeypatch.setattr(BedrockRFTEvaluationHook, "runtime_client", lambda self, **kwargs: fake)
    return fake


@pytest.fixture
def aws() -> Iterator[Any]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="rft-data")
        s3.upload_file(str(FIXTURES / "dataset.jsonl"), "rft-data", "test/dataset.jsonl")
        s3.upload_file(str(FIXTURES / "responses_base.jsonl"), "rft-data", "base/responses.jsonl")
        yield s3


def test_live_inference_against_precomputed_baseline_on_local_files(
    tmp_path: Path, runtime: FakeRuntime
) -> None:
    op = BedrockRFTEvaluationOperator(
        task_id="evaluate",
        dataset_uri=str(FIXTURES / "dataset.jsonl"),
        model_id=DEPLOYMENT_A,
        baseline_responses_uri=str(FIXTURES / "responses_base.jsonl"),
        reward=REWARD,
        output_uri=str(tmp_path / "eval"),
        concurrency=4,
        aws_conn_id=None,
        region_name="us-east-1",
    )
    ctx = context()
    summary = op.execute(ctx)
    assert summary["accuracy"] == 1.0 and summary["baseline"]["accuracy"] == pytest.approx(5 / 12)
    assert summary["model_id"] == DEPLOYMENT_A and summary["paired"]["wins"] == 7
    assert set(runtime.answered.values()) == {1} and len(runtime.answered) == 12
    written = {p.name for p in (tmp_path / "eval").iterdir()}
    assert {"summary.json", "results.jsonl", "report.md", "report.html", "responses.jsonl"} <= written
    link = ctx["ti"].pushed["bedrock_rft_evaluation_report"]
    assert link["url"] == (tmp_path / "eval" / "report.html").resolve().as_uri()


def test_s3_output_resumes_a_previous_tries_answers_and_links_the_report(
    aws: Any, runtime: FakeRuntime
) -> None:
    done = [
        json.dumps({"id": f"q{i:02d}", "sample": 0, "response": f"#### {ref}"})
        for i, ref in zip(range(1, 6), list(REFERENCES.values())[:5], strict=True)
    ]
    aws.put_object(Bucket="rft-data", Key="eval/run1/responses.jsonl", Body="\n".join(done) + "\n")
    op = BedrockRFTEvaluationOperator(
        task_id="evaluate",
        dataset_uri="s3://rft-data/test/dataset.jsonl",
        model_id=DEPLOYMENT_A,
        reward=REWARD,
        output_uri="s3://rft-data/eval/run1",
        aws_conn_id=None,
        region_name="us-east-1",
        sandbox=True,
    )
    ctx = context()
    summary = op.execute(ctx)
    assert sum(runtime.calls.values()) == 7  # the 5 answered by the earlier try were not paid for again
    assert summary["n"] == 12 and summary["accuracy"] == 1.0 and summary["sandbox"] is True
    stored = json.loads(aws.get_object(Bucket="rft-data", Key="eval/run1/summary.json")["Body"].read())
    assert stored == json.loads(json.dumps(summary))
    html = aws.get_object(Bucket="rft-data", Key="eval/run1/report.html")["Body"].read().decode()
    assert "Sandbox run" in html
    link = ctx["ti"].pushed["bedrock_rft_evaluation_report"]
    assert (link["bucket"], link["key"]) == ("rft-data", "eval/run1/report.html")


def test_backfill_interval_evaluates_the_champion_of_that_time(aws: Any, runtime: FakeRuntime) -> None:
    champions = BedrockRFTChampionHook(aws_conn_id=None, region_name="us-east-1")
    now = datetime.now(timezone.utc)
    champions.promote(
        "gsm8k",
        build_record(
            family="gsm8k", custom_model_arn=MODEL, deployment_arn=DEPLOYMENT_A, run_id="r1", promoted_at=now
        ),
    )
    time.sleep(0.05)
    interval_end = datetime.now(timezone.utc)
    time.sleep(0.05)
    champions.promote(
        "gsm8k",
        build_record(
            family="gsm8k", custom_model_arn=MODEL, deployment_arn=DEPLOYMENT_B, run_id="r2", promoted_at=now
        ),
    )

    def run() -> dict[str, Any]:
        op = BedrockRFTEvaluationOperator(
            task_id="evaluate",
            dataset_uri="s3://rft-data/test/dataset.jsonl",
            champion_family="gsm8k",
            baseline_summary_uri=None,
            reward=REWARD,
            output_uri="s3://rft-data/backfill/2026-11-01",
            aws_conn_id=None,
            region_name="us-east-1",
        )
        return op.execute(context(data_interval_end=interval_end))

    first = run()
    assert first["model_id"] == DEPLOYMENT_A and first["champion"]["version"] == 1
    keys = {
        o["Key"] for o in aws.list_objects_v2(Bucket="rft-data", Prefix="backfill/2026-11-01/")["Contents"]
    }
    assert "backfill/2026-11-01/summary.json" in keys
    second = run()  # re-running the interval overwrites the same partition with the same numbers
    assert second == first
    assert sum(runtime.calls.values()) == 12  # and the retry paid for nothing


def test_baseline_summary_with_results_gives_a_paired_comparison(
    aws: Any, runtime: FakeRuntime, tmp_path: Path
) -> None:
    base = BedrockRFTEvaluationOperator(
        task_id="baseline",
        dataset_uri="s3://rft-data/test/dataset.jsonl",
        responses_uri="s3://rft-data/base/responses.jsonl",
        reward=REWARD,
        output_uri="s3://rft-data/eval/base",
        aws_conn_id=None,
        region_name="us-east-1",
    ).execute(context())
    challenger = BedrockRFTEvaluationOperator(
        task_id="evaluate",
        dataset_uri="s3://rft-data/test/dataset.jsonl",
        model_id=DEPLOYMENT_B,
        baseline_summary_uri="s3://rft-data/eval/base/summary.json",
        reward=REWARD,
        output_uri=str(tmp_path / "out"),
        aws_conn_id=None,
        region_name="us-east-1",
    ).execute(context())
    assert challenger["baseline"]["mean_reward"] == pytest.approx(base["mean_reward"])
    assert challenger["paired"]["test"] == "mcnemar_exact" and challenger["delta"] == pytest.approx(7 / 12)


def test_inconsistent_arguments_fail_before_any_aws_call() -> None:
    op = BedrockRFTEvaluationOperator(
        task_id="evaluate",
        dataset_uri="s3://nowhere/test.jsonl",
        model_id=DEPLOYMENT_A,
        responses_uri="s3://nowhere/r.jsonl",
        output_uri="s3://nowhere/out",
    )
    with pytest.raises(Exception, match="reward / reward_lambda_arn") as info:
        op.execute(context())
    assert "model_id / responses_uri / champion_family" in str(info.value)


@pytest.mark.slow
def test_champion_fallback_templated_numbers_and_a_training_curve_from_a_job_prefix(
    aws: Any, runtime: FakeRuntime, tmp_path: Path
) -> None:
    metrics = "step_number,critic/rewards/mean\n1,0.4\n2,0.6\n3,0.7\n"
    aws.put_object(
        Bucket="rft-data", Key="job/out/training_artifacts/step_wise_training_metrics.csv", Body=metrics
    )
    op = BedrockRFTEvaluationOperator(
        task_id="evaluate",
        dataset_uri="s3://rft-data/test/dataset.jsonl",
        champion_family="never-promoted",
        champion_fallback_model_id="amazon.nova-2-lite-v1:0",
        reward=REWARD,
        output_uri=str(tmp_path / "out"),
        training_metrics_uri="s3://rft-data/job/out/",
        concurrency="3",  # rendered templates arrive as strings
        sandbox="True",
        success_threshold="0.5",
        aws_conn_id=None,
        region_name="us-east-1",
    )
    summary = op.execute(context(data_interval_end=datetime.now(timezone.utc)))
    assert summary["model_id"] == "amazon.nova-2-lite-v1:0" and summary["champion"]["version"] is None
    assert summary["sandbox"] is True and summary["success_threshold"] == 0.5
    assert runtime.max_in_flight <= 3
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Training reward curve" in html
