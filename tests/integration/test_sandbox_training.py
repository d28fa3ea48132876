"""Emulated training runs the deployed reward Lambda: its rewards, not the sandbox, shape the curve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.sandbox.server import Sandbox
from unit.sandbox.sandbox_helpers import (
    GRADER_CRASHING,
    GRADER_FLAT,
    GRADER_RIGHT_NUMBER,
    World,
    jsonl,
    make_world,
    read_metrics,
    wait_for_job,
)

pytestmark = pytest.mark.integration

HEADER = [
    "step_number",
    "epoch_number",
    "critic/rewards/mean",
    "critic/rewards/max",
    "critic/rewards/min",
    "val-score/rewards/mean@1",
    "response_length/mean",
    "actor/entropy",
]


@pytest.fixture(scope="module")
def world(bedrock_rft_sandbox: Sandbox) -> World:
    return make_world(bedrock_rft_sandbox)


def _train(
    world: World, grader_source: str, environment: dict[str, str] | None = None, **hyper: Any
) -> dict[str, Any]:
    bedrock = world.sandbox.client("bedrock")
    request = world.job_request(world.deploy_grader(grader_source, environment), **hyper)
    arn = bedrock.create_model_customization_job(**request)["jobArn"]
    return wait_for_job(bedrock, arn)


def _mean(rows: list[dict[str, str]], column: str) -> float:
    values = [float(r[column]) for r in rows if r[column] != ""]
    return sum(values) / len(values)


def test_a_reward_for_right_answers_gives_a_rising_curve_in_the_hooks_layout(world: World) -> None:
    job = _train(world, GRADER_RIGHT_NUMBER, epochCount=2)

    assert job["status"] == "Completed", job.get("failureMessage")
    rows = read_metrics(world.sandbox, world.bucket, job["jobName"])
    assert list(rows[0]) == HEADER
    # 120 records / batchSize 16 = 8 steps per epoch, 2 epochs.
    assert [int(r["step_number"]) for r in rows] == list(range(1, 17))
    assert {r["epoch_number"] for r in rows} == {"0", "1"}
    assert _mean(rows[-4:], "critic/rewards/mean") > _mean(rows[:4], "critic/rewards/mean") + 0.2
    evaluated = [int(r["step_number"]) for r in rows if r["val-score/rewards/mean@1"] != ""]
    assert evaluated == [4, 8, 12, 16]  # evalInterval=4
    for row in rows:
        assert (
            float(row["critic/rewards/min"])
            <= float(row["critic/rewards/mean"])
            <= float(row["critic/rewards/max"])
        )
        assert float(row["response_length/mean"]) > 0


@pytest.mark.slow
def test_a_reward_that_rewards_nothing_gives_a_flat_curve_and_no_learning(world: World) -> None:
    job = _train(world, GRADER_FLAT, epochCount=1)

    assert job["status"] == "Completed"
    rows = read_metrics(world.sandbox, world.bucket, job["jobName"])
    assert {r["critic/rewards/mean"] for r in rows} == {"0"}
    # No reward differences inside any group -> zero advantages -> the policy (and its entropy) never moves.
    entropies = [float(r["actor/entropy"]) for r in rows]
    assert max(entropies) - min(entropies) < 0.2


def test_a_crashing_reward_fails_the_job_after_three_retries_naming_the_grader_error(
    world: World, tmp_path: Path
) -> None:
    calls = tmp_path / "calls.txt"
    job = _train(world, GRADER_CRASHING, {"COUNT_FILE": str(calls)})

    assert job["status"] == "Failed"
    message = job["failureMessage"]
    assert "ValueError: reference_answer missing from metadata" in message
    assert "after 3 retries" in message
    assert "at training step 1" in message
    assert "bedrock_rft_entry.py" in message  # where in the grader it broke
    assert calls.read_text() == "xxxx"  # one call + three retries
    assert job["statusDetails"]["trainingDetails"]["status"] == "Failed"


def test_grader_events_have_the_real_shape_and_batching(world: World, tmp_path: Path) -> None:
    recorder = f"""
import json
def handler(event, context):
    with open({str(tmp_path / "events.jsonl")!r}, "a") as f:
        f.write(json.dumps(event) + "\\n")
    return [{{"id": s["id"], "aggregate_reward_score": 0.5}} for s in event]
"""
    job = _train(world, recorder, epochCount=1, batchSize=16, trainingSamplePerPrompt=4, evalInterval=100)

    assert job["status"] == "Completed"
    batches = [
        __import__("json").loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()
    ]
    first = batches[0]
    assert len(first) == 16 * 4  # one training step in one invocation (grader_batch_size 64)
    sample = first[0]
    assert set(sample) == {"id", "messages", "metadata"}
    assert [m["role"] for m in sample["messages"]] == ["system", "user", "assistant"]
    assert sample["metadata"]["reference_answer"].endswith(
        "#### " + sample["metadata"]["reference_answer"].split()[-1]
    )
    assert sample["metadata"]["difficulty"] == "easy"  # extra dataset fields reach the grader
    assert len({s["id"] for s in first}) == len(first)


def test_a_grader_that_needs_a_module_missing_from_its_zip_fails_like_lambda(world: World) -> None:
    job = _train(world, "from bedrock_rft_provider.rewards import make_handler\nhandler = None\n")

    assert job["status"] == "Failed"
    assert "Runtime.ImportModuleError" in job["failureMessage"]
    assert "No module named 'bedrock_rft_provider'" in job["failureMessage"]


def test_the_providers_math_answer_package_trains_on_synthetic_gsm8k_style_data(world: World) -> None:
    from bedrock_rft_provider.data.gsm8k import to_rft_record
    from bedrock_rft_provider.data.synthetic import generate
    from bedrock_rft_provider.rewards.packaging import build_reward_package

    records = [to_rft_record(raw, "synthetic") for raw in generate(150, seed=3)]
    s3, lam = world.sandbox.client("s3"), world.sandbox.client("lambda")
    s3.put_object(Bucket=world.bucket, Key="synthetic/train.jsonl", Body=jsonl(records[:120]))
    s3.put_object(Bucket=world.bucket, Key="synthetic/validation.jsonl", Body=jsonl(records[120:]))
    package = build_reward_package("bedrock_rft_provider.rewards.builtin:math_answer")
    lam.create_function(
        FunctionName="math-answer-grader",
        Runtime="python3.11",
        Role=world.role_arn,
        Handler=package.handler,
        Code={"ZipFile": package.zip_bytes},
        Timeout=60,
    )
    grader = lam.publish_version(FunctionName="math-answer-grader")["FunctionArn"]
    request = world.job_request(grader, epochCount=2)
    request["trainingDataConfig"] = {"s3Uri": f"s3://{world.bucket}/synthetic/train.jsonl"}
    request["validationDataConfig"] = {
        "validators": [{"s3Uri": f"s3://{world.bucket}/synthetic/validation.jsonl"}]
    }
    bedrock = world.sandbox.client("bedrock")

    job = wait_for_job(bedrock, bedrock.create_model_customization_job(**request)["jobArn"])
    assert job["status"] == "Completed", job.get("failureMessage")
    rows = read_metrics(world.sandbox, world.bucket, request["jobName"])
    assert _mean(rows[-4:], "critic/rewards/mean") > _mean(rows[:4], "critic/rewards/mean") + 0.2
