"""A clear after a stopped job: the caps bound the DAG run, not each ``-a<n>`` job (sandbox-backed).

Caps are in grader invocations (units of observed progress), so no outcome depends on machine speed:
every wait below is on the job's own progress or status, with generous bounds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred
from botocore.exceptions import ClientError

from bedrock_rft_provider.jobs.run_spend import marker_uri
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.operators.run_spend_check import RunCapSpentError
from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.server import Sandbox
from bedrock_rft_provider.triggers.spend_watch import SpendStopError
from tests.support.airflow_context import make_context
from unit.sandbox.sandbox_helpers import GRADER_RIGHT_NUMBER, World, make_world, read_metrics, wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NATIVE_HYPER = {"epoch_count": 4, "batch_size": 16, "learning_rate": 1e-4, "eval_interval": 5}
PER_STEP = 16 * 4  # batch x trainingSamplePerPrompt: one invocation per graded response
CREATE = "provide-client-params.bedrock.CreateModelCustomizationJob"


@pytest.fixture(scope="module")
def slow_sandbox() -> Iterator[Sandbox]:
    with Sandbox(config=SandboxConfig(time_scale=0.05, max_training_steps=30)) as sandbox:
        yield sandbox


@pytest.fixture
def world(slow_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", slow_sandbox.airflow_conn_env())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return make_world(slow_sandbox)


def _operator(world: World, grader: str, cap: int, **overrides: Any) -> BedrockRFTJobOperator:
    return BedrockRFTJobOperator(
        task_id="train",
        base_model_id="amazon.nova-2-lite-v1:0:256k",
        role_arn=world.role_arn,
        training_data_uri=world.train_uri,
        validation_data_uri=world.validation_uri,
        output_data_uri=world.output_uri,
        reward_lambda_arn=grader,
        hyperparameters=NATIVE_HYPER,
        waiter_delay=1,
        waiter_max_attempts=300,
        spend_guard={"max_grader_invocations": cap},
        **overrides,
    )


def _count_creates(operator: BedrockRFTJobOperator) -> list[str]:
    """Every CreateModelCustomizationJob the operator's client sends, by job name."""
    sent: list[str] = []
    operator.hook.conn.meta.events.register(CREATE, lambda params, **_: sent.append(params["jobName"]))
    return sent


