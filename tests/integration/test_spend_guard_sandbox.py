"""Caps and health early-stop enforced during the wait, against the sandbox, on both backends.

The sandbox runs slowly here (30 s nominal steps x 0.05) so that a job is still training when its
guard fires; each test asserts the job ended Stopped/cancelled with fewer steps than it would have
run, and the task failed with what was spent. The caps used are in units of observed progress
(grader invocations), not time, so the outcome does not depend on the machine's speed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.exceptions import TaskDeferred
from airflow.triggers.base import TriggerEvent

from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.server import Sandbox
from bedrock_rft_provider.sensors.rft_job import BedrockRFTJobSensor
from bedrock_rft_provider.triggers.openweight import BedrockOpenWeightJobTrigger
from bedrock_rft_provider.triggers.rft_job import BedrockRFTJobTrigger
from bedrock_rft_provider.triggers.spend_watch import XCOM_KEY, SpendStopError
from tests.support.airflow_context import make_context
from unit.sandbox.mantle_helpers import openai_client
from unit.sandbox.sandbox_helpers import GRADER_FLAT, GRADER_RIGHT_NUMBER, World, make_world, wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# 120 training records / batch 16 = 8 steps per epoch; 4 epochs capped at the sandbox's 30 steps.
STEPS_IF_NOT_STOPPED = 30
NATIVE_HYPER = {"epoch_count": 4, "batch_size": 16, "learning_rate": 1e-4, "eval_interval": 5}
INVOCATIONS_PER_STEP = 16 * 4  # batch x trainingSamplePerPrompt, one invocation per graded response


@pytest.fixture(scope="module")
def slow_sandbox() -> Iterator[Sandbox]:
    with Sandbox(config=SandboxConfig(time_scale=0.05, max_training_steps=STEPS_IF_NOT_STOPPED)) as sandbox:
        yield sandbox


@pytest.fixture
def world(slow_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", slow_sandbox.airflow_conn_env())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return make_world(slow_sandbox)


def _operator(
    world: World, grader: str, spend_guard: dict[str, Any], **overrides: Any
) -> BedrockRFTJobOperator:
    arguments: dict[str, Any] = {
        "task_id": "train",
        "base_model_id": "amazon.nova-2-lite-v1:0:256k",
        "role_arn": world.role_arn,
        "training_data_uri": world.train_uri,
        "validation_data_uri": world.validation_uri,
        "output_data_uri": world.output_uri,
        "reward_lambda_arn": grader,
        "hyperparameters": NATIVE_HYPER,
        "waiter_delay": 1,
        "waiter_max_attempts": 300,
        "spend_guard": spend_guard,
        **overrides,
    }
    return BedrockRFTJobOperator(**arguments)


def _first_event(trigger: Any) -> TriggerEvent:
    async def first() -> TriggerEvent:
        async for event in trigger.run():
            return event
        raise AssertionError("trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first(), timeout=240))


def _steps(world: World, job_name: str) -> int:
    from unit.sandbox.sandbox_helpers import read_metrics

    return len(read_metrics(world.sandbox, world.bucket, job_name))


def test_a_cap_crossed_mid_training_stops_the_native_job_and_fails_with_the_spend(world: World) -> None:
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    cap = 2 * INVOCATIONS_PER_STEP
    operator = _operator(world, grader, {"max_grader_invocations": str(cap)}, deferrable=True)
    context = make_context(run_id="manual__cap-native")
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)  # type: ignore[arg-type]
    trigger = deferred.value.trigger
    assert isinstance(trigger, BedrockRFTJobTrigger)

    event = _first_event(trigger)
    assert event.payload["status"] == "error" and event.payload["guard"]["stop"]
    job_name = event.payload["job_identifier"]
    job = wait_for_job(world.sandbox.client("bedrock"), job_name, timeout=120)
    assert job["status"] == "Stopped"
    assert 2 <= _steps(world, job_name) < STEPS_IF_NOT_STOPPED

    # A restarted trigger (rebuilt from its serialised form) reports the same guard stop, not a bare failure.
    _, kwargs = trigger.serialize()
    again = _first_event(BedrockRFTJobTrigger(**kwargs))
    assert (
        again.payload["guard"]["stop"] and f"max_grader_invocations={cap} reached" in again.payload["message"]
    )

    resumed = _operator(world, grader, {"max_grader_invocations": cap}, deferrable=True)
    with pytest.raises(SpendStopError) as stopped:
        resumed.execute_complete(context, event.payload)  # type: ignore[arg-type]
    message = str(stopped.value)
    assert f"max_grader_invocations={cap} reached" in message and "graded samples" in message
    spent = context["ti"].xcoms[XCOM_KEY]["spend"]
    assert spent["grader_invocations"] >= cap and spent["steps"] >= 2


def test_a_stop_health_policy_stops_a_flat_reward_run_early_on_the_workers_wait(world: World) -> None:
    grader = world.deploy_grader(GRADER_FLAT)
    guard = {"health": {"flat_reward": "stop"}, "min_health_steps": 4}
    context = make_context(run_id="manual__flat-native")
    with pytest.raises(SpendStopError) as stopped:
        _operator(world, grader, guard, deferrable=False).execute(context)  # type: ignore[arg-type]
    assert "health check flat_reward (policy stop)" in str(stopped.value)
    job_name = context["ti"].xcoms[XCOM_KEY]["job"]
    job = wait_for_job(world.sandbox.client("bedrock"), job_name, timeout=120)
    assert job["status"] == "Stopped"
    assert 4 <= _steps(world, job_name) < STEPS_IF_NOT_STOPPED


def test_the_sensor_with_caps_stops_a_job_it_watches(world: World) -> None:
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    bedrock = world.sandbox.client("bedrock")
    request = world.job_request(grader, epochCount=4)
    bedrock.create_model_customization_job(**request)
    sensor = BedrockRFTJobSensor(
        task_id="watch",
        job_identifier=request["jobName"],
        poke_interval=1,
        max_retries=300,
        spend_guard={"max_grader_invocations": INVOCATIONS_PER_STEP},
    )
    context = make_context(task_id="watch")
    with pytest.raises(SpendStopError) as stopped:
        for _ in range(300):
            if sensor.poke(context):  # type: ignore[arg-type]
                raise AssertionError("the job completed although its cap was crossed")
            time.sleep(1)
    assert f"max_grader_invocations={INVOCATIONS_PER_STEP} reached" in str(stopped.value)
    assert wait_for_job(bedrock, request["jobName"], timeout=120)["status"] == "Stopped"


def test_a_cap_cancels_an_open_weight_job_and_keeps_its_best_checkpoint_usable(world: World) -> None:
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    per_step = 8 * 4  # batch_size 8 x 4 samples per prompt
    cap = 6 * per_step  # after step 6: the sandbox writes a checkpoint every 5 steps
    operator = _operator(
        world,
        grader,
        {"max_grader_invocations": cap},
        base_model_id="openai.gpt-oss-20b",
        hyperparameters={"n_epochs": 3, "batch_size": 8},
        deferrable=True,
    )
    context = make_context(run_id="manual__cap-openweight")
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)  # type: ignore[arg-type]
    trigger = deferred.value.trigger
    assert isinstance(trigger, BedrockOpenWeightJobTrigger)
    event = _first_event(trigger)
    assert event.payload["guard"]["stop"]
    job_id = event.payload["job_id"]

    with pytest.raises(SpendStopError) as stopped:
        operator.execute_complete(context, event.payload, **deferred.value.kwargs)  # type: ignore[arg-type]
    client = openai_client(world.sandbox)
    job = client.fine_tuning.jobs.retrieve(job_id)
    assert job.status == "cancelled"
    details = context["ti"].xcoms[XCOM_KEY]
    assert details["spend"]["grader_invocations"] >= cap
    assert details["spend"]["steps"] < STEPS_IF_NOT_STOPPED
    best = details["best_checkpoint"]
    # Checkpoints come every 5 steps: the best so far is one of those the job reached before it stopped.
    assert best and best["step"] % 5 == 0 and best["step"] <= details["spend"]["steps"]
    assert best["model_id"] in str(stopped.value)
    answer = client.chat.completions.create(
        model=best["model_id"], messages=[{"role": "user", "content": "What is 2 + 3?"}]
    )
    assert answer.choices[0].message.content
