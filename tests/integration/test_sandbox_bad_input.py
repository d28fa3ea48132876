"""Malformed requests get the service's 400 ValidationException (never a 500 that SDKs retry)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bedrock_rft_provider.sandbox.server import Sandbox
from unit.sandbox.raw_http import Answer, call
from unit.sandbox.sandbox_helpers import GRADER_RIGHT_NUMBER, World, make_world, unique, zip_module

pytestmark = pytest.mark.integration

CONVERSE = "/model/amazon.nova-2-lite-v1:0/converse"
HELLO = [{"role": "user", "content": [{"text": "What is 2 + 2?"}]}]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# (case id, raw JSON body, the path or phrase the error must name)
CONVERSE_CASES = [
    ("content-as-string", {"messages": [{"role": "user", "content": "hi"}]}, "'messages.1.member.content'"),
    (
        "max-tokens-negative",
        {"messages": HELLO, "inferenceConfig": {"maxTokens": -1}},
        "greater than or equal to 1",
    ),
    ("max-tokens-string", {"messages": HELLO, "inferenceConfig": {"maxTokens": "512"}}, "be an integer"),
    ("max-tokens-float", {"messages": HELLO, "inferenceConfig": {"maxTokens": 1.5}}, "be an integer"),
    (
        "temperature-string",
        {"messages": HELLO, "inferenceConfig": {"temperature": "hot"}},
        "be a finite number",
    ),
    (
        "temperature-above-1",
        {"messages": HELLO, "inferenceConfig": {"temperature": 1.5}},
        "less than or equal to 1",
    ),
    ("top-p-bool", {"messages": HELLO, "inferenceConfig": {"topP": True}}, "'inferenceConfig.topP'"),
    ("messages-object", {"messages": {"role": "user", "content": []}}, "'messages'"),
    ("message-is-string", {"messages": ["hi"]}, "'messages.1.member'"),
    ("role-enum", {"messages": [{"role": "robot", "content": [{"text": "x"}]}]}, "enum value set"),
    ("role-missing", {"messages": [{"content": [{"text": "x"}]}]}, "'messages.1.member.role'"),
    (
        "union-two-members",
        {"messages": [{"role": "user", "content": [{"text": "x", "cachePoint": {"type": "default"}}]}]},
        "exactly one of its members",
    ),
    ("union-empty", {"messages": [{"role": "user", "content": [{}]}]}, "exactly one of its members"),
    ("text-number", {"messages": [{"role": "user", "content": [{"text": 7}]}]}, "be a string"),
    (
        "stop-sequences-empty-string",
        {"messages": HELLO, "inferenceConfig": {"stopSequences": [""]}},
        "length",
    ),
    ("system-not-list", {"messages": HELLO, "system": "be brief"}, "'system'"),
    (
        "tool-name-pattern",
        {
            "messages": HELLO,
            "toolConfig": {"tools": [{"toolSpec": {"name": "my tool", "inputSchema": {"json": {}}}}]},
        },
        "regular expression pattern",
    ),
    ("tools-empty", {"messages": HELLO, "toolConfig": {"tools": []}}, "length greater than or equal to 1"),
]

RAW_CONVERSE_CASES = [
    (
        "nan",
        '{"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"topP": NaN}}',
        "NaN",
    ),
    (
        "infinity",
        '{"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"topP": Infinity}}',
        "Infinity",
    ),
    (
        "deep-document",
        '{"messages": [{"role": "user", "content": [{"text": "x"}]}], "additionalModelRequestFields": {"a": '
        + _nested(200)
        + "}}",
        "nests deeper",
    ),
    ("very-deep", _nested(100_000), "nests deeper"),
    ("not-json", "{'messages': []}", "not valid JSON"),
    ("array-body", "[]", "JSON object"),
]


def _assert_validation(answer: Answer, expected: str) -> None:
    assert answer.status == 400, (answer.status, answer.body[:300])
    assert answer.error_code == "ValidationException"
    assert expected in answer.message, answer.message


@pytest.mark.parametrize(("case", "body", "expected"), CONVERSE_CASES, ids=[c[0] for c in CONVERSE_CASES])
def test_converse_bodies_violating_the_model_are_validation_errors(
    bedrock_rft_sandbox: Sandbox, case: str, body: dict[str, Any], expected: str
) -> None:
    _assert_validation(call(bedrock_rft_sandbox.endpoint_url, "POST", CONVERSE, body), expected)


@pytest.mark.parametrize(
    ("case", "body", "expected"), RAW_CONVERSE_CASES, ids=[c[0] for c in RAW_CONVERSE_CASES]
)
def test_converse_bodies_that_are_not_plain_json_are_validation_errors(
    bedrock_rft_sandbox: Sandbox, case: str, body: str, expected: str
) -> None:
    _assert_validation(call(bedrock_rft_sandbox.endpoint_url, "POST", CONVERSE, body), expected)


def test_invalid_utf8_is_a_validation_error(bedrock_rft_sandbox: Sandbox) -> None:
    answer = call(bedrock_rft_sandbox.endpoint_url, "POST", CONVERSE, b'{"messages": "\xff\xfe"}')
    _assert_validation(answer, "UTF-8")


def test_every_violation_is_listed_with_a_count(bedrock_rft_sandbox: Sandbox) -> None:
    body = {"messages": [{"role": "robot", "content": "x"}], "inferenceConfig": {"maxTokens": 0}}
    answer = call(bedrock_rft_sandbox.endpoint_url, "POST", CONVERSE, body)
    _assert_validation(answer, "3 validation errors detected: ")
    assert answer.message.count("failed to satisfy constraint") == 3


def test_a_valid_converse_still_answers(bedrock_rft_sandbox: Sandbox) -> None:
    answer = call(
        bedrock_rft_sandbox.endpoint_url,
        "POST",
        CONVERSE,
        {
            "messages": HELLO,
            "inferenceConfig": {"maxTokens": 64, "temperature": 0},
            "additionalModelRequestFields": {"a": [[1]]},
        },
    )
    assert answer.status == 200, answer.body[:300]
    assert json.loads(answer.body)["output"]["message"]["content"][0]["text"]


# ----- CreateModelCustomizationJob ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(bedrock_rft_sandbox: Sandbox) -> World:
    return make_world(bedrock_rft_sandbox)


@pytest.fixture(scope="module")
def grader_arn(world: World) -> str:
    return world.deploy_grader(GRADER_RIGHT_NUMBER)


def _set(request: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(request)
    keys = path.split(".")
    target = changed
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    target[keys[-1]] = value
    return changed


HYPER = "customizationConfig.rftConfig.hyperParameters"
JOB_CASES = [
    ("job-name-number", "jobName", 123, "'jobName' failed to satisfy constraint: Member must be a string"),
    ("epoch-count-string", f"{HYPER}.epochCount", "ten", f"'{HYPER}.epochCount'"),
    ("learning-rate-string", f"{HYPER}.learningRate", "1e-4", "be a finite number"),
    ("batch-size-float", f"{HYPER}.batchSize", 16.5, "be an integer"),
    ("batch-size-bool", f"{HYPER}.batchSize", True, "be an integer"),
    ("training-config-string", "trainingDataConfig", "s3://bucket/train.jsonl", "'trainingDataConfig'"),
    ("validator-string", "validationDataConfig.validators", ["s3://b/v.jsonl"], "validators.1.member"),
    ("grader-config-list", "customizationConfig.rftConfig.graderConfig", [], "graderConfig"),
    ("tags-object", "jobTags", {"key": "a", "value": "b"}, "'jobTags'"),
    ("tag-value-number", "jobTags", [{"key": "team", "value": 7}], "jobTags.1.member.value"),
    ("customization-type-enum", "customizationType", "RLHF", "enum value set"),
    ("job-name-null", "jobName", None, "'jobName' failed to satisfy constraint: Member must not be null"),
]
RAW_JOB_CASES = [
    ("nan-learning-rate", "learningRate", "NaN", "NaN"),
    ("infinite-epochs", "epochCount", "Infinity", "Infinity"),
    ("deep-tags", "deep", _nested(5000), "nests deeper"),
]


@pytest.mark.parametrize(("case", "path", "value", "expected"), JOB_CASES, ids=[c[0] for c in JOB_CASES])
def test_create_job_bodies_violating_the_model_are_validation_errors_and_create_nothing(  # noqa: PLR0917
    bedrock_rft_sandbox: Sandbox,
    world: World,
    grader_arn: str,
    case: str,
    path: str,
    value: Any,
    expected: str,
) -> None:
    request = _set(world.job_request(grader_arn), path, value)
    answer = call(bedrock_rft_sandbox.endpoint_url, "POST", "/model-customization-jobs", request)
    _assert_validation(answer, expected)
    names = [
        j["jobName"]
        for j in bedrock_rft_sandbox.client("bedrock").list_model_customization_jobs()[
            "modelCustomizationJobSummaries"
        ]
    ]
    assert world.job_request(grader_arn)["jobName"] not in names and request.get("jobName") not in names


@pytest.mark.parametrize(
    ("case", "field", "token", "expected"), RAW_JOB_CASES, ids=[c[0] for c in RAW_JOB_CASES]
)
def test_create_job_bodies_that_are_not_plain_json_are_validation_errors(  # noqa: PLR0917
    bedrock_rft_sandbox: Sandbox,
    world: World,
    grader_arn: str,
    case: str,
    field: str,
    token: str,
    expected: str,
) -> None:
    request = world.job_request(grader_arn)
    placeholder = "__RAW__"
    if field == "deep":
        request["jobTags"] = placeholder
    else:
        request["customizationConfig"]["rftConfig"]["hyperParameters"][field] = placeholder
    body = json.dumps(request).replace(f'"{placeholder}"', token)
    _assert_validation(
        call(bedrock_rft_sandbox.endpoint_url, "POST", "/model-customization-jobs", body), expected
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("maxResults=abc", "'maxResults' failed to satisfy constraint: Member must be an integer"),
        ("maxResults=5000", "less than or equal to 1000"),
        ("creationTimeAfter=yesterday", "be a timestamp"),
        ("statusEquals=Running", "enum value set"),
        ("sortOrder=Sideways", "enum value set"),
    ],
)
def test_list_jobs_query_parameters_are_validated(
    bedrock_rft_sandbox: Sandbox, query: str, expected: str
) -> None:
    answer = call(bedrock_rft_sandbox.endpoint_url, "GET", f"/model-customization-jobs?{query}")
    _assert_validation(answer, expected)


def test_sdk_clients_without_parameter_validation_get_the_same_errors(bedrock_rft_sandbox: Sandbox) -> None:
    runtime = bedrock_rft_sandbox.client(
        "bedrock-runtime", config=Config(parameter_validation=False, retries={"max_attempts": 1})
    )
    with pytest.raises(ClientError) as caught:
        runtime.converse(modelId="amazon.nova-2-lite-v1:0", messages=HELLO, inferenceConfig={"maxTokens": -1})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# ----- Lambda Invoke and code uploads ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def echo_function(bedrock_rft_sandbox: Sandbox, world: World) -> str:
    name = unique("echo")
    bedrock_rft_sandbox.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=world.role_arn,
        Handler="bedrock_rft_entry.handler",
        Code={"ZipFile": zip_module("def handler(event, context):\n    return event\n")},
    )
    return name


@pytest.mark.parametrize(
    ("body", "headers", "status", "code", "expected"),
    [
        ('{"x": NaN}', {}, 400, "InvalidRequestContentException", "Could not parse request body into json"),
        (_nested(100_000), {}, 400, "InvalidRequestContentException", "nests deeper"),
        (b"\xff\xfe", {}, 400, "InvalidRequestContentException", "UTF-8"),
        ("{}", {"X-Amz-Invocation-Type": "Sometimes"}, 400, "ValidationException", "enum value set"),
        ("{}", {"X-Amz-Log-Type": "All"}, 400, "ValidationException", "enum value set"),
    ],
    ids=["nan", "deep", "utf8", "invocation-type", "log-type"],
)
def test_lambda_invoke_refuses_bad_requests_like_lambda(  # noqa: PLR0917
    bedrock_rft_sandbox: Sandbox,
    echo_function: str,
    body: str | bytes,
    headers: dict[str, str],
    status: int,
    code: str,
    expected: str,
) -> None:
    path = f"/2015-03-31/functions/{echo_function}/invocations"
    answer = call(bedrock_rft_sandbox.endpoint_url, "POST", path, body, service="lambda", headers=headers)
    assert (answer.status, answer.error_code) == (status, code), answer.body[:300]
    assert expected in answer.message


def test_lambda_invoke_qualifier_is_validated(bedrock_rft_sandbox: Sandbox, echo_function: str) -> None:
    path = f"/2015-03-31/functions/{echo_function}/invocations?Qualifier=no%20spaces"
    answer = call(bedrock_rft_sandbox.endpoint_url, "POST", path, "{}", service="lambda")
    _assert_validation(answer, "'Qualifier'")


# ----- InvokeModel (a blob body: the model's own JSON) -----------------------------------------------------

INVOKE_MODEL = "/model/amazon.nova-2-lite-v1:0/invoke"
NOVA_BODY = '{"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"topP": %s}}'


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (NOVA_BODY % "NaN", {}, "Malformed input request"),
        (_nested(100_000), {}, "Malformed input request"),
        (b"\xff{", {}, "Malformed input request"),
        (NOVA_BODY % "0.9", {"X-Amzn-Bedrock-Trace": "LOUD"}, "enum value set"),
        (NOVA_BODY % "0.9", {"X-Amzn-Bedrock-GuardrailVersion": "v1"}, "regular expression pattern"),
    ],
    ids=["nan", "deep", "utf8", "trace-header", "guardrail-version-header"],
)
def test_invoke_model_refuses_malformed_input_and_headers(
    bedrock_rft_sandbox: Sandbox, body: str | bytes, headers: dict[str, str], expected: str
) -> None:
    answer = call(bedrock_rft_sandbox.endpoint_url, "POST", INVOKE_MODEL, body, headers=headers)
    _assert_validation(answer, expected)


def test_invoke_model_body_over_the_models_25_mb_maximum_is_refused(bedrock_rft_sandbox: Sandbox) -> None:
    body = NOVA_BODY % "0.9"
    body = body[:-1] + ', "padding": "' + "x" * 25_000_000 + '"}'
    _assert_validation(call(bedrock_rft_sandbox.endpoint_url, "POST", INVOKE_MODEL, body), "'body'")


# ----- the other emulated Bedrock operations ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        (
            "POST",
            "/model-customization/custom-model-deployments",
            {"modelDeploymentName": 5, "modelArn": "x"},
            "be a string",
        ),
        ("POST", "/model-customization/custom-model-deployments", {"modelDeploymentName": "d"}, "'modelArn'"),
        (
            "POST",
            "/tagResource",
            {
                "resourceARN": "arn:aws:bedrock:us-east-1:123456789012:custom-model/a.b/abcdefabcdef",
                "tags": [{"key": "a"}],
            },
            "tags.1.member.value",
        ),
        (
            "POST",
            "/untagResource",
            {
                "resourceARN": "arn:aws:bedrock:us-east-1:123456789012:custom-model/a.b/abcdefabcdef",
                "tagKeys": "a",
            },
            "'tagKeys'",
        ),
        ("POST", "/listTagsForResource", {"resourceARN": ["not", "a", "string"]}, "'resourceARN'"),
        ("GET", "/custom-models?maxResults=0", None, "greater than or equal to 1"),
        ("GET", "/model-customization/custom-model-deployments?sortOrder=Up", None, "enum value set"),
    ],
    ids=[
        "deployment-name-number",
        "deployment-no-model",
        "tag-without-value",
        "untag-keys-string",
        "list-tags-arn-list",
        "list-models-max-0",
        "list-deployments-sort",
    ],
)
def test_other_emulated_operations_validate_their_requests(
    bedrock_rft_sandbox: Sandbox, method: str, path: str, body: dict[str, Any] | None, expected: str
) -> None:
    _assert_validation(call(bedrock_rft_sandbox.endpoint_url, method, path, body), expected)
