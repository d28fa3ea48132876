"""Open-weight RFT jobs in the sandbox: the native training emulator runs them with the deployed reward
Lambda, and their status, events, checkpoints, errors and models follow from that run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.sandbox.server import Sandbox
from unit.sandbox.mantle_helpers import MODEL, openai_client, rft_method, upload, wait_for
from unit.sandbox.sandbox_helpers import (
    GRADER_CRASHING,
    GRADER_FLAT,
    GRADER_RIGHT_NUMBER,
    World,
    make_world,
    numeric_records,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(bedrock_rft_sandbox: Sandbox) -> World:
    return make_world(bedrock_rft_sandbox)


@pytest.fixture(scope="module")
def files(bedrock_rft_sandbox: Sandbox) -> dict[str, str]:
    client = openai_client(bedrock_rft_sandbox)
    return {
        "train": upload(client, numeric_records(120)),
        "validation": upload(client, numeric_records(30, 1000), "validation.jsonl"),
    }


def _train(sandbox: Sandbox, lambda_arn: str, files: dict[str, str], **hyper: Any) -> Any:
    client = openai_client(sandbox)
    job = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=files["train"],
        validation_file=files["validation"],
        method=rft_method(lambda_arn, **hyper),  # type: ignore[arg-type]
    )
    return wait_for(client, job.id)


def _metric_events(sandbox: Sandbox, job_id: str) -> list[dict[str, Any]]:
    events = openai_client(sandbox).fine_tuning.jobs.list_events(job_id, limit=1000).data
    return [e.data for e in reversed(events) if e.type == "metrics"]  # type: ignore[misc]


def _accuracy(sandbox: Sandbox, model: str, records: list[dict[str, Any]]) -> float:
    client = openai_client(sandbox)
    right = 0
    for record in records:
        answer = client.chat.completions.create(model=model, messages=record["messages"], temperature=0)
        right += str(record["reference_answer"]).split("#### ")[-1] in str(answer.choices[0].message.content)
    return right / len(records)


def test_a_reward_for_right_answers_trains_a_model_that_answers_better_than_its_base(
    bedrock_rft_sandbox: Sandbox, world: World, files: dict[str, str]
) -> None:
    job = _train(bedrock_rft_sandbox, world.deploy_grader(GRADER_RIGHT_NUMBER), files)

    assert job.status == "succeeded", job.error
    metrics = _metric_events(bedrock_rft_sandbox, job.id)
    assert [m["step"] for m in metrics] == list(range(1, 17))  # 120 records / batch 16 = 8 steps x 2 epochs
    assert {m["total_steps"] for m in metrics} == {16}
    first = sum(m["critic_rewards_mean"] for m in metrics[:4]) / 4
    last = sum(m["critic_rewards_mean"] for m in metrics[-4:]) / 4
    assert last > first + 0.2
    assert all(m["actor_grad_norm"] >= 0 and m["response_length_mean"] > 0 for m in metrics)
    assert all(abs(m["critic_advantages_mean"]) < 1e-9 for m in metrics)  # group-normalized
    prompts = numeric_records(30, 1000)
    assert _accuracy(bedrock_rft_sandbox, job.fine_tuned_model, prompts) > _accuracy(
        bedrock_rft_sandbox, MODEL, prompts
    )


def test_checkpoints_answer_with_the_policy_of_their_step(
    bedrock_rft_sandbox: Sandbox, world: World, files: dict[str, str]
) -> None:
    job = _train(bedrock_rft_sandbox, world.deploy_grader(GRADER_RIGHT_NUMBER), files)
    client = openai_client(bedrock_rft_sandbox)
    checkpoints = {c.step_number: c for c in client.fine_tuning.jobs.checkpoints.list(job.id)}

    assert sorted(checkpoints) == [5, 10, 15, 16]
    scored = [c for c in checkpoints.values() if c.metrics.model_extra]
    assert all("val_score_rewards_mean" in (c.metrics.model_extra or {}) for c in scored)
    prompts = numeric_records(30, 1000)
    early = _accuracy(bedrock_rft_sandbox, checkpoints[5].fine_tuned_model_checkpoint, prompts)
    final = _accuracy(bedrock_rft_sandbox, checkpoints[16].fine_tuned_model_checkpoint, prompts)
    assert final == _accuracy(bedrock_rft_sandbox, job.fine_tuned_model, prompts)
    assert final >= early


def test_a_flat_reward_gives_flat_metrics_and_no_gradient(
    bedrock_rft_sandbox: Sandbox, world: World, files: dict[str, str]
) -> None:
    job = _train(bedrock_rft_sandbox, world.deploy_grader(GRADER_FLAT), files, n_epochs=1)

    assert job.status == "succeeded"
    metrics = _metric_events(bedrock_rft_sandbox, job.id)
    assert {m["critic_rewards_mean"] for m in metrics} == {0.0}
    assert {m["actor_grad_norm"] for m in metrics} == {0.0}


def test_a_crashing_grader_fails_the_job_with_an_error_naming_the_grader(
    bedrock_rft_sandbox: Sandbox, world: World, files: dict[str, str], tmp_path: Path
) -> None:
    arn = world.deploy_grader(GRADER_CRASHING, {"COUNT_FILE": str(tmp_path / "calls")})
    job = _train(bedrock_rft_sandbox, arn, files)

    assert job.status == "failed" and job.fine_tuned_model is None
    assert job.error is not None and job.error.code == "training_failed"
    assert arn in job.error.message and "reference_answer missing from metadata" in job.error.message
    assert (tmp_path / "calls").read_text() == "xxxx"  # the call and its three retries


def test_a_missing_grader_lambda_fails_the_job_with_its_error(
    bedrock_rft_sandbox: Sandbox, files: dict[str, str]
) -> None:
    missing = "arn:aws:lambda:us-west-2:123456789012:function:no-such-grader"
    job = _train(bedrock_rft_sandbox, missing, files)

    assert job.status == "failed"
    assert job.error is not None and missing in job.error.message and "does not exist" in job.error.message
    events = openai_client(bedrock_rft_sandbox).fine_tuning.jobs.list_events(job.id).data
    assert events[0].level == "error" and missing in events[0].message


def test_a_training_file_under_100_records_fails_validation_naming_the_file(
    bedrock_rft_sandbox: Sandbox, world: World
) -> None:
    client = openai_client(bedrock_rft_sandbox)
    small = upload(client, numeric_records(99), "small.jsonl")
    job = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=small,
        method=rft_method(world.deploy_grader(GRADER_FLAT)),  # type: ignore[arg-type]
    )
    done = wait_for(client, job.id)

    assert done.status == "failed" and done.error is not None
    assert (done.error.code, done.error.param) == ("invalid_training_file", "training_file")
    assert "small.jsonl has 99 valid records" in done.error.message and "at least 100" in done.error.message


def test_cancel_stops_a_running_job_and_it_stays_cancelled(world: World, files: dict[str, str]) -> None:
    from bedrock_rft_provider.sandbox.config import SandboxConfig

    # Slow steps (30 s x 0.05) so that the job is still training when cancelled.
    with Sandbox(config=SandboxConfig(time_scale=0.05)) as slow:
        slow_world = make_world(slow)
        client = openai_client(slow)
        train = upload(client, numeric_records(120))
        job = client.fine_tuning.jobs.create(
            model=MODEL,
            training_file=train,
            method=rft_method(slow_world.deploy_grader(GRADER_RIGHT_NUMBER)),  # type: ignore[arg-type]
        )
        wait_for(client, job.id, until=("running",))
        cancelled = client.fine_tuning.jobs.cancel(job.id)
        assert cancelled.status == "cancelled" and cancelled.finished_at is not None
        app = slow.app
        assert app is not None
        app.fine_tuning.shutdown(timeout=30)  # the run has ended (bounded): nothing changes any more
        final = client.fine_tuning.jobs.retrieve(job.id)
        assert final.status == "cancelled" and final.fine_tuned_model is None
        assert client.fine_tuning.jobs.cancel(job.id).status == "cancelled"  # idempotent
        messages = [e.message for e in client.fine_tuning.jobs.list_events(job.id, limit=100)]
        assert messages.count("Fine-tuning job cancelled") == 1


def test_a_forced_failure_knob_fails_mantle_jobs_at_their_stage(files: dict[str, str]) -> None:
    from bedrock_rft_provider.sandbox.config import SandboxConfig

    with Sandbox(config=SandboxConfig(time_scale=0, fail_jobs="ftjob-*@validation")) as failing:
        client = openai_client(failing)
        train = upload(client, numeric_records(120))
        job = client.fine_tuning.jobs.create(
            model=MODEL,
            training_file=train,
            method=rft_method("arn:aws:lambda:us-west-2:123456789012:function:unused"),  # type: ignore[arg-type]
        )
        done = wait_for(client, job.id)
    assert done.status == "failed" and done.error is not None
    assert "Sandbox forced failure during the validation stage" in done.error.message


def test_jobs_and_events_page_with_after_and_limit(
    bedrock_rft_sandbox: Sandbox, world: World, files: dict[str, str]
) -> None:
    client = openai_client(bedrock_rft_sandbox)
    job = _train(bedrock_rft_sandbox, world.deploy_grader(GRADER_FLAT), files, n_epochs=1)
    everything = client.fine_tuning.jobs.list_events(job.id, limit=1000).data

    first = client.fine_tuning.jobs.list_events(job.id, limit=3)
    assert [e.id for e in first.data] == [e.id for e in everything[:3]] and first.has_more
    walked = [e.id for e in client.fine_tuning.jobs.list_events(job.id, limit=3)]  # auto-paging with after
    assert walked == [e.id for e in everything]
    after = client.fine_tuning.jobs.list_events(job.id, after=everything[2].id, limit=2)
    assert [e.id for e in after.data] == [e.id for e in everything[3:5]]

    all_jobs = [j.id for j in client.fine_tuning.jobs.list(limit=100)]
    assert all_jobs[0] == job.id  # newest first
    paged = [j.id for j in client.fine_tuning.jobs.list(limit=2)]
    assert paged == all_jobs
