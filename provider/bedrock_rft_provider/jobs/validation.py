"""Field checks for Bedrock requests: the patterns and limits the service enforces, applied locally.

botocore checks types, required members and minimums only; the service checks maxima and patterns
after the request has left. Every check here names the field and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from bedrock_rft_provider.errors import ConfigError

# Patterns from botocore's bedrock 2023-04-20 service model (fullmatch semantics).
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
TAG_PATTERN = r"[a-zA-Z0-9\s._:/=+@-]*"
VPC_ID_PATTERN = r"[-0-9a-zA-Z]+"
MAX_TAGS = 200
MAX_VALIDATORS = 10


def _pattern_check(pattern: str, description: str, max_length: int) -> Callable[[str, Any], str]:
    compiled = re.compile(pattern)

    def check(field: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ConfigError(field, f"must be a string, got {type(value).__name__} {value!r}")
        if not value:
            raise ConfigError(field, "is required and must not be empty")
        if len(value) > max_length:
            raise ConfigError(field, f"{value!r} is {len(value)} characters; the maximum is {max_length}")
        if not compiled.fullmatch(value):
            raise ConfigError(field, f"{value!r} does not match {description} (pattern {pattern})")
        return value

    return check


check_job_name = _pattern_check(
    JOB_NAME_PATTERN,
    "a job name: letters, digits, '-', '+', '.'; starting with a letter or digit; no '_'",
    NAME_MAX_LENGTH,
)
check_custom_model_name = _pattern_check(
    CUSTOM_MODEL_NAME_PATTERN,
    "a custom model name: letters and digits, single '_' or '-' between them",
    NAME_MAX_LENGTH,
)
check_role_arn = _pattern_check(ROLE_ARN_PATTERN, "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", 2048)
check_lambda_arn = _pattern_check(
    LAMBDA_ARN_PATTERN,
    "a full Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER])",
    512,
)
check_s3_uri = _pattern_check(S3_URI_PATTERN, "an S3 URI (s3://bucket/key)", 1024)
check_kms_key_id = _pattern_check(KMS_KEY_PATTERN, "a KMS key id, key ARN or alias", 2048)
check_base_model = _pattern_check(
    BASE_MODEL_PATTERN, "a foundation model id or ARN (e.g. amazon.nova-2-lite-v1:0:256k)", 2048
)
check_client_token = _pattern_check(CLIENT_TOKEN_PATTERN, "an idempotency token", 256)


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
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or not re.fullmatch(TAG_PATTERN, key):
            raise ConfigError(f"{field}[{i}].key", f"{key!r} must be 1-128 characters of {TAG_PATTERN}")
        if not isinstance(value, str) or len(value) > 256 or not re.fullmatch(TAG_PATTERN, value):
            raise ConfigError(
                f"{field}[{key}]", f"{value!r} must be a string of at most 256 characters of {TAG_PATTERN}"
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
        ("subnetIds", ("subnet_ids", "subnetIds"), 16),
        ("securityGroupIds", ("security_group_ids", "securityGroupIds"), 5),
    ):
        values = next((vpc[a] for a in aliases if a in vpc), None)
        if not isinstance(values, list) or not 1 <= len(values) <= max_items:
            raise ConfigError(f"{field}.{aliases[0]}", f"must be a list of 1 to {max_items} ids")
        for value in values:
            if (
                not isinstance(value, str)
                or not 1 <= len(value) <= 32
                or not re.fullmatch(VPC_ID_PATTERN, value)
            ):
                raise ConfigError(f"{field}.{aliases[0]}", f"{value!r} is not a valid id")
        rendered[api_key] = list(values)
    unknown = set(vpc) - {"subnet_ids", "subnetIds", "security_group_ids", "securityGroupIds"}
    if unknown:
        raise ConfigError(field, f"unknown keys {sorted(unknown)}; allowed: subnet_ids, security_group_ids")
    return rendered
