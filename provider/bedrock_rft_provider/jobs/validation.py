"""Field checks for Bedrock requests: the patterns and limits the service enforces, applied locally.

botocore checks types, required members and minimums only; the service checks maxima and patterns
after the request has left. Every check here names the field and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from bedrock_rft_provider.errors import ConfigError

# Patterns and maximum lengths from botocore's bedrock 2023-04-20 service model (fullmatch semantics);
# tests/unit/jobs/test_patterns_match_botocore.py holds them equal, member by member.
JOB_NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*"
CUSTOM_MODEL_NAME_PATTERN = r"([0-9a-zA-Z][_-]?){1,63}"
NAME_MAX_LENGTH = 63
ROLE_ARN_PATTERN = r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+"
LAMBDA_ARN_PATTERN = (
    r"arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_\.]+"
    r"(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
S3_URI_PATTERN = (
    r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?"
)
KMS_KEY_PATTERN = (
    r"(arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:((key/[a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)))"
    r"|([a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)"
)
BASE_MODEL_PATTERN = (
    r"(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:(([0-9]{12}:custom-model/([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}"
    r"([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})/[a-z0-9]{12})|(:foundation-model/[a-z0-9-]{1,63}[.]{1}"
    r"[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2})))|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})"
    r"([:][a-z0-9-]{1,63}){0,2})|(([0-9a-zA-Z][_-]?)+)"
)
CLIENT_TOKEN_PATTERN = r"[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?"
CUSTOM_MODEL_ARN_PATTERN = (  # CreateCustomModelDeployment.modelArn
    r"arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model/"
    r"(imported|[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([a-z0-9-]{1,63}[.]){0,2}[a-z0-9-]{1,63}"
    r"([:][a-z0-9-]{1,63}){0,2})/[a-z0-9]{12}"
)
TAG_PATTERN = r"[a-zA-Z0-9\s._:/=+@-]*"
VPC_ID_PATTERN = r"[-0-9a-zA-Z]+"
MAX_TAGS = 200
TAG_KEY_MAX_LENGTH = 128
TAG_VALUE_MAX_LENGTH = 256
MAX_VALIDATORS = 10
MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5
VPC_ID_MAX_LENGTH = 32


@dataclass(frozen=True)
class FieldRule:
    """A string member's service rule: a pattern (matched against the whole value) and a maximum length.

    ``check`` applies it client-side with a message naming the field; the sandbox applies the same rule
    service-side in the service's wording.
    """

    pattern: str
    max_length: int
    description: str

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    def matches(self, value: str) -> bool:
        """True for a non-empty value of at most ``max_length`` characters that matches the pattern."""
        return 0 < len(value) <= self.max_length and self.regex.fullmatch(value) is not None

    def check(self, field: str, value: Any) -> str:
        """``value`` if it is a non-empty string of at most ``max_length`` that matches; else ConfigError."""
        if not isinstance(value, str):
            raise ConfigError(field, f"must be a string, got {type(value).__name__} {value!r}")
        if not value:
            raise ConfigError(field, "is required and must not be empty")
        if len(value) > self.max_length:
            raise ConfigError(
                field, f"{value!r} is {len(value)} characters; the maximum is {self.max_length}"
            )
        if not self.regex.fullmatch(value):
            raise ConfigError(field, f"{value!r} does not match {self.description} (pattern {self.pattern})")
        return value


JOB_NAME = FieldRule(
    JOB_NAME_PATTERN,
    NAME_MAX_LENGTH,
    "a job name: letters, digits, '-', '+', '.'; starting with a letter or digit; no '_'",
)
CUSTOM_MODEL_NAME = FieldRule(
    CUSTOM_MODEL_NAME_PATTERN,
    NAME_MAX_LENGTH,
    "a custom model name: letters and digits, single '_' or '-' between them",
)
# CreateCustomModelDeployment's modelDeploymentName has the custom model name's pattern and length.
DEPLOYMENT_NAME = CUSTOM_MODEL_NAME
ROLE_ARN = FieldRule(ROLE_ARN_PATTERN, 2048, "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
LAMBDA_ARN = FieldRule(
    LAMBDA_ARN_PATTERN,
    512,
    "a full Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER])",
)
S3_URI = FieldRule(S3_URI_PATTERN, 1024, "an S3 URI (s3://bucket/key)")
KMS_KEY = FieldRule(KMS_KEY_PATTERN, 2048, "a KMS key id, key ARN or alias")
BASE_MODEL = FieldRule(
    BASE_MODEL_PATTERN, 2048, "a foundation model id or ARN (e.g. amazon.nova-2-lite-v1:0:256k)"
)
CLIENT_TOKEN = FieldRule(CLIENT_TOKEN_PATTERN, 256, "an idempotency token")
CUSTOM_MODEL_ARN = FieldRule(
    CUSTOM_MODEL_ARN_PATTERN, 1011, "a custom model ARN (arn:aws:bedrock:REGION:ACCOUNT:custom-model/...)"
)

check_job_name = JOB_NAME.check
check_custom_model_name = CUSTOM_MODEL_NAME.check
check_role_arn = ROLE_ARN.check
check_lambda_arn = LAMBDA_ARN.check
check_s3_uri = S3_URI.check
check_kms_key_id = KMS_KEY.check
check_base_model = BASE_MODEL.check
check_client_token = CLIENT_TOKEN.check


def check_tags(field: str, tags: Any) -> list[dict[str, str]]:
    """Accept ``{"k": "v"}`` or ``[{"key": k, "value": v}]``; return the API's list form."""
    if tags is None:
        return []
    if isinstance(tags, Mapping):
        items = [{"key": k, "value": v} for k, v in tags.items()]
    elif isinstance(tags, list):
        items = list(tags)
    else:
        raise ConfigError(field, f"must be a dict of key -> value, got {type(tags).__name__}")
    if len(items) > MAX_TAGS:
        raise ConfigError(field, f"has {len(items)} tags; the maximum is {MAX_TAGS}")
    rendered = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or set(item) != {"key", "value"}:
            raise ConfigError(f"{field}[{i}]", "must be {'key': ..., 'value': ...}")
        key, value = item["key"], item["value"]
        if (
            not isinstance(key, str)
            or not 1 <= len(key) <= TAG_KEY_MAX_LENGTH
            or not re.fullmatch(TAG_PATTERN, key)
        ):
            raise ConfigError(
                f"{field}[{i}].key", f"{key!r} must be 1-{TAG_KEY_MAX_LENGTH} characters of {TAG_PATTERN}"
            )
        if (
            not isinstance(value, str)
            or len(value) > TAG_VALUE_MAX_LENGTH
            or not re.fullmatch(TAG_PATTERN, value)
        ):
            raise ConfigError(
                f"{field}[{key}]",
                f"{value!r} must be a string of at most {TAG_VALUE_MAX_LENGTH} characters of {TAG_PATTERN}",
            )
        rendered.append({"key": key, "value": value})
    return rendered


