"""The open-weight client end to end against the fake API: one job per training key under retry and
clear, cancel only on mark-failed, errors surfaced, the bearer token never logged and renewed."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

import pytest

from bedrock_rft_provider.errors import ConfigError, JobFailedError
from bedrock_rft_provider.hooks.openweight import BearerTokenSource, BedrockOpenWeightHook
from bedrock_rft_provider.operators import openweight_job
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.triggers.openweight import BedrockOpenWeightJobTrigger
from tests.support.airflow_context import make_context
from tests.support.openweight_fake import FakeOpenWeightAPI
from tests.unit.openweight.conftest import LAMBDA_ARN, TRAIN_URI, VALIDATION_URI

CREATE = ("POST", "/fine_tuning/jobs")


def _operator(**overrides: Any) -> BedrockRFTJobOperator:
    arguments: dict[str, Any] = {
        "task_id": "train",
        "base_model_id": "openai.gpt-oss-20b",
        "role_arn": "arn:aws:iam::123456789012:role/unused-on-open-weight",
        "training_data_uri": TRAIN_URI,
        "validation_data_uri": VALIDATION_URI,
        "output_data_uri": "s3://rft-bucket/run/out/",
        "reward_lambda_arn": LAMBDA_ARN,
        "hyperparameters": {"n_epochs": 1, "batch_size": 4},
        "region_name": "us-west-2",
        "aws_conn_id": None,
        "wait_for_completion": False,
        **overrides,
    }
    return BedrockRFTJobOperator(**arguments)


def test_two_executions_with_the_same_inputs_make_exactly_one_create(
    openweight_api: FakeOpenWeightAPI,
) -> None:
    first = _operator().execute(make_context(try_number=1))
    retry = _operator().execute(make_context(try_number=2))  # a retry, or a clear: a fresh operator
    other_run = _operator().execute(make_context(run_id="scheduled__2026-11-26T03:00:00+00:00"))
    assert openweight_api.calls(*CREATE) == 1
    assert openweight_api.calls("POST", "/files") == 2  # training + validation, once each
    assert first["reattached"] is False and retry["reattached"] is True and other_run["reattached"] is True
    assert first["job_id"] == retry["job_id"] == other_run["job_id"]
    assert first["backend"] == "open-weight"
    body = openweight_api.create_bodies[0]
    assert body["validation_file"] != body["training_file"]


def test_a_failed_job_is_not_reattached_a_retry_trains_again(openweight_api: FakeOpenWeightAPI) -> None:
    first = _operator().execute(make_context())
    openweight_api.advance(first["job_id"], "failed", error="grader Lambda timed out")
    second = _operator().execute(make_context(try_number=2))
    assert openweight_api.calls(*CREATE) == 2 and second["job_id"] != first["job_id"]
    assert openweight_api.calls("POST", "/files") == 2  # the uploads are reused


def test_force_retrain_trains_again_but_its_own_retry_reattaches(openweight_api: FakeOpenWeightAPI) -> None:
    _operator().execute(make_context())
    openweight_api.advance("ftjob-1", "succeeded")
    forced = _operator(force_retrain=True).execute(make_context(run_id="manual__forced"))
    forced_retry = _operator(force_retrain="true").execute(
        make_context(run_id="manual__forced", try_number=2)
    )
    assert openweight_api.calls(*CREATE) == 2
    assert forced["job_id"] == forced_retry["job_id"] == "ftjob-2"


def test_a_create_whose_answer_is_lost_is_looked_up_not_sent_again(openweight_api: FakeOpenWeightAPI) -> None:
    openweight_api.fail_next_create_after_commit = True  # the job exists, the answer says 500
    result = _operator().execute(make_context())
    assert openweight_api.calls(*CREATE) == 1  # the SDK's automatic retry is off for create
    assert result["job_id"] == "ftjob-1" and result["reattached"] is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"base_model_id": "meta.llama3-8b", "backend": "open-weight"}, "base_model_id"),
        ({"backend": "native"}, "backend"),
        ({"hyperparameters": {"n_epochs": 500}}, "hyperparameters.n_epochs"),
        ({"hyperparameters": {"batch_size": 0}}, "hyperparameters.batch_size"),
        ({"hyperparameters": {"max_prompt_length": 4096}}, "hyperparameters.max_prompt_length"),
        ({"tags": {"team": "ml"}}, "tags"),
        ({"custom_model_name": "my-model"}, "custom_model_name"),
    ],
)
def test_bad_configuration_fails_before_any_call(
    openweight_api: FakeOpenWeightAPI, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        _operator(**overrides).execute(make_context())
    assert raised.value.field == field or field in str(raised.value)
    assert openweight_api.requests == []


def test_the_job_error_message_fails_the_task(openweight_api: FakeOpenWeightAPI) -> None:
    job = _operator().execute(make_context())
    openweight_api.advance(job["job_id"], "failed", error="reward Lambda returned 3 results for 4 samples")
    trigger = BedrockOpenWeightJobTrigger(
        job_id=job["job_id"], waiter_delay=0, aws_conn_id=None, region_name="us-west-2"
    )
    event = asyncio.run(_first_event(trigger))
    assert event["status"] == "error" and "3 results for 4 samples" in event["message"]
    with pytest.raises(JobFailedError, match="3 results for 4 samples"):
        _operator().execute_complete(make_context(), event=event, reattached=False, training_key="k")


def test_the_trigger_logs_stages_and_metrics_and_completes(
    openweight_api: FakeOpenWeightAPI, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    job = _operator().execute(make_context())
    points = [
        {"step": s, "total_steps": 2, "critic_rewards_mean": 0.4 + 0.2 * s, "actor_entropy": 0.9}
        for s in (1, 2)
    ]
    openweight_api.advance(job["job_id"], "running", metrics=points)
    openweight_api.advance(job["job_id"], "succeeded")
    trigger = BedrockOpenWeightJobTrigger(
        job_id=job["job_id"], waiter_delay=0, aws_conn_id=None, region_name="us-west-2"
    )
    with caplog.at_level(logging.INFO):
        event = asyncio.run(_first_event(trigger))
    assert event["status"] == "success" and event["fine_tuned_model"]
    logged = caplog.text + capsys.readouterr().out  # Airflow's structlog may print instead of logging
    assert "step 2/2: actor/entropy 0.9, critic/rewards/mean 0.8" in logged
    assert f"Fine-tuning job {job['job_id']} is succeeded" in logged
    result = _operator().execute_complete(make_context(), event=event, training_key="k")
    assert result["fine_tuned_model"] == event["fine_tuned_model"] and result["status"] == "succeeded"


def test_the_trigger_round_trips_through_serialize(openweight_api: FakeOpenWeightAPI) -> None:
    trigger = BedrockOpenWeightJobTrigger(
        job_id="ftjob-7", waiter_delay=5, cursor="ev-3", region_name="us-west-2"
    )
    path, kwargs = trigger.serialize()
    assert path.endswith("BedrockOpenWeightJobTrigger")
    assert BedrockOpenWeightJobTrigger(**kwargs).serialize() == (path, kwargs)


@pytest.mark.parametrize(("state", "cancels"), [("failed", True), (None, False), ("up_for_retry", False)])
def test_kill_cancels_only_when_marked_failed(
    openweight_api: FakeOpenWeightAPI, monkeypatch: pytest.MonkeyPatch, state: str | None, cancels: bool
) -> None:
    monkeypatch.setattr("bedrock_rft_provider.triggers.kill_reason.current_task_state", lambda ti: state)
    operator = _operator()
    job = operator.execute(make_context())
    operator.on_kill()
    assert (openweight_api.calls("POST", f"/fine_tuning/jobs/{job['job_id']}/cancel") == 1) is cancels

    trigger = BedrockOpenWeightJobTrigger(job_id=job["job_id"], aws_conn_id=None, region_name="us-west-2")
    trigger.task_instance = make_context()["ti"]  # type: ignore[attr-defined]
    openweight_api.jobs[0]["status"] = "running"
    before = openweight_api.calls("POST", f"/fine_tuning/jobs/{job['job_id']}/cancel")
    asyncio.run(trigger.on_kill())
    assert (
        openweight_api.calls("POST", f"/fine_tuning/jobs/{job['job_id']}/cancel") - before == 1
    ) is cancels


def test_the_bearer_token_is_never_logged_nor_shown(
    openweight_api: FakeOpenWeightAPI, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = BedrockOpenWeightHook(aws_conn_id=None, region_name="us-west-2")
    with caplog.at_level(logging.DEBUG):
        job = _operator().execute(make_context())
        hook.retrieve_job(job["job_id"])
    # Each hook mints its own token (they differ when minted in different seconds): check them all.
    tokens = {auth.removeprefix("Bearer ") for _, _, auth in openweight_api.requests}
    assert tokens and all(token.startswith("bedrock-api-key-") for token in tokens)
    captured = capsys.readouterr()
    shown = caplog.text + captured.out + captured.err + repr(hook) + repr(hook.token_source)
    for token in tokens:
        assert token not in shown and token[16:48] not in shown


def test_the_token_is_minted_from_the_connection_and_renewed_before_it_expires() -> None:
    from botocore.credentials import ReadOnlyCredentials

    now = [1000.0]
    fetched = []

    def credentials() -> ReadOnlyCredentials:
        fetched.append(1)
        return ReadOnlyCredentials("AKIDEXAMPLE", "secret", None)

    source = BearerTokenSource(
        credentials,
        "us-west-2",
        lifetime=timedelta(minutes=30),
        refresh_before=timedelta(minutes=5),
        clock=lambda: now[0],
    )
    first = source()
    now[0] += 24 * 60  # 24 min: still valid
    assert source() == first and len(fetched) == 1
    now[0] += 2 * 60  # 26 min: inside the 5-minute margin, renewed from fresh credentials
    second = source()  # signed at the same wall-clock second, so it may equal the first: count mints
    assert source.minted == 2 and len(fetched) == 2
    import base64

    presigned = base64.b64decode(second.removeprefix("bedrock-api-key-")).decode()
    assert "Action=CallWithBearerToken" in presigned and "X-Amz-Expires=1800" in presigned
    assert "us-west-2" in presigned and "AKIDEXAMPLE" in presigned


def test_endpoint_url_in_the_connection_points_the_client_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_MANTLE_SANDBOX",
        json.dumps(
            {
                "conn_type": "aws",
                "extra": {"endpoint_url": "http://127.0.0.1:5000", "region_name": "us-west-2"},
            }
        ),
    )
    assert BedrockOpenWeightHook(aws_conn_id="mantle_sandbox").base_url == "http://127.0.0.1:5000/v1"
    assert (
        BedrockOpenWeightHook(aws_conn_id=None, region_name="us-west-2").base_url
        == "https://bedrock-mantle.us-west-2.api.aws/v1"
    )


def test_checkpoints_are_listed_in_step_order(openweight_api: FakeOpenWeightAPI) -> None:
    job = _operator().execute(make_context())
    openweight_api.add_checkpoint(job["job_id"], 20, valid_loss=0.2)
    openweight_api.add_checkpoint(job["job_id"], 10, valid_loss=0.4)
    hook = BedrockOpenWeightHook(aws_conn_id=None, region_name="us-west-2")
    assert [c["step_number"] for c in hook.checkpoints(job["job_id"])] == [10, 20]


async def _first_event(trigger: BedrockOpenWeightJobTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger yielded nothing")


def test_the_open_weight_delegate_is_used_only_for_open_weight_models() -> None:
    assert openweight_job.HOOK_ATTRIBUTE == "_open_weight_job_id"
    assert _operator(base_model_id="amazon.nova-2-lite-v1:0:256k")._open_weight_job_id is None
