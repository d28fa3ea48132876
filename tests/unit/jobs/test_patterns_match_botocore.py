"""Our name/ARN patterns against botocore's service models (issue 11 item 4).

``jobs/validation.py`` is the one home of the Bedrock request rules (the sandbox's checks import it):
their patterns and maximum lengths must equal the bedrock model's, member by member, and every rule it
defines is compared. ``jobs/grader_lambda.py`` holds the grader Lambda's settings (a different API,
Lambda CreateFunction/CreateAlias; checked in the operator, so no longer inside ``rewards/``): they may
be stricter than the lambda model (64-character names, as the Lambda docs say) but must never accept
what it rejects.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session
import pytest

from bedrock_rft_provider.jobs import grader_lambda, validation
from bedrock_rft_provider.jobs.validation import FieldRule
from bedrock_rft_provider.sandbox import checks


@cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def _member(service: str, operation: str, *path: str) -> Any:
    shape = _model(service).operation_model(operation).input_shape
    for name in path:
        shape = shape.member if name == "[]" else shape.members[name]
    return shape


def _member_pattern(service: str, operation: str, *path: str) -> str:
    return str(_member(service, operation, *path).metadata["pattern"])


def _max(service: str, operation: str, *path: str) -> int:
    return int(_member(service, operation, *path).metadata["max"])


@pytest.mark.parametrize(
    ("ours", "path"),
    [
        (validation.JOB_NAME_PATTERN, ("jobName",)),
        (validation.CUSTOM_MODEL_NAME_PATTERN, ("customModelName",)),
        (validation.ROLE_ARN_PATTERN, ("roleArn",)),
        (validation.CLIENT_TOKEN_PATTERN, ("clientRequestToken",)),
        (validation.BASE_MODEL_PATTERN, ("baseModelIdentifier",)),
        (validation.KMS_KEY_PATTERN, ("customModelKmsKeyId",)),
        (validation.TAG_PATTERN, ("jobTags", "[]", "key")),
        (validation.TAG_PATTERN, ("jobTags", "[]", "value")),
        (validation.S3_URI_PATTERN, ("trainingDataConfig", "s3Uri")),
        (validation.S3_URI_PATTERN, ("outputDataConfig", "s3Uri")),
        (validation.VPC_ID_PATTERN, ("vpcConfig", "subnetIds", "[]")),
        (
            validation.LAMBDA_ARN_PATTERN,
            ("customizationConfig", "rftConfig", "graderConfig", "lambdaGrader", "lambdaArn"),
        ),
    ],
    ids=lambda value: ".".join(value) if isinstance(value, tuple) else "",
)
def test_bedrock_patterns_are_the_service_models(ours: str, path: tuple[str, ...]) -> None:
    assert ours == _member_pattern("bedrock", "CreateModelCustomizationJob", *path)


def test_the_sandbox_checks_use_the_same_patterns() -> None:
    assert checks.ROLE_ARN.pattern == validation.ROLE_ARN_PATTERN
    assert checks.LAMBDA_ARN.pattern == validation.LAMBDA_ARN_PATTERN
    assert checks.JOB_NAME.pattern == validation.JOB_NAME_PATTERN
    assert checks.S3_URI.pattern == validation.S3_URI_PATTERN


ROLES = [
    "arn:aws:iam::123456789012:role/BedrockRFTGraderRole",
    "arn:aws:iam::123456789012:role/service-role/my.role+x=y,z@w",
    "arn:aws-us-gov:iam::123456789012:role/r",
    "arn:aws:iam::123456789012:role/r\u00e9le",  # a non-ASCII letter: \w would accept it
    "arn:aws:iam::123456789012:role/",
    "arn:aws:iam::12345678901:role/r",
    "arn:aws:iam::123456789012:user/u",
    "arn:aws:iam::123456789012:role/a b",
]
FUNCTIONS = [
    "reward-grader",
    "reward_grader_2",
    "a" * 64,
    "a" * 65,
    "arn:aws:lambda:us-east-1:123456789012:function:grader",
    "grader.v2",
    "gr\u00e4der",
    "",
]
ALIASES = ["live", "v-2_x", "123", "a" * 128, "a" * 129, "li ve", "l\u00efve"]


def _lambda(operation: str, member: str) -> re.Pattern[str]:
    return re.compile(_member_pattern("lambda", operation, member))


@pytest.mark.parametrize("value", ROLES)
def test_the_grader_role_check_never_accepts_what_lambda_rejects(value: str) -> None:
    if grader_lambda.EXECUTION_ROLE_ARN.matches(value):
        assert _lambda("CreateFunction", "Role").fullmatch(value)


@pytest.mark.parametrize("value", FUNCTIONS)
def test_the_function_name_check_never_accepts_what_lambda_rejects(value: str) -> None:
    if grader_lambda.FUNCTION_NAME.matches(value) or grader_lambda.FUNCTION_ARN.matches(value):
        assert _lambda("CreateFunction", "FunctionName").fullmatch(value)


@pytest.mark.parametrize("value", ALIASES)
def test_the_alias_check_agrees_with_lambda(value: str) -> None:
    """Same pattern as the lambda model's, plus its 128-character maximum."""
    model = _lambda("CreateAlias", "Name").fullmatch(value) and len(value) <= 128
    assert bool(grader_lambda.ALIAS_NAME.matches(value)) == bool(model)