def check_vpc_config(field: str, vpc: Any) -> dict[str, list[str]] | None:
    """Return the API's ``vpcConfig`` or None; names the bad subnet or security group."""
    if vpc is None:
        return None
    if not isinstance(vpc, Mapping):
        raise ConfigError(field, "must be a dict with subnet_ids and security_group_ids")
    rendered: dict[str, list[str]] = {}
    for api_key, aliases, max_items in (
        ("subnetIds", ("subnet_ids", "subnetIds"), MAX_SUBNETS),
        ("securityGroupIds", ("security_group_ids", "securityGroupIds"), MAX_SECURITY_GROUPS),
    ):
        values = next((vpc[a] for a in aliases if a in vpc), None)
        if not isinstance(values, list) or not 1 <= len(values) <= max_items:
            raise ConfigError(f"{field}.{aliases[0]}", f"must be a list of 1 to {max_items} ids")
        for value in values:
            if (
                not isinstance(value, str)
                or not 1 <= len(value) <= VPC_ID_MAX_LENGTH
                or not re.fullmatch(VPC_ID_PATTERN, value)
            ):
                raise ConfigError(f"{field}.{aliases[0]}", f"{value!r} is not a valid id")
        rendered[api_key] = list(values)
    unknown = set(vpc) - {"subnet_ids", "subnetIds", "security_group_ids", "securityGroupIds"}
    if unknown:
        raise ConfigError(field, f"unknown keys {sorted(unknown)}; allowed: subnet_ids, security_group_ids")
    return rendered
