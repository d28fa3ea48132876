"""Every call of Bedrock's OpenAI-compatible API that the sandbox emulates, made with the official
``openai`` client unchanged (only ``base_url`` and the key differ); each raw answer is validated against
the client's own pydantic types, not merely parsed leniently."""

from __future__ import annotations

from typing import Any

import pytest
from openai import OpenAI
from openai.types import FileDeleted, FileObject
from openai.types.chat import ChatCompletion
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint

from bedrock_rft_provider.sandbox.server import Sandbox
from unit.sandbox.mantle_helpers import MODEL, openai_client, rft_method, wait_for
from unit.sandbox.sandbox_helpers import GRADER_RIGHT_NUMBER, jsonl, make_world, numeric_records

pytestmark = pytest.mark.integration

METRIC_KEYS = {
    "step",
    "total_steps",
    "critic_rewards_mean",
    "actor_pg_loss",
    "actor_entropy",
    "actor_grad_norm",
    "critic_advantages_mean",
    "response_length_mean",
}


def raw_and_parsed(call: Any, *args: Any, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    """The answer's JSON as sent, and what the client made of it."""
    response = call(*args, **kwargs)
    return response.http_response.json(), response.parse()


def job_strict(raw: dict[str, Any]) -> FineTuningJob:
    """Bedrock's Lambda grader is not a member of the client's grader union (it knows OpenAI's graders
    only), so ``method`` is checked by hand and the rest strictly."""
    assert raw["method"]["type"] == "reinforcement"
    grader = raw["method"]["reinforcement"]["grader"]
    assert grader["type"] == "lambda" and grader["lambda"]["function"].startswith("arn:aws:lambda:")
    return FineTuningJob.model_validate({**raw, "method": None})


@pytest.fixture(scope="module")
def trained(bedrock_rft_sandbox: Sandbox) -> dict[str, Any]:
    """One job run to success through the emulator, with the raw answers of the calls that made it."""
    world = make_world(bedrock_rft_sandbox)
    grader_arn = world.deploy_grader(GRADER_RIGHT_NUMBER)
    client = openai_client(bedrock_rft_sandbox)
    raw_file, parsed_file = raw_and_parsed(
        client.files.with_raw_response.create,
        file=("train.jsonl", jsonl(numeric_records(120))),
        purpose="fine-tune",
    )
    validation = client.files.create(
        file=("val.jsonl", jsonl(numeric_records(20, 1000))), purpose="fine-tune"
    )
    raw_job, parsed_job = raw_and_parsed(
        client.fine_tuning.jobs.with_raw_response.create,
        model=MODEL,
        training_file=parsed_file.id,
        validation_file=validation.id,
        method=rft_method(grader_arn),  # type: ignore[arg-type]  # Bedrock's grader is not in the client's union
        metadata={"dag_run": "contract"},
    )
    done = wait_for(client, parsed_job.id)
    assert done.status == "succeeded", done.error
    return {"client": client, "file": (raw_file, parsed_file), "job": (raw_job, parsed_job), "done": done}


def test_files_create_answers_a_file_object(trained: dict[str, Any]) -> None:
    raw, parsed = trained["file"]
    strict = FileObject.model_validate(raw)
    assert strict == parsed
    assert (strict.object, strict.purpose, strict.filename) == ("file", "fine-tune", "train.jsonl")
    assert strict.bytes == len(jsonl(numeric_records(120)))


def test_files_retrieve_list_content_and_delete(trained: dict[str, Any]) -> None:
    client: OpenAI = trained["client"]
    file_id = client.files.create(file=("extra.jsonl", jsonl(numeric_records(3))), purpose="fine-tune").id

    raw, parsed = raw_and_parsed(client.files.with_raw_response.retrieve, file_id)
    assert FileObject.model_validate(raw).id == parsed.id == file_id
    raw_list = client.files.with_raw_response.list(purpose="fine-tune").http_response.json()
    listed = [FileObject.model_validate(item).id for item in raw_list["data"]]
    assert listed[0] == file_id  # newest first
    assert client.files.content(file_id).content == jsonl(numeric_records(3))
    raw, parsed = raw_and_parsed(client.files.with_raw_response.delete, file_id)
    assert FileDeleted.model_validate(raw) == parsed and parsed.deleted and parsed.id == file_id
    assert file_id not in [f.id for f in client.files.list()]


def test_jobs_create_answers_a_job_that_validates_its_files(trained: dict[str, Any]) -> None:
    raw, parsed = trained["job"]
    strict = job_strict(raw)
    assert strict.id == parsed.id and strict.id.startswith("ftjob-")
    assert (strict.object, strict.model, strict.status) == ("fine_tuning.job", MODEL, "validating_files")
    assert strict.training_file == trained["file"][1].id
    assert strict.fine_tuned_model is None and strict.metadata == {"dag_run": "contract"}
    assert raw["method"]["reinforcement"]["hyperparameters"] == {
        "n_epochs": 2,
        "batch_size": 16,
        "learning_rate_multiplier": 10.0,
    }


def test_jobs_retrieve_and_list_answer_jobs(trained: dict[str, Any]) -> None:
    client: OpenAI = trained["client"]
    job_id = trained["job"][1].id
    raw, parsed = raw_and_parsed(client.fine_tuning.jobs.with_raw_response.retrieve, job_id)
    strict = job_strict(raw)
    assert strict.status == parsed.status == "succeeded"
    assert strict.fine_tuned_model == f"{MODEL}:ft:{job_id}" and strict.finished_at is not None
    assert strict.trained_tokens and strict.trained_tokens > 0
    raw_page = client.fine_tuning.jobs.with_raw_response.list(limit=100).http_response.json()
    assert job_id in [job_strict(item).id for item in raw_page["data"]]
    mine = client.fine_tuning.jobs.list(metadata={"dag_run": "contract"})
    assert [job.id for job in mine] == [job_id]


def test_jobs_list_events_answers_messages_and_metric_events(trained: dict[str, Any]) -> None:
    client: OpenAI = trained["client"]
    job_id = trained["job"][1].id
    raw = client.fine_tuning.jobs.with_raw_response.list_events(job_id, limit=1000).http_response.json()
    events = [FineTuningJobEvent.model_validate(item) for item in raw["data"]]
    metrics = [e for e in events if e.type == "metrics"]
    assert metrics and all(set(e.data) >= METRIC_KEYS for e in metrics)  # type: ignore[arg-type]
    steps = [e.data["step"] for e in metrics]  # type: ignore[index]
    assert steps == sorted(steps, reverse=True)  # newest first
    assert {e.type for e in events} == {"message", "metrics"}
    assert events[0].message == "The job has successfully completed"


def test_checkpoints_list_answers_checkpoints_with_step_metrics(trained: dict[str, Any]) -> None:
    client: OpenAI = trained["client"]
    job_id = trained["job"][1].id
    raw = client.fine_tuning.jobs.checkpoints.with_raw_response.list(job_id).http_response.json()
    checkpoints = [FineTuningJobCheckpoint.model_validate(item) for item in raw["data"]]
    assert [c.step_number for c in checkpoints] == [16, 15, 10, 5]  # every 5 steps and the last, newest first
    assert all(c.fine_tuning_job_id == job_id and c.metrics.step == c.step_number for c in checkpoints)
    assert all(raw_item["metrics"]["critic_rewards_mean"] >= 0 for raw_item in raw["data"])


def test_jobs_cancel_answers_the_cancelled_job() -> None:
    from bedrock_rft_provider.sandbox.config import SandboxConfig

    # Validation takes 60 s x 0.2 here, so the job is surely still validating its files when cancelled.
    with Sandbox(config=SandboxConfig(time_scale=0.2)) as slow:
        client = openai_client(slow)
        job = client.fine_tuning.jobs.create(
            model="qwen.qwen3-32b",
            training_file=client.files.create(
                file=("train.jsonl", jsonl(numeric_records(120))), purpose="fine-tune"
            ).id,
            method=rft_method("arn:aws:lambda:us-west-2:123456789012:function:never-called"),  # type: ignore[arg-type]
        )
        raw, parsed = raw_and_parsed(client.fine_tuning.jobs.with_raw_response.cancel, job.id)
    assert job.status == "validating_files"
    assert job_strict(raw).status == parsed.status == "cancelled"


def test_chat_completions_answers_a_chat_completion_with_usage(trained: dict[str, Any]) -> None:
    client: OpenAI = trained["client"]
    prompt = numeric_records(1, 5)[0]["messages"]
    for model in (MODEL, trained["done"].fine_tuned_model):
        raw, parsed = raw_and_parsed(
            client.chat.completions.with_raw_response.create, model=model, messages=prompt, temperature=0
        )
        strict = ChatCompletion.model_validate(raw)
        assert strict == parsed and strict.model == model
        assert strict.choices[0].message.content and strict.choices[0].finish_reason == "stop"
        assert strict.usage is not None
        assert strict.usage.total_tokens == strict.usage.prompt_tokens + strict.usage.completion_tokens > 0


def test_models_list_names_base_fine_tuned_and_checkpoint_models(trained: dict[str, Any]) -> None:
    client: OpenAI = trained["client"]
    names = {model.id for model in client.models.list()}
    tuned = trained["done"].fine_tuned_model
    assert {MODEL, "qwen.qwen3-32b", "nvidia.nemotron-nano-3-30b", tuned, f"{tuned}:ckpt-step-5"} <= names
