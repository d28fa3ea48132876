"""BedrockRFTJobOperator against moto's Bedrock: idempotent retries, success, failure and on_kill.

moto keeps jobs InProgress forever (facts §8), so the tests drive the status through moto's backend,
the way Bedrock would move it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.bedrock.models import bedrock_backends

from bedrock_rft_provider.errors import JobConflictError, JobFailedError
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from support.airflow_context import make_context
from support.bedrock_jobs import ACCOUNT, REGION, valid_job_args
from support.supervisor import supervisor_reports


@pytest.fixture
def bedrock() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("bedrock", region_name=REGION)


def _operator(**overrides: Any) -> BedrockRFTJobOperator:
    return BedrockRFTJobOperator(
        task_id="train",
        aws_conn_id=None,
        region_name=REGION,
        waiter_delay=1,
        waiter_max_attempts=120,  # a broken test fails in minutes, not after the 24 h default
        **valid_job_args(**overrides),
    )


def _set_status(job_name: str, status: str, failure_message: str | None = None) -> None:
    job = bedrock_backends[ACCOUNT][REGION].model_customization_jobs[job_name]
    job.status = status
    job.failure_message = failure_message


def _set_status_once_created(job_name: str, status: str, failure_message: str | None = None) -> None:
    """What Bedrock does later: wait (bounded) until the operator has created the job, then move it."""
    jobs = bedrock_backends[ACCOUNT][REGION].model_customization_jobs
    deadline = time.monotonic() + 60
    while job_name not in jobs and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # let the operator start waiting
    _set_status(job_name, status, failure_message)


def _jobs(bedrock: Any) -> list[str]:
    return [j["jobName"] for j in bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]]


def test_retry_of_the_same_run_reattaches_and_creates_one_job(bedrock: Any) -> None:
    first = _operator(wait_for_completion=False).execute(make_context(try_number=1))
    second = _operator(wait_for_completion=False).execute(make_context(try_number=2))
    assert first["job_name"] == second["job_name"]
    assert (first["reattached"], second["reattached"]) == (False, True)
    assert _jobs(bedrock) == [first["job_name"]]


def test_a_different_run_starts_its_own_job(bedrock: Any) -> None:
    _operator(wait_for_completion=False).execute(make_context(run_id="run-1"))
    _operator(wait_for_completion=False).execute(make_context(run_id="run-2"))
    assert len(_jobs(bedrock)) == 2


def test_name_clash_with_a_different_request_fails_and_creates_nothing(bedrock: Any) -> None:
    _operator(wait_for_completion=False, job_name="shared-name").execute(make_context())
    changed = _operator(
        wait_for_completion=False, job_name="shared-name", hyperparameters={"batch_size": 128}
    )
    with pytest.raises(JobConflictError, match="already exists with a different request"):
        changed.execute(make_context(run_id="another-run"))
    assert _jobs(bedrock) == ["shared-name"]


def test_success_returns_the_custom_model_arn(bedrock: Any) -> None:
    operator = _operator(job_name="rft-succeeds")
    threading.Thread(target=_set_status_once_created, args=("rft-succeeds", "Completed"), daemon=True).start()
    result = operator.execute(make_context())
    assert result["status"] == "Completed"
    assert result["custom_model_arn"].startswith(f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/")
    assert result["job_name"] == "rft-succeeds"


def test_failure_raises_with_bedrocks_failure_message(bedrock: Any) -> None:
    operator = _operator(job_name="rft-fails")
    failure = "Reward Lambda returned 3 results for 4"
    threading.Thread(
        target=_set_status_once_created, args=("rft-fails", "Failed", failure), daemon=True
    ).start()
    with pytest.raises(JobFailedError, match="ended Failed: Reward Lambda returned 3 results for 4"):
        operator.execute(make_context())


@pytest.mark.parametrize(
    ("state_after_action", "expected_status"),
    [("failed", {"Stopping", "Stopped"}), ("restarting", {"InProgress"}), ("up_for_retry", {"InProgress"})],
)
def test_on_kill_stops_the_running_job_only_when_marked_failed(
    bedrock: Any, monkeypatch: pytest.MonkeyPatch, state_after_action: str, expected_status: set[str]
) -> None:
    context = make_context()
    operator = _operator(job_name="rft-killed", wait_for_completion=False)
    operator.execute(context)
    supervisor_reports(monkeypatch, context["ti"], state_after_action)
    operator.on_kill()
    assert bedrock.get_model_customization_job(jobIdentifier="rft-killed")["status"] in expected_status


def test_a_retry_does_not_reattach_to_a_job_that_is_stopping(bedrock: Any) -> None:
    first = _operator(wait_for_completion=False).execute(make_context(try_number=1))
    _set_status(first["job_name"], "Stopping")
    second = _operator(wait_for_completion=False).execute(make_context(try_number=2))
    assert second["reattached"] is False
    assert second["job_name"] == f"{first['job_name']}-a2"
    assert sorted(_jobs(bedrock)) == sorted([first["job_name"], second["job_name"]])


def test_completed_job_is_returned_on_retry_without_waiting(bedrock: Any) -> None:
    _operator(job_name="rft-done", wait_for_completion=False).execute(make_context())
    _set_status("rft-done", "Completed")
    result = _operator(job_name="rft-done").execute(make_context(try_number=2))
    assert result["reattached"] is True and result["status"] == "Completed"
    assert _jobs(bedrock) == ["rft-done"]


def test_extra_link_points_at_the_job(bedrock: Any) -> None:
    context = make_context()
    result = _operator(job_name="rft-linked", wait_for_completion=False).execute(context)
    link = context["ti"].xcoms["bedrock_rft_job"]
    assert link["job_arn"] == result["job_arn"] and link["region_name"] == REGION


def test_a_try_that_fails_before_starting_a_job_still_has_its_link_xcom(bedrock: Any) -> None:
    """Airflow renders the link when every try ends; a missing XCom made the supervisor log an
    "XCom not found ... key='bedrock_rft_job'" error next to the real one."""
    from airflow.providers.amazon.aws.links.base_aws import BaseAwsLink

    _operator(job_name="rft-clash", wait_for_completion=False).execute(make_context())
    context = make_context(run_id="another-run")
    # Same name, different request: the try fails before any job of its own exists.
    clashing = _operator(
        job_name="rft-clash",
        wait_for_completion=False,
        training_data_uri="s3://rft-test-bucket/data/other.jsonl",
    )
    with pytest.raises(JobConflictError):
        clashing.execute(context)
    stored = context["ti"].xcoms["bedrock_rft_job"]
    assert stored["job_arn"] == ""
    link = clashing.operator_extra_links[0]
    assert isinstance(link, BaseAwsLink) and link.format_link(**stored) == ""
