"""Our name/ARN patterns against botocore's service models (issue 11 item 4).

``jobs/validation.py`` is the one home of the Bedrock request patterns (the sandbox's checks import
it): they must equal the bedrock model's, member by member. ``rewards/packaging.py`` keeps its own Lambda
patterns because it ships inside the Lambda zip and may import nothing else from the package (DESIGN
rule 2); they check a different API (Lambda CreateFunction/CreateAlias), and may be stricter than the
lambda model (64-character names, as the Lambda docs say) but must never accept what it rejects.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session
import pytest

from bedrock_rft_provider.jobs import validation
from bedrock_rft_provider.rewards import packaging
from bedrock_rft_provider.sandbox import checks


@cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def _member_pattern(service: str, operation: str, *path: str) -> str:
    shape = _model(service).operation_model(operation).input_shape
    for name in path:
        shape = shape.member if name == "[]" else shape.members[name]
    return str(shape.metadata["pattern"])


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
    if packaging.ROLE_ARN.fullmatch(value):
        assert _lambda("CreateFunction", "Role").fullmatch(value)


@pytest.mark.parametrize("value", FUNCTIONS)
def test_the_function_name_check_never_accepts_what_lambda_rejects(value: str) -> None:
    if packaging.LAMBDA_NAME.fullmatch(value) or packaging.LAMBDA_ARN.fullmatch(value):
        assert _lambda("CreateFunction", "FunctionName").fullmatch(value)


@pytest.mark.parametrize("value", ALIASES)
def test_the_alias_check_agrees_with_lambda(value: str) -> None:
    """Same pattern as the lambda model's, plus its 128-character maximum."""
    model = _lambda("CreateAlias", "Name").fullmatch(value) and len(value) <= 128
    assert bool(packaging.ALIAS_NAME.fullmatch(value)) == bool(model)
