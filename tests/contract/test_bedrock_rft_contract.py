"""Every Bedrock call the RFT hook makes, checked by botocore's Stubber against the real service model."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.stub import ANY

from bedrock_rft_provider.errors import JobConflictError
from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook
from bedrock_rft_provider.jobs.spec import RFTJobSpec
from support.bedrock_jobs import ACCOUNT, BASE_MODEL, valid_job_args
from support.stubbed import install_client, stubbed_client

JOB_NAME = "rft-contract-job"
JOB_ARN = (
    f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/amazon.nova-2-lite-v1:0:256k/abcdef123456"
)
MODEL_ARN = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/amazon.nova-2-lite-v1:0:256k/abcdef654321"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def spec() -> RFTJobSpec:
    return RFTJobSpec.build(job_name=JOB_NAME, custom_model_name="rft-contract-model", **valid_job_args())


@pytest.fixture
def hook_and_stubber() -> Any:
    hook = BedrockRFTHook(aws_conn_id=None, region_name="us-east-1")
    client, stubber = stubbed_client("bedrock")
    install_client(hook, client)
    with stubber:
        yield hook, stubber
        stubber.assert_no_pending_responses()


def job_description(
    spec: RFTJobSpec, *, status: str = "InProgress", token: str | None = None, **extra: Any
) -> dict:
    request = spec.to_request()
    description = {
        "jobArn": JOB_ARN,
        "jobName": spec.job_name,
        "outputModelName": spec.custom_model_name,
        "clientRequestToken": token or spec.client_request_token(),
        "roleArn": spec.role_arn,
        "status": status,
        "creationTime": NOW,
        "baseModelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{BASE_MODEL}",
        "trainingDataConfig": request["trainingDataConfig"],
        "validationDataConfig": {"validators": []},
        "outputDataConfig": request["outputDataConfig"],
        "customizationType": "REINFORCEMENT_FINE_TUNING",
        "customizationConfig": request["customizationConfig"],
        "statusDetails": {
            "validationDetails": {"status": "Completed"},
            "dataProcessingDetails": {"status": "Completed"},
            "trainingDetails": {"status": "InProgress" if status == "InProgress" else status},
        },
    }
    description.update(extra)
    return description


def not_found(stubber: Any, name: str) -> None:
    stubber.add_client_error(
        "get_model_customization_job",
        service_error_code="ResourceNotFoundException",
        service_message=f"Model customization job {name} not found",
        http_status_code=404,
        expected_params={"jobIdentifier": name},
    )


def test_create_sends_the_rft_request_with_a_deterministic_token(
    hook_and_stubber: Any, spec: RFTJobSpec
) -> None:
    hook, stubber = hook_and_stubber
    not_found(stubber, JOB_NAME)
    stubber.add_response(
        "create_model_customization_job",
        {"jobArn": JOB_ARN},
        expected_params={"clientRequestToken": spec.client_request_token(), **spec.to_request()},
    )
    job = hook.start_or_reattach(spec)
    assert (job.job_arn, job.reattached) == (JOB_ARN, False)


def test_get_by_name_and_by_arn_return_the_same_job(hook_and_stubber: Any, spec: RFTJobSpec) -> None:
    hook, stubber = hook_and_stubber
    for identifier in (JOB_NAME, JOB_ARN):
        stubber.add_response(
            "get_model_customization_job",
            job_description(spec),
            expected_params={"jobIdentifier": identifier},
        )
    by_name, by_arn = hook.describe_job(JOB_NAME), hook.describe_job(JOB_ARN)
    assert by_name == by_arn
    assert by_name["customizationConfig"]["rftConfig"]["graderConfig"]["lambdaGrader"]["lambdaArn"].endswith(
        ":live"
    )


def test_retry_reattaches_to_running_job_without_creating(hook_and_stubber: Any, spec: RFTJobSpec) -> None:
    hook, stubber = hook_and_stubber
    stubber.add_response(
        "get_model_customization_job", job_description(spec), expected_params={"jobIdentifier": JOB_NAME}
    )
    job = hook.start_or_reattach(spec, attempt=2)  # no create call is stubbed: one would fail the test
    assert (job.job_arn, job.status, job.reattached) == (JOB_ARN, "InProgress", True)


def test_name_clash_with_a_different_request_fails_clearly(hook_and_stubber: Any, spec: RFTJobSpec) -> None:
    hook, stubber = hook_and_stubber
    other = job_description(
        spec, token="someone-elses-token", trainingDataConfig={"s3Uri": "s3://other-bucket/train.jsonl"}
    )
    stubber.add_response("get_model_customization_job", other, expected_params={"jobIdentifier": JOB_NAME})
    with pytest.raises(JobConflictError, match=r"training_data_uri: requested 's3://rft-test-bucket"):
        hook.start_or_reattach(spec)


def test_retry_after_a_failed_job_starts_a_fresh_attempt(hook_and_stubber: Any, spec: RFTJobSpec) -> None:
    hook, stubber = hook_and_stubber
    failed = job_description(spec, status="Failed", failureMessage="Lambda timed out")
    stubber.add_response("get_model_customization_job", failed, expected_params={"jobIdentifier": JOB_NAME})
    not_found(stubber, f"{JOB_NAME}-a2")
    retry = spec.for_attempt(2)
    stubber.add_response(
        "create_model_customization_job",
        {"jobArn": JOB_ARN.replace("abcdef123456", "abcdef000002")},
        expected_params={"clientRequestToken": ANY, **retry.to_request()},
    )
    job = hook.start_or_reattach(spec, attempt=2)
    assert job.job_name == f"{JOB_NAME}-a2" and not job.reattached


def test_stop_job(hook_and_stubber: Any) -> None:
    hook, stubber = hook_and_stubber
    stubber.add_response("stop_model_customization_job", {}, expected_params={"jobIdentifier": JOB_ARN})
    assert hook.stop_job(JOB_ARN) is True


def test_stop_of_an_already_finished_job_is_not_an_error(hook_and_stubber: Any, spec: RFTJobSpec) -> None:
    hook, stubber = hook_and_stubber
    stubber.add_client_error(
        "stop_model_customization_job", service_error_code="ValidationException", http_status_code=400
    )
    stubber.add_response("get_model_customization_job", job_description(spec, status="Completed"))
    assert hook.stop_job(JOB_ARN) is False


def test_list_returns_only_rft_jobs(hook_and_stubber: Any) -> None:
    hook, stubber = hook_and_stubber
    summaries = [
        {
            "jobArn": JOB_ARN,
            "baseModelArn": "arn:aws:bedrock:us-east-1::foundation-model/x.y",
            "jobName": JOB_NAME,
            "status": "InProgress",
            "creationTime": NOW,
            "customizationType": "REINFORCEMENT_FINE_TUNING",
        },
        {
            "jobArn": JOB_ARN.replace("123456", "999999"),
            "baseModelArn": "arn:aws:bedrock:us-east-1::foundation-model/x.y",
            "jobName": "sft-job",
            "status": "Completed",
            "creationTime": NOW,
            "customizationType": "FINE_TUNING",
        },
    ]
    stubber.add_response(
        "list_model_customization_jobs",
        {"modelCustomizationJobSummaries": summaries},
        expected_params={"sortBy": "CreationTime", "sortOrder": "Descending", "nameContains": "rft"},
    )
    assert [j["jobName"] for j in hook.list_rft_jobs(name_contains="rft")] == [JOB_NAME]