def _defer(operator: BedrockRFTJobOperator, context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Run a try until it defers; its job name and the guard its trigger enforces."""
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)  # type: ignore[arg-type]
    trigger = deferred.value.trigger
    return trigger.job_identifier, dict(trigger.spend_guard or {})


def _steps(world: World, job_name: str) -> int:
    """Steps the job has written to its metrics file (0 before the file exists)."""
    try:
        return len(read_metrics(world.sandbox, world.bucket, job_name))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchKey":
            raise
        return 0


def _stop_after_steps(world: World, job_name: str, steps: int) -> int:
    """What a user's mark-failed does (stop the job), once it trained ``steps``; its final step count."""
    deadline = time.monotonic() + 240
    while _steps(world, job_name) < steps:
        assert time.monotonic() < deadline, f"{job_name} made no progress"
        time.sleep(0.2)
    world.sandbox.client("bedrock").stop_model_customization_job(jobIdentifier=job_name)
    wait_for_job(world.sandbox.client("bedrock"), job_name, timeout=240)
    return _steps(world, job_name)


def _cap_stopped_first_attempt(world: World, grader: str, run_id: str, cap: int) -> tuple[str, int]:
    """Try 1 waits on the worker until its cap stops the job; the job's name and its final steps."""
    context = make_context(run_id=run_id)
    with pytest.raises(SpendStopError):
        _operator(world, grader, cap, deferrable=False).execute(context)  # type: ignore[arg-type]
    job_name = context["ti"].xcoms["spend_stop"]["job"]
    wait_for_job(world.sandbox.client("bedrock"), job_name, timeout=240)
    return job_name, len(read_metrics(world.sandbox, world.bucket, job_name))


def test_a_clear_after_a_cap_stop_is_refused_and_submits_no_job(world: World) -> None:
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    cap = 2 * PER_STEP
    job_name, steps = _cap_stopped_first_attempt(world, grader, "manual__clear-capped", cap)
    marker = json.loads(
        world.sandbox.client("s3")
        .get_object(Bucket=world.bucket, Key=marker_uri(world.output_uri, job_name).split("/", 3)[3])["Body"]
        .read()
    )
    assert marker["caps_reached"] == ["max_grader_invocations"]

    cleared = _operator(world, grader, cap, deferrable=True)
    sent = _count_creates(cleared)
    with pytest.raises(RunCapSpentError) as refused:
        cleared.execute(make_context(run_id="manual__clear-capped", try_number=2))  # type: ignore[arg-type]
    message = str(refused.value)
    assert "\n" not in message
    assert f"max_grader_invocations={cap} is already spent" in message and f"~{steps * PER_STEP}" in message
    assert f"{job_name} was stopped by it" in message and "Raise max_grader_invocations" in message
    assert sent == []
    bedrock = world.sandbox.client("bedrock")
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_model_customization_job(jobIdentifier=f"{job_name}-a2")


def test_raising_the_cap_lets_a_clear_train_on_with_only_the_rest(world: World) -> None:
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    job_name, steps = _cap_stopped_first_attempt(world, grader, "manual__clear-raised", 2 * PER_STEP)
    raised = 20 * PER_STEP

    cleared = _operator(world, grader, raised, deferrable=True)
    sent = _count_creates(cleared)
    context = make_context(run_id="manual__clear-raised", try_number=2)
    second, guard = _defer(cleared, context)
    assert sent == [f"{job_name}-a2"] and second == f"{job_name}-a2"
    assert guard["max_grader_invocations"] == raised - steps * PER_STEP
    _stop_after_steps(world, second, 0)


def test_a_clear_after_mark_failed_gets_the_remaining_budget(world: World) -> None:
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    cap = 25 * PER_STEP
    first, guard = _defer(
        _operator(world, grader, cap, deferrable=True), make_context(run_id="manual__clear-mf")
    )
    assert guard["max_grader_invocations"] == cap
    steps = _stop_after_steps(world, first, 2)

    cleared = _operator(world, grader, cap, deferrable=True)
    second, guard = _defer(cleared, make_context(run_id="manual__clear-mf", try_number=2))
    assert second == f"{first}-a2"
    assert guard["max_grader_invocations"] == cap - steps * PER_STEP
    _stop_after_steps(world, second, 0)


def test_two_earlier_attempts_spend_is_summed(world: World) -> None:
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    cap = 25 * PER_STEP
    run_id = "manual__clear-two"
    first, _ = _defer(_operator(world, grader, cap, deferrable=True), make_context(run_id=run_id))
    steps_first = _stop_after_steps(world, first, 2)
    second, _ = _defer(
        _operator(world, grader, cap, deferrable=True), make_context(run_id=run_id, try_number=2)
    )
    steps_second = _stop_after_steps(world, second, 1)

    third, guard = _defer(
        _operator(world, grader, cap, deferrable=True), make_context(run_id=run_id, try_number=3)
    )
    assert third == f"{first}-a3"
    assert guard["max_grader_invocations"] == cap - (steps_first + steps_second) * PER_STEP
    _stop_after_steps(world, third, 0)


def test_a_corrupt_stop_marker_refuses_the_clear_before_any_submission(world: World) -> None:
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    cap = 25 * PER_STEP
    first, _ = _defer(
        _operator(world, grader, cap, deferrable=True), make_context(run_id="manual__clear-bad")
    )
    _stop_after_steps(world, first, 0)
    uri = marker_uri(world.output_uri, first)
    world.sandbox.client("s3").put_object(Bucket=world.bucket, Key=uri.split("/", 3)[3], Body=b"{not json")

    cleared = _operator(world, grader, cap, deferrable=True)
    sent = _count_creates(cleared)
    with pytest.raises(RunCapSpentError) as refused:
        cleared.execute(make_context(run_id="manual__clear-bad", try_number=2))  # type: ignore[arg-type]
    assert str(refused.value).startswith(f"{uri}: stop marker is not JSON")
    assert "fix or delete it" in str(refused.value)
    assert sent == []
