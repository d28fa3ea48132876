"""The sandbox's Bedrock control plane, driven through boto3 exactly as the provider's hooks drive it."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bedrock_rft_provider.sandbox import checks
from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.server import Sandbox
from unit.sandbox.sandbox_helpers import (
    GRADER_RIGHT_NUMBER,
    World,
    jsonl,
    make_world,
    numeric_records,
    wait_for_job,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(bedrock_rft_sandbox: Sandbox) -> World:
    return make_world(bedrock_rft_sandbox)


@pytest.fixture(scope="module")
def grader_arn(world: World) -> str:
    return world.deploy_grader(GRADER_RIGHT_NUMBER)


@pytest.fixture(scope="module")
def bedrock(bedrock_rft_sandbox: Sandbox) -> Any:
    return bedrock_rft_sandbox.client("bedrock")


def _pattern(shape: str) -> re.Pattern[str]:
    model = botocore.session.get_session().get_service_model("bedrock")
    return re.compile(model.shape_for(shape).metadata["pattern"])


def _error(call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value


def test_create_answers_201_and_get_returns_the_full_rft_request_by_name_and_arn(
    bedrock: Any, world: World, grader_arn: str
) -> None:
    request = world.job_request(grader_arn)
    request["clientRequestToken"] = "token-full-request"
    created = bedrock.create_model_customization_job(**request)

    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert _pattern("ModelCustomizationJobArn").fullmatch(created["jobArn"])
    by_arn = bedrock.get_model_customization_job(jobIdentifier=created["jobArn"])
    by_name = bedrock.get_model_customization_job(jobIdentifier=request["jobName"])
    for job in (by_arn, by_name):
        assert job["jobArn"] == created["jobArn"]
        assert job["customizationType"] == "REINFORCEMENT_FINE_TUNING"
        assert job["customizationConfig"] == request["customizationConfig"]
        assert job["validationDataConfig"] == request["validationDataConfig"]
        assert job["clientRequestToken"] == "token-full-request"
        assert job["outputModelName"] == request["customModelName"]
        assert job["baseModelArn"].endswith("::foundation-model/amazon.nova-2-lite-v1:0:256k")


def test_same_client_request_token_returns_the_same_job_and_creates_no_other(
    bedrock: Any, world: World, grader_arn: str
) -> None:
    request = world.job_request(grader_arn)
    request["clientRequestToken"] = "token-idempotent"
    first = bedrock.create_model_customization_job(**request)
    second = bedrock.create_model_customization_job(**request)

    assert second["jobArn"] == first["jobArn"]
    listed = bedrock.list_model_customization_jobs(nameContains=request["jobName"])
    assert len(listed["modelCustomizationJobSummaries"]) == 1


def test_reused_token_with_a_different_request_is_a_conflict(
    bedrock: Any, world: World, grader_arn: str
) -> None:
    request = world.job_request(grader_arn)
    request["clientRequestToken"] = "token-conflict"
    bedrock.create_model_customization_job(**request)
    other = {**world.job_request(grader_arn), "clientRequestToken": "token-conflict"}

    error = _error(bedrock.create_model_customization_job, **other)
    assert error.response["Error"]["Code"] == "ConflictException"


def test_duplicate_job_name_fails_with_bedrocks_message(bedrock: Any, world: World, grader_arn: str) -> None:
    request = world.job_request(grader_arn)
    bedrock.create_model_customization_job(**request)
    again = {**world.job_request(grader_arn), "jobName": request["jobName"]}

    error = _error(bedrock.create_model_customization_job, **again)
    assert error.response["Error"]["Code"] == "ValidationException"
    assert error.response["Error"]["Message"] == "The provided job name is currently in use."


def _with(request: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(request)
    *parents, leaf = path.split(".")
    node = changed
    for part in parents:
        node = node[part]
    node[leaf] = value
    return changed


HP = "customizationConfig.rftConfig.hyperParameters"


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "jobName",
            "my_job",
            "at 'jobName' failed to satisfy constraint: Member must satisfy regular expression",
        ),
        ("jobName", "a" * 64, "at 'jobName' failed to satisfy constraint: Member must have length"),
        ("customModelName", "model..x", "at 'customModelName' failed to satisfy constraint"),
        (
            f"{HP}.epochCount",
            51,
            "epochCount' failed to satisfy constraint: Member must have value less than or equal to 50",
        ),
        (
            f"{HP}.batchSize",
            1024,
            "batchSize' failed to satisfy constraint: Member must have value less than or equal to 512",
        ),
        (
            f"{HP}.learningRate",
            0.01,
            "learningRate' failed to satisfy constraint: Member must have value less than or equal to 0.001",
        ),
        (f"{HP}.trainingSamplePerPrompt", 17, "less than or equal to 16"),
        (f"{HP}.evalInterval", 101, "less than or equal to 100"),
        (
            f"{HP}.reasoningEffort",
            "extreme",
            "reasoningEffort' failed to satisfy constraint: Member must satisfy enum value set",
        ),
    ],
)
def test_service_side_checks_botocore_skips_are_validation_errors(  # noqa: PLR0917
    bedrock: Any, world: World, grader_arn: str, path: str, value: Any, expected: str
) -> None:
    request = _with(world.job_request(grader_arn), path, value)

    error = _error(bedrock.create_model_customization_job, **request)
    assert error.response["Error"]["Code"] == "ValidationException"
    assert expected in error.response["Error"]["Message"]
    assert error.response["Error"]["Message"].startswith("1 validation error detected: Value ")


def test_several_violations_are_reported_together(bedrock: Any, world: World, grader_arn: str) -> None:
    request = _with(_with(world.job_request(grader_arn), "jobName", "bad_name"), f"{HP}.batchSize", 1024)

    message = _error(bedrock.create_model_customization_job, **request).response["Error"]["Message"]
    assert message.startswith("2 validation errors detected")
    assert "jobName" in message and "batchSize" in message


def test_union_with_two_members_is_rejected_by_the_service(
    bedrock_rft_sandbox: Sandbox, world: World, grader_arn: str
) -> None:
    # botocore would refuse this client-side; the service must too (e.g. for raw HTTP callers).
    raw = bedrock_rft_sandbox.client("bedrock", config=Config(parameter_validation=False))
    request = world.job_request(grader_arn)
    request["customizationConfig"]["distillationConfig"] = {
        "teacherModelConfig": {"teacherModelIdentifier": "x.y"}
    }

    message = _error(raw.create_model_customization_job, **request).response["Error"]["Message"]
    assert "at 'customizationConfig' failed to satisfy constraint: Member must have exactly one" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"roleArn": "arn:aws:iam::123456789012:role/does-not-exist"}, "role does not exist"),
        (
            {"trainingDataConfig": {"s3Uri": "s3://rft-missing-bucket/train.jsonl"}},
            "S3 object does not exist",
        ),
        (
            {"baseModelIdentifier": "amazon.titan-text-lite-v1"},
            "model identifier amazon.titan-text-lite-v1 is invalid",
        ),
    ],
)
def test_missing_resources_are_rejected_at_create(
    bedrock: Any, world: World, grader_arn: str, change: dict[str, Any], expected: str
) -> None:
    request = {**world.job_request(grader_arn), **change}

    error = _error(bedrock.create_model_customization_job, **request)
    assert error.response["Error"]["Code"] == "ValidationException"
    assert expected in error.response["Error"]["Message"]


def test_lambda_arn_must_name_an_existing_function_version(
    bedrock: Any, world: World, grader_arn: str
) -> None:
    unpublished = grader_arn.rsplit(":", 1)[0] + ":7"

    error = _error(bedrock.create_model_customization_job, **world.job_request(unpublished))
    assert "reward Lambda function" in error.response["Error"]["Message"]
    assert unpublished in error.response["Error"]["Message"]


def test_lambda_arn_with_an_alias_qualifier_is_accepted(
    bedrock_rft_sandbox: Sandbox, bedrock: Any, world: World, grader_arn: str
) -> None:
    name, version = grader_arn.split(":")[-2:]
    alias = bedrock_rft_sandbox.client("lambda").create_alias(
        FunctionName=name, Name="live", FunctionVersion=version
    )

    created = bedrock.create_model_customization_job(**world.job_request(alias["AliasArn"]))
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201


def test_job_completes_through_all_stages_with_a_custom_model(
    bedrock: Any, world: World, grader_arn: str
) -> None:
    request = world.job_request(grader_arn)
    arn = bedrock.create_model_customization_job(**request)["jobArn"]

    job = wait_for_job(bedrock, arn)
    assert job["status"] == "Completed", job.get("failureMessage")
    assert {k: v["status"] for k, v in job["statusDetails"].items()} == {
        "validationDetails": "Completed",
        "dataProcessingDetails": "Completed",
        "trainingDetails": "Completed",
    }
    assert job["endTime"] >= job["creationTime"]
    model_arn = job["outputModelArn"]
    assert _pattern("CustomModelArn").fullmatch(model_arn)
    by_name = bedrock.get_custom_model(modelIdentifier=request["customModelName"])
    assert by_name["modelArn"] == model_arn
    assert by_name["jobArn"] == arn
    assert bedrock.get_custom_model(modelIdentifier=model_arn)["modelStatus"] == "Active"
    names = [m["modelName"] for m in bedrock.list_custom_models()["modelSummaries"]]
    assert request["customModelName"] in names
    summary = bedrock.list_model_customization_jobs(nameContains=request["jobName"])[
        "modelCustomizationJobSummaries"
    ]
    assert summary[0]["customModelArn"] == model_arn


def test_list_jobs_filters_by_status_and_pages(bedrock: Any, world: World, grader_arn: str) -> None:
    arns = [
        bedrock.create_model_customization_job(**world.job_request(grader_arn))["jobArn"] for _ in range(3)
    ]
    for arn in arns:
        wait_for_job(bedrock, arn)

    page = bedrock.list_model_customization_jobs(statusEquals="Completed", maxResults=2)
    assert len(page["modelCustomizationJobSummaries"]) == 2
    assert all(s["status"] == "Completed" for s in page["modelCustomizationJobSummaries"])
    rest = bedrock.list_model_customization_jobs(statusEquals="Completed", nextToken=page["nextToken"])
    listed = {
        s["jobArn"] for s in page["modelCustomizationJobSummaries"] + rest["modelCustomizationJobSummaries"]
    }
    assert set(arns) <= listed


def test_tags_are_kept_listed_added_and_removed(bedrock: Any, world: World, grader_arn: str) -> None:
    request = {**world.job_request(grader_arn), "jobTags": [{"key": "team", "value": "ml"}]}
    arn = bedrock.create_model_customization_job(**request)["jobArn"]

    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "team", "value": "ml"}]
    bedrock.tag_resource(resourceARN=arn, tags=[{"key": "stage", "value": "dev"}])
    bedrock.untag_resource(resourceARN=arn, tagKeys=["team"])
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "stage", "value": "dev"}]


def test_tags_over_the_limit_are_refused_and_an_untagged_resource_still_lists(
    bedrock: Any, world: World, grader_arn: str
) -> None:
    request = {**world.job_request(grader_arn), "jobTags": [{"key": "team", "value": "ml"}]}
    arn = bedrock.create_model_customization_job(**request)["jobArn"]
    bedrock.tag_resource(resourceARN=arn, tags=[{"key": "team", "value": "research"}])  # replaces
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "team", "value": "research"}]

    too_many = [{"key": f"k{i}", "value": "v"} for i in range(checks.MAX_TAGS)]  # + "team" = one over
    error = _error(bedrock.tag_resource, resourceARN=arn, tags=too_many)
    assert error.response["Error"]["Code"] == "TooManyTagsException"
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "team", "value": "research"}]

    bedrock.untag_resource(resourceARN=arn, tagKeys=["team"])
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == []
    missing = _error(bedrock.list_tags_for_resource, resourceARN=arn.replace("job/", "job/x"))
    assert missing.response["Error"]["Code"] == "ResourceNotFoundException"


def test_unknown_job_is_resource_not_found(bedrock: Any) -> None:
    error = _error(bedrock.get_model_customization_job, jobIdentifier="no-such-job")
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_operation_not_emulated_says_so_by_name(bedrock: Any) -> None:
    error = _error(bedrock.list_foundation_models)
    assert error.response["Error"]["Code"] == "NotImplementedException"
    assert "ListFoundationModels" in error.response["Error"]["Message"]
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 501


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (jsonl(numeric_records(50)), "has 50 valid records; reinforcement fine-tuning needs at least 100"),
        (
            jsonl(numeric_records(2)) + b"\n{not json\n" + jsonl(numeric_records(120, 5)),
            "train.jsonl:3: not valid JSON",
        ),
        (
            jsonl([{"messages": [{"role": "robot", "content": "hi"}]}, *numeric_records(120)]),
            'train.jsonl:1: messages[0].role is "robot"',
        ),
    ],
)
def test_dataset_problems_fail_the_job_after_creation(  # noqa: PLR0917
    bedrock_rft_sandbox: Sandbox, bedrock: Any, world: World, grader_arn: str, body: bytes, expected: str
) -> None:
    key = f"bad/{abs(hash(body))}/train.jsonl"
    bedrock_rft_sandbox.client("s3").put_object(Bucket=world.bucket, Key=key, Body=body)
    request = {**world.job_request(grader_arn), "trainingDataConfig": {"s3Uri": f"s3://{world.bucket}/{key}"}}

    created = bedrock.create_model_customization_job(**request)
    job = wait_for_job(bedrock, created["jobArn"])
    assert job["status"] == "Failed"
    assert expected in job["failureMessage"]
    assert job["statusDetails"]["validationDetails"]["status"] == "Failed"
    assert job["statusDetails"]["trainingDetails"]["status"] == "NotStarted"
    assert "outputModelArn" not in job


@pytest.fixture(scope="module")
def slow_sandbox() -> Iterator[Sandbox]:
    """Stages take seconds here, so a job can be caught InProgress; names starting doomed- fail."""
    config = SandboxConfig(time_scale=0.02, fail_jobs="doomed-*@dataProcessing")
    with Sandbox(config=config) as sandbox:
        yield sandbox


def test_stop_moves_a_running_job_to_stopping_then_stopped(slow_sandbox: Sandbox) -> None:
    world = make_world(slow_sandbox)
    bedrock = slow_sandbox.client("bedrock")
    arn = bedrock.create_model_customization_job(
        **world.job_request(world.deploy_grader(GRADER_RIGHT_NUMBER))
    )["jobArn"]

    assert bedrock.get_model_customization_job(jobIdentifier=arn)["status"] == "InProgress"
    assert (
        bedrock.stop_model_customization_job(jobIdentifier=arn)["ResponseMetadata"]["HTTPStatusCode"] == 200
    )
    assert bedrock.get_model_customization_job(jobIdentifier=arn)["status"] == "Stopping"
    job = wait_for_job(bedrock, arn, timeout=120)
    assert job["status"] == "Stopped"
    stages = {v["status"] for v in job["statusDetails"].values()}
    assert "Stopped" in stages and "Stopping" not in stages and "InProgress" not in stages
    assert "outputModelArn" not in job
    error = _error(bedrock.stop_model_customization_job, jobIdentifier=arn)
    assert error.response["Error"]["Code"] == "ValidationException"


def test_forced_failure_knob_fails_the_named_stage_and_says_it_is_simulated(slow_sandbox: Sandbox) -> None:
    world = make_world(slow_sandbox)
    bedrock = slow_sandbox.client("bedrock")
    request = {**world.job_request(world.deploy_grader(GRADER_RIGHT_NUMBER)), "jobName": "doomed-1"}
    arn = bedrock.create_model_customization_job(**request)["jobArn"]

    job = wait_for_job(bedrock, arn, timeout=120)
    assert job["status"] == "Failed"
    assert "forced failure during the dataProcessing stage" in job["failureMessage"]
    assert job["statusDetails"]["validationDetails"]["status"] == "Completed"
    assert job["statusDetails"]["dataProcessingDetails"]["status"] == "Failed"