JOB = ("bedrock", "CreateModelCustomizationJob")
DEPLOYMENT = ("bedrock", "CreateCustomModelDeployment")
LAMBDA_ARN_PATH = ("customizationConfig", "rftConfig", "graderConfig", "lambdaGrader", "lambdaArn")
# Every FieldRule in jobs/validation.py, with each request member it checks.
BEDROCK_RULES: list[tuple[str, tuple[str, str], tuple[str, ...]]] = [
    ("JOB_NAME", JOB, ("jobName",)),
    ("CUSTOM_MODEL_NAME", JOB, ("customModelName",)),
    ("ROLE_ARN", JOB, ("roleArn",)),
    ("CLIENT_TOKEN", JOB, ("clientRequestToken",)),
    ("BASE_MODEL", JOB, ("baseModelIdentifier",)),
    ("KMS_KEY", JOB, ("customModelKmsKeyId",)),
    ("S3_URI", JOB, ("trainingDataConfig", "s3Uri")),
    ("S3_URI", JOB, ("outputDataConfig", "s3Uri")),
    ("S3_URI", JOB, ("validationDataConfig", "validators", "[]", "s3Uri")),
    ("LAMBDA_ARN", JOB, LAMBDA_ARN_PATH),
    ("DEPLOYMENT_NAME", DEPLOYMENT, ("modelDeploymentName",)),
    ("CUSTOM_MODEL_ARN", DEPLOYMENT, ("modelArn",)),
    ("CLIENT_TOKEN", DEPLOYMENT, ("clientRequestToken",)),
]


@pytest.mark.parametrize(
    ("name", "operation", "path"), BEDROCK_RULES, ids=[f"{r[0]}-{'.'.join(r[2])}" for r in BEDROCK_RULES]
)
def test_each_bedrock_rule_has_the_service_models_pattern_and_maximum_length(
    name: str, operation: tuple[str, str], path: tuple[str, ...]
) -> None:
    rule = getattr(validation, name)
    assert rule.pattern == _member_pattern(*operation, *path)
    assert rule.max_length == _max(*operation, *path)


def test_every_rule_jobs_validation_defines_is_compared() -> None:
    defined = {name for name, value in vars(validation).items() if isinstance(value, FieldRule)}
    assert defined == {name for name, _, _ in BEDROCK_RULES}


def test_tag_and_vpc_limits_are_the_service_models() -> None:
    assert _max(*JOB, "jobTags", "[]", "key") == validation.TAG_KEY_MAX_LENGTH
    assert _max(*JOB, "jobTags", "[]", "value") == validation.TAG_VALUE_MAX_LENGTH
    assert validation.MAX_TAGS == _max(*JOB, "jobTags") == _max(*JOB, "customModelTags")
    assert _max(*DEPLOYMENT, "tags") == validation.MAX_TAGS
    assert _max(*JOB, "validationDataConfig", "validators") == validation.MAX_VALIDATORS
    assert _max(*JOB, "vpcConfig", "subnetIds") == validation.MAX_SUBNETS
    assert _max(*JOB, "vpcConfig", "securityGroupIds") == validation.MAX_SECURITY_GROUPS
    for member in ("subnetIds", "securityGroupIds"):
        assert _member_pattern(*JOB, "vpcConfig", member, "[]") == validation.VPC_ID_PATTERN
        assert _max(*JOB, "vpcConfig", member, "[]") == validation.VPC_ID_MAX_LENGTH


@pytest.mark.parametrize(
    ("rule", "member"),
    [
        (grader_lambda.FUNCTION_NAME, ("CreateFunction", "FunctionName")),
        (grader_lambda.FUNCTION_ARN, ("CreateFunction", "FunctionName")),
        (grader_lambda.EXECUTION_ROLE_ARN, ("CreateFunction", "Role")),
        (grader_lambda.ALIAS_NAME, ("CreateAlias", "Name")),
    ],
    ids=["function-name", "function-arn", "role", "alias"],
)
def test_each_grader_lambda_rule_is_no_longer_than_the_lambda_model_allows(
    rule: FieldRule, member: tuple[str, str]
) -> None:
    assert rule.max_length <= _max("lambda", *member)


def test_the_alias_rule_is_the_lambda_models() -> None:
    assert grader_lambda.ALIAS_NAME.pattern == _member_pattern("lambda", "CreateAlias", "Name")
    assert grader_lambda.ALIAS_NAME.max_length == _max("lambda", "CreateAlias", "Name")


def test_the_grader_limits_are_within_the_lambda_models() -> None:
    timeout = _member("lambda", "CreateFunction", "Timeout").metadata
    memory = _member("lambda", "CreateFunction", "MemorySize").metadata
    assert timeout["min"] == 1 and timeout["max"] >= grader_lambda.MAX_TIMEOUT_S
    assert memory["min"] == grader_lambda.MIN_MEMORY_MB and memory["max"] >= grader_lambda.MAX_MEMORY_MB


def test_every_python_runtime_lambda_offers_passes_the_runtime_check() -> None:
    offered = [r for r in _member("lambda", "CreateFunction", "Runtime").enum if r.startswith("python3.1")]
    assert offered and all(grader_lambda.RUNTIME.fullmatch(runtime) for runtime in offered)
