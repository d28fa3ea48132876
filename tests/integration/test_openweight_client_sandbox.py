"""The open-weight client against the sandbox's emulation of Bedrock's OpenAI-compatible API: the same
operator and hook as the unit tests (tests/unit/openweight), with a real bearer token and real training."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.sandbox.server import Sandbox
from tests.support.airflow_context import make_context
from unit.sandbox.sandbox_helpers import GRADER_RIGHT_NUMBER, make_world

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _operator(world: Any, grader: str, **overrides: Any) -> BedrockRFTJobOperator:
    arguments: dict[str, Any] = {
        "task_id": "train",
        "base_model_id": "openai.gpt-oss-20b",
        "role_arn": world.role_arn,
        "training_data_uri": world.train_uri,
        "validation_data_uri": world.validation_uri,
        "output_data_uri": world.output_uri,
        "reward_lambda_arn": grader,
        "hyperparameters": {"n_epochs": 1, "batch_size": 8},
        "deferrable": False,
        "waiter_delay": 1,
        "waiter_max_attempts": 240,
        **overrides,
    }
    return BedrockRFTJobOperator(**arguments)


def test_the_open_weight_operator_trains_in_the_sandbox_and_a_rerun_reattaches(
    bedrock_rft_sandbox_airflow_conn: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    world = make_world(bedrock_rft_sandbox_airflow_conn)
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    with caplog.at_level(logging.INFO):
        first = _operator(world, grader).execute(make_context(run_id="manual__ow-1"))
    assert first["status"] == "succeeded" and first["fine_tuned_model"], first
    again = _operator(world, grader).execute(make_context(run_id="manual__ow-1", try_number=2))
    assert again["reattached"] is True and again["job_id"] == first["job_id"]

    hook = BedrockOpenWeightHook(aws_conn_id="aws_default")
    mine = [
        j
        for j in hook.client.fine_tuning.jobs.list(limit=100)
        if j.training_file == hook.client.fine_tuning.jobs.retrieve(first["job_id"]).training_file
    ]
    assert len(mine) == 1  # exactly one create for two executions
    events, _ = hook.events_since(first["job_id"], None)
    assert any(e.get("type") == "metrics" for e in events)
