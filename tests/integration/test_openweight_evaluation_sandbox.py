"""Evaluation, gate and promotion on the open-weight path, in the sandbox: the base ``openai.gpt-oss-20b``
against a model fine-tuned through the sandbox's OpenAI-compatible API, each answering through Chat
Completions; and the job's best checkpoint by validation reward."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook
from bedrock_rft_provider.operators.evaluation import BedrockRFTEvaluationOperator
from bedrock_rft_provider.operators.gate import BedrockRFTQualityGateOperator
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.sandbox.server import Sandbox
from tests.support.airflow_context import make_context
from unit.sandbox.sandbox_helpers import (
    GRADER_RIGHT_NUMBER,
    World,
    jsonl,
    make_world,
    numeric_records,
    unique,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BASE = "openai.gpt-oss-20b"
REWARD = "bedrock_rft_provider.rewards.builtin:math_answer"


def train(world: World, run_id: str) -> dict[str, Any]:
    """An open-weight RFT job through the job operator (the sandbox's /v1 API); returns its result."""
    operator = BedrockRFTJobOperator(
        task_id="train",
        base_model_id=BASE,
        role_arn=world.role_arn,
        training_data_uri=world.train_uri,
        validation_data_uri=world.validation_uri,
        output_data_uri=world.output_uri,
        reward_lambda_arn=world.deploy_grader(GRADER_RIGHT_NUMBER),
        hyperparameters={"n_epochs": 2, "batch_size": 8},
        deferrable=False,
        waiter_delay=1,
        waiter_max_attempts=240,
    )
    result = operator.execute(make_context(run_id=run_id))
    assert result["status"] == "succeeded" and result["fine_tuned_model"], result
    return result


def unseen_prompts(world: World, count: int = 60) -> str:
    """Unseen prompts, stored in the sandbox's S3 (where its simulated policies look answers up)."""
    world.sandbox.client("s3").put_object(
        Bucket=world.bucket, Key="data/test.jsonl", Body=jsonl(numeric_records(count, 5000))
    )
    return f"s3://{world.bucket}/data/test.jsonl"


def evaluate(dataset_uri: str, out: Path, **source: Any) -> dict[str, Any]:
    operator = BedrockRFTEvaluationOperator(
        task_id="evaluate",
        dataset_uri=dataset_uri,
        output_uri=str(out),
        reward=REWARD,
        baseline_model_id=BASE,
        inference_config={"maxTokens": 512, "temperature": 0},
        concurrency=8,
        sandbox=True,
        **source,
    )
    return operator.execute(make_context(task_id="evaluate"))


def promote_context(run_id: str) -> dict[str, Any]:
    return {**make_context(run_id=run_id, task_id="promote"), "run_id": run_id}


def answered_by(path: Path) -> set[str]:
    return {json.loads(line)["model"] for line in path.read_text().splitlines()}


def test_tuned_open_weight_model_against_its_base_then_gate_promote_and_backfill(
    bedrock_rft_sandbox_airflow_conn: Sandbox, tmp_path: Path
) -> None:
    world = make_world(bedrock_rft_sandbox_airflow_conn)
    trained = train(world, "manual__ow-eval")
    tuned = trained["fine_tuned_model"]
    dataset = unseen_prompts(world)

    summary = evaluate(dataset, tmp_path / "eval", model_id=tuned)
    assert summary["model_id"] == tuned and summary["baseline"]["model_id"] == BASE
    assert summary["backend"] == summary["baseline_backend"] == "open-weight"
    assert summary["n"] == 60 and "delta_ci95" in summary  # a paired comparison
    assert answered_by(tmp_path / "eval" / "responses.jsonl") == {tuned}
    assert answered_by(tmp_path / "eval" / "baseline_responses.jsonl") == {BASE}
    assert json.loads((tmp_path / "eval" / "summary.json").read_text())["model_id"] == tuned

    gate_context = make_context(task_id="gate")
    branch = BedrockRFTQualityGateOperator(
        task_id="gate",
        summary=summary,
        promote_task_ids="promote",
        reject_task_ids="keep",
        min_samples=50,
    ).choose_branch(gate_context)
    # The simulated tuned policy learned the answer format in training; the base one did not.
    assert summary["delta"] > 0 and summary["delta_ci95"][0] > 0
    assert branch == "promote" and gate_context["ti"].xcoms["gate_decision"]["promote"] is True

    family = unique("gptoss")
    promote = BedrockRFTPromoteOperator(
        task_id="promote",
        family=family,
        custom_model_arn=trained["custom_model_arn"],  # the job operator's name for fine_tuned_model
        job_arn=trained["job_id"],
        summary=summary,
        eval_summary_uri=str(tmp_path / "eval" / "summary.json"),
    )
    promoted = promote.execute(promote_context("manual__ow-eval"))
    record = promoted["record"]
    assert record["model_id"] == tuned and record["backend"] == "open-weight"
    assert record["deployment_arn"] is None and record["custom_model_arn"] is None
    assert record["job_id"] == trained["job_id"] and record["metrics"]["n"] == 60
    again = promote.execute(promote_context("manual__ow-eval"))
    assert again["version"] == promoted["version"]  # a retry adds nothing

    # A backfill evaluates the champion through the API its record names.
    backfill = evaluate(dataset, tmp_path / "backfill", champion_family=family)
    assert backfill["model_id"] == tuned and backfill["champion"]["version"] == promoted["version"]
    assert backfill["mean_reward"] == summary["mean_reward"]  # temperature 0: the same answers
    rolled = BedrockRFTChampionHook().rollback(family, promoted["version"])
    assert rolled.record["model_id"] == tuned and rolled.record["deployment_arn"] is None


def test_the_best_checkpoint_by_validation_reward_is_evaluated_and_promoted(
    bedrock_rft_sandbox_airflow_conn: Sandbox, tmp_path: Path
) -> None:
    world = make_world(bedrock_rft_sandbox_airflow_conn)
    trained = train(world, "manual__ow-ckpt")
    checkpoints = BedrockOpenWeightHook(aws_conn_id="aws_default").checkpoints(trained["job_id"])
    scored = [(c["metrics"]["val_score_rewards_mean"], c["step_number"], c) for c in checkpoints]
    assert len(scored) >= 2
    _, best_step, best = max(scored, key=lambda s: (s[0], s[1]))

    summary = evaluate(unseen_prompts(world), tmp_path / "eval", best_checkpoint_job_id=trained["job_id"])
    choice = summary["checkpoint"]
    assert choice["step"] == best_step and choice["metric"] == "val_score_rewards_mean"
    assert summary["model_id"] == best["fine_tuned_model_checkpoint"] == choice["model_id"]
    assert answered_by(tmp_path / "eval" / "responses.jsonl") == {choice["model_id"]}

    family = unique("gptoss")
    promoted = BedrockRFTPromoteOperator(
        task_id="promote",
        family=family,
        custom_model_arn=trained["custom_model_arn"],
        model_id=summary["model_id"],  # the checkpoint, not the final model
        job_arn=trained["job_id"],
        summary=summary,
    ).execute(promote_context("manual__ow-ckpt"))
    record = promoted["record"]
    assert record["model_id"] == choice["model_id"] and record["backend"] == "open-weight"
    assert record["checkpoint"] == {
        "step": best_step,
        "metric": "val_score_rewards_mean",
        "value": choice["value"],
    }
