"""Data-level idempotency on the sandbox: a run whose training key equals a running or completed job's
reuses that job instead of paying again; changed data, grader or hyperparameters train; force_retrain
trains anyway; another namespace never reuses (issue 10, fault 2)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bedrock_rft_provider.jobs.training_key import NAMESPACE_TAG, TRAINING_KEY_TAG
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.sandbox.server import Sandbox
from support.airflow_context import make_context
from unit.sandbox.sandbox_helpers import (
    GRADER_FLAT,
    GRADER_RIGHT_NUMBER,
    World,
    jsonl,
    make_world,
    numeric_records,
)

pytestmark = pytest.mark.integration

HYPER = {"epoch_count": 1, "batch_size": 16, "learning_rate": 1e-4, "eval_interval": 4}


@pytest.fixture
def world(bedrock_rft_sandbox_airflow_conn: Sandbox) -> World:
    return make_world(bedrock_rft_sandbox_airflow_conn, n_train=100, n_validation=16)


def _train(world: World, grader: str, run_id: str, **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "task_id": "train",
        "base_model_id": "amazon.nova-2-lite-v1:0:256k",
        "role_arn": world.role_arn,
        "training_data_uri": world.train_uri,
        "validation_data_uri": world.validation_uri,
        # A per-run output prefix, as the example DAG has (it is not part of the key).
        "output_data_uri": world.output_uri + re.sub("[^a-zA-Z0-9]", "-", run_id) + "/",
        "reward_lambda_arn": grader,
        "hyperparameters": HYPER,
        "deferrable": False,
        "waiter_delay": 1,
        "waiter_max_attempts": 120,
        **overrides,
    }
    # The sandbox lives for the whole session: keep run ids (and so job names) apart between tests.
    context = make_context(run_id=f"{run_id}-{world.bucket}")
    return BedrockRFTJobOperator(**args).execute(context)  # type: ignore[arg-type]


def _job_args(world: World, result: dict[str, Any]) -> dict[str, Any]:
    return {
        "base_model_id": "amazon.nova-2-lite-v1:0:256k",
        "role_arn": world.role_arn,
        "training_data_uri": world.train_uri,
        "output_data_uri": world.output_uri,
        "reward_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:any:1",
        "deferrable": True,
    }


def _job_count(world: World) -> int:
    return len(
        world.sandbox.client("bedrock").list_model_customization_jobs()["modelCustomizationJobSummaries"]
    )


def test_second_run_with_the_same_key_reuses_the_completed_job(world: World) -> None:
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    before = _job_count(world)
    first = _train(world, grader, "scheduled__2026-11-23T03:00:00+00:00")
    second = _train(world, grader, "manual__2026-11-23T09:12:00+00:00")

    assert first["status"] == "Completed" and not first["reused"]
    assert second["reused"] and second["job_arn"] == first["job_arn"]
    assert second["custom_model_arn"] == first["custom_model_arn"]
    assert second["training_key"] == first["training_key"]
    assert _job_count(world) == before + 1  # one paid training, not two
    tags = world.sandbox.client("bedrock").list_tags_for_resource(resourceARN=first["job_arn"])["tags"]
    assert {"key": TRAINING_KEY_TAG, "value": first["training_key"]} in tags
    assert {"key": NAMESPACE_TAG, "value": "test-suite"} in tags


@pytest.mark.parametrize("change", ["training data", "validation data", "grader code", "hyperparameters"])
@pytest.mark.slow
def test_a_changed_input_trains_again(world: World, change: str) -> None:
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    first = _train(world, grader, "manual__a")
    overrides: dict[str, Any] = {}
    s3 = world.sandbox.client("s3")
    if change == "training data":  # same URI, new content
        s3.put_object(Bucket=world.bucket, Key="data/train.jsonl", Body=jsonl(numeric_records(100, 500)))
    elif change == "validation data":
        s3.put_object(Bucket=world.bucket, Key="data/validation.jsonl", Body=jsonl(numeric_records(16, 900)))
    elif change == "grader code":
        overrides["reward_lambda_arn"] = world.deploy_grader(GRADER_FLAT)
    else:
        overrides["hyperparameters"] = {**HYPER, "learning_rate": 2e-4}
    second = _train(world, grader, "manual__b", **overrides)

    assert not second["reused"] and second["job_arn"] != first["job_arn"]
    assert second["training_key"] != first["training_key"]


def test_force_retrain_trains_anyway_and_later_runs_reuse_the_newest(world: World) -> None:
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    first = _train(world, grader, "manual__a")
    forced = _train(world, grader, "manual__b", force_retrain="True")
    third = _train(world, grader, "manual__c")

    assert not forced["reused"] and forced["job_arn"] != first["job_arn"]
    assert forced["training_key"] == first["training_key"]
    assert third["reused"] and third["job_arn"] == forced["job_arn"]


def test_another_namespace_never_reuses(world: World) -> None:
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    first = _train(world, grader, "scheduled__2026-11-23T03:00:00+00:00")
    other_install = _train(world, grader, "scheduled__2026-11-23T03:00:00+00:00", namespace="other-install")

    assert not other_install["reused"]
    assert other_install["job_arn"] != first["job_arn"] and other_install["job_name"] != first["job_name"]


def test_a_deferred_reuse_resumes_reporting_it(world: World) -> None:
    """After the triggerer, a fresh operator still reports the reuse and the key (defer kwargs)."""
    first = _train(world, world.deploy_grader(GRADER_RIGHT_NUMBER), "manual__a")
    resumed = BedrockRFTJobOperator(task_id="train", **_job_args(world, first))
    event = {"status": "success", "job_identifier": first["job_name"]}
    result = resumed.execute_complete(
        make_context(run_id="manual__b"),  # type: ignore[arg-type]
        event,
        reused=True,
        training_key=first["training_key"],
    )
    assert result["reused"] and result["training_key"] == first["training_key"]
    assert result["job_arn"] == first["job_arn"] and result["status"] == "Completed"
    resumed.on_kill()  # a reused job belongs to its run: killing this task must not stop it
    described = world.sandbox.client("bedrock").get_model_customization_job(jobIdentifier=first["job_arn"])
    assert described["status"] == "Completed"


@pytest.mark.slow
def test_a_cleared_run_reattaches_to_its_own_job_not_a_newer_one_with_its_key(world: World) -> None:
    """Clear/retry always reattaches: a newer job with the same key (another run's, e.g. forced or
    started at the same instant) must not make this run's retry orphan its own paid job."""
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    first_try = _train(world, grader, "manual__a", wait_for_completion=False)
    _train(world, grader, "manual__b", wait_for_completion=False, force_retrain=True)
    before = _job_count(world)

    args: dict[str, Any] = {
        "task_id": "train",
        "base_model_id": "amazon.nova-2-lite-v1:0:256k",
        "role_arn": world.role_arn,
        "training_data_uri": world.train_uri,
        "validation_data_uri": world.validation_uri,
        "output_data_uri": world.output_uri + "manual--a/",
        "reward_lambda_arn": grader,
        "hyperparameters": HYPER,
        "deferrable": False,
        "wait_for_completion": False,
    }
    context = make_context(run_id=f"manual__a-{world.bucket}", try_number=2)
    retry = BedrockRFTJobOperator(**args).execute(context)  # type: ignore[arg-type]

    assert retry["job_arn"] == first_try["job_arn"] and retry["reattached"] and not retry["reused"]
    assert _job_count(world) == before
