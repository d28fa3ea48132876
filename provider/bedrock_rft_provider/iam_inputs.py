"""Checked inputs of the IAM policies (``bedrock_rft_provider.iam``) and the ARNs they name.

Every input is checked before a policy is built, and a wildcard (``*``, ``?``) or a policy variable
(``${...}``) in any input is refused with a ValueError naming the input, so no input can widen a policy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

ACCOUNT_PLACEHOLDER = "ACCOUNT_ID"
_FUNCTION_ARN = re.compile(
    r"arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:(?P<name>[\w-]+)"
    r"(?::[\w$-]+)?"
)
_GEO_PREFIXES = ("us.", "eu.", "apac.", "us-gov.", "ca.", "jp.", "au.", "global.")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
_MODEL_ID = re.compile(r"[a-z0-9][a-z0-9.:_-]{0,199}")
_MODEL_ARN = re.compile(
    r"arn:aws[a-z-]*:bedrock:[a-z0-9-]+:(?:\d{12})?:(?:foundation-model|inference-profile|"
    r"application-inference-profile|custom-model-deployment|provisioned-model|imported-model)/[A-Za-z0-9.:_/-]+"
)
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_TOPIC_NAME = r"[A-Za-z0-9_-]{1,256}"  # standard topics: the notifier sends no FIFO message group id
_TOPIC_ARN = re.compile(rf"arn:(?P<partition>aws[a-z-]*):sns:[a-z0-9-]+:\d{{12}}:{_TOPIC_NAME}")
_WILDCARDS = ("*", "?", "${")


@dataclass(frozen=True)
class Scope:
    """Where the resources live."""

    account: str = ACCOUNT_PLACEHOLDER
    region: str = "us-east-1"
    partition: str = "aws"


def refuse_wildcards(field: str, value: str) -> None:
    """No input may widen a policy: ``*``/``?`` are IAM wildcards and ``${...}`` a policy variable."""
    found = [w for w in _WILDCARDS if w in value]
    if found:
        raise ValueError(
            f"{field} {value!r} contains {found[0]!r}: wildcards and policy variables are not allowed here; "
            f"name the exact {field}"
        )


def function_arn(reward_function: str, scope: Scope) -> tuple[str, Scope]:
    """The unqualified ARN of a grader given by name or ARN, and the scope an ARN implies."""
    refuse_wildcards("reward function", reward_function)
    match = _FUNCTION_ARN.fullmatch(reward_function)
    if match:
        scope = Scope(match["account"], match["region"], match["partition"])
        return (
            f"arn:{scope.partition}:lambda:{scope.region}:{scope.account}:function:{match['name']}",
            scope,
        )
    if not re.fullmatch(r"[\w-]{1,64}", reward_function):
        raise ValueError(f"reward function {reward_function!r} is neither a function name nor a function ARN")
    return f"arn:{scope.partition}:lambda:{scope.region}:{scope.account}:function:{reward_function}", scope


def topic_arn(topic: str, scope: Scope) -> str:
    """The ARN of a notification topic given by name (in ``scope``) or by ARN (taken as it is: another
    account or region may be meant, another partition cannot: an identity policy never reaches it)."""
    refuse_wildcards("notify topic", topic)
    match = _TOPIC_ARN.fullmatch(topic)
    if match:
        if match["partition"] != scope.partition:
            raise ValueError(
                f"notify topic {topic!r} is in partition {match['partition']}, but the policies are for "
                f"{scope.partition}: a policy cannot grant a topic of another partition"
            )
        return topic
    if not re.fullmatch(_TOPIC_NAME, topic):
        raise ValueError(f"notify topic {topic!r} is neither a standard SNS topic name nor a topic ARN")
    return f"arn:{scope.partition}:sns:{scope.region}:{scope.account}:{topic}"


def judge_model_arns(model_id: str, scope: Scope) -> list[str]:
    """ARNs a judge call on ``model_id`` needs: the foundation model, or an inference profile and models.

    A cross-region inference profile (``us.``, ``eu.``, ...) routes to the model in any region of its
    geography, so the foundation-model ARN of such a profile has a ``*`` region (never an account).
    """
    refuse_wildcards("judge model", model_id)
    if model_id.startswith("arn:"):
        if not _MODEL_ARN.fullmatch(model_id):
            raise ValueError(f"judge model {model_id!r} is not a Bedrock model or inference-profile ARN")
        return [model_id]
    if not _MODEL_ID.fullmatch(model_id):
        raise ValueError(f"judge model {model_id!r} is not a Bedrock model id (e.g. amazon.nova-lite-v1:0)")
    if model_id.startswith(_GEO_PREFIXES):
        base = model_id.split(".", 1)[1]
        return [
            f"arn:{scope.partition}:bedrock:{scope.region}:{scope.account}:inference-profile/{model_id}",
            f"arn:{scope.partition}:bedrock:*::foundation-model/{base}",
        ]
    return [f"arn:{scope.partition}:bedrock:{scope.region}::foundation-model/{model_id}"]


def key_prefix(field: str, prefix: str) -> str:
    """``a/b/`` for ``/a/b``; refuses wildcards, policy variables and control characters."""
    refuse_wildcards(field, prefix)
    if any(ord(c) < 32 for c in prefix) or len(prefix) > 1024:
        raise ValueError(f"{field} {prefix!r} is not an S3 key prefix (at most 1024 printable characters)")
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def check_inputs(bucket: str, account: str | None, region: str, role_names: Sequence[str]) -> None:
    """Raise ValueError naming the first input that is not a plain bucket, account, region or role."""
    refuse_wildcards("bucket", bucket)
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise ValueError(f"bucket {bucket!r} is not a valid S3 bucket name")
    if account is not None:
        refuse_wildcards("account", account)
        if not re.fullmatch(r"\d{12}", account):
            raise ValueError(f"account {account!r} must be a 12-digit AWS account id")
    refuse_wildcards("region", region)
    if not _REGION.fullmatch(region):
        raise ValueError(f"region {region!r} is not an AWS region name (e.g. us-east-1)")
    for name in role_names:
        refuse_wildcards("role name", name)
        if not _ROLE_NAME.fullmatch(name):
            raise ValueError(f"role name {name!r} is not an IAM role name (1-64 of letters, digits, +=,.@_-)")
