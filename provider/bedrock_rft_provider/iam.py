"""Least-privilege IAM policies for Bedrock RFT: the service role, the grader's role, the Airflow caller.

Pure functions returning policy documents (facts §5): the Bedrock service role is trusted by
``bedrock.amazonaws.com`` only for model customization jobs of one account (``aws:SourceAccount`` and
``aws:SourceArn``); it may read the training data, write the output prefix and invoke the grader. The
grader's execution role may write its own logs and, for an LLM judge, invoke the judge model only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

VERSION = "2012-10-17"
ACCOUNT_PLACEHOLDER = "ACCOUNT_ID"
_FUNCTION_ARN = re.compile(
    r"arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:(?P<name>[\w-]+)"
    r"(?::[\w$-]+)?"
)
GRADER_DEPLOY_ACTIONS = [
    "lambda:CreateFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:PublishVersion",
    "lambda:ListVersionsByFunction",
    "lambda:GetAlias",
    "lambda:CreateAlias",
    "lambda:UpdateAlias",
    "lambda:InvokeFunction",
]
RFT_JOB_ACTIONS = [
    "bedrock:CreateModelCustomizationJob",
    "bedrock:GetModelCustomizationJob",
    "bedrock:StopModelCustomizationJob",
    "bedrock:TagResource",
    # Data-level reuse reads the training-key tag of earlier jobs.
    "bedrock:ListTagsForResource",
]
_GEO_PREFIXES = ("us.", "eu.", "apac.", "us-gov.", "ca.", "jp.", "au.", "global.")


@dataclass(frozen=True)
class Scope:
    """Where the resources live."""

    account: str = ACCOUNT_PLACEHOLDER
    region: str = "us-east-1"
    partition: str = "aws"


def _statement(sid: str, actions: Sequence[str], resources: Sequence[str], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": list(resources), **extra}


def function_arn(reward_function: str, scope: Scope) -> tuple[str, Scope]:
    """The unqualified ARN of a grader given by name or ARN, and the scope an ARN implies."""
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


def bedrock_service_role_trust_policy(scope: Scope) -> dict[str, Any]:
    """Trust policy: Bedrock may assume the role, only for this account's model customization jobs."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "bedrock.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": scope.account},
                    "ArnEquals": {
                        "aws:SourceArn": (
                            f"arn:{scope.partition}:bedrock:{scope.region}:{scope.account}:model-customization-job/*"
                        )
                    },
                },
            }
        ],
    }


def _prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def bedrock_service_role_permissions(
    bucket: str, grader_arn: str, scope: Scope, *, data_prefix: str = "", output_prefix: str = ""
) -> dict[str, Any]:
    """Permissions: read the data prefix, read/write the output prefix, invoke the grader (any version)."""
    bucket_arn = f"arn:{scope.partition}:s3:::{bucket}"
    data, output = _prefix(data_prefix), _prefix(output_prefix)
    prefixes = sorted({f"{data}*", f"{output}*"})
    return {
        "Version": VERSION,
        "Statement": [
            _statement("ReadTrainingData", ["s3:GetObject"], [f"{bucket_arn}/{data}*"]),
            _statement(
                "ListDataAndOutput",
                ["s3:ListBucket"],
                [bucket_arn],
                Condition={"StringLike": {"s3:prefix": prefixes}},
            ),
            _statement("WriteOutput", ["s3:GetObject", "s3:PutObject"], [f"{bucket_arn}/{output}*"]),
            _statement("InvokeGrader", ["lambda:InvokeFunction"], [grader_arn, f"{grader_arn}:*"]),
        ],
    }


def judge_model_arns(model_id: str, scope: Scope) -> list[str]:
    """ARNs a judge call on ``model_id`` needs: the foundation model, or an inference profile and models."""
    if model_id.startswith("arn:"):
        return [model_id]
    if model_id.startswith(_GEO_PREFIXES):
        base = model_id.split(".", 1)[1]
        return [
            f"arn:{scope.partition}:bedrock:{scope.region}:{scope.account}:inference-profile/{model_id}",
            f"arn:{scope.partition}:bedrock:*::foundation-model/{base}",
        ]
    return [f"arn:{scope.partition}:bedrock:{scope.region}::foundation-model/{model_id}"]


def grader_trust_policy() -> dict[str, Any]:
    """Trust policy of the grader's execution role: Lambda only."""
    return {
        "Version": VERSION,
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }


def grader_permissions(function_name: str, scope: Scope, judge_models: Sequence[str] = ()) -> dict[str, Any]:
    """Permissions of the grader's execution role: its own logs, and the judge model(s) only."""
    log_group = (
        f"arn:{scope.partition}:logs:{scope.region}:{scope.account}:log-group:/aws/lambda/{function_name}"
    )
    statements = [
        _statement("CreateLogGroup", ["logs:CreateLogGroup"], [log_group]),
        _statement("WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group}:*"]),
    ]
    if judge_models:
        resources = sorted({arn for model in judge_models for arn in judge_model_arns(model, scope)})
        statements.append(_statement("InvokeJudgeModel", ["bedrock:InvokeModel"], resources))
    return {"Version": VERSION, "Statement": statements}


def airflow_caller_permissions(
    bucket: str, grader_arn: str, scope: Scope, role_names: Sequence[str]
) -> dict[str, Any]:
    """What the Airflow AWS connection needs to deploy the grader and run, watch and stop RFT jobs."""
    bucket_arn = f"arn:{scope.partition}:s3:::{bucket}"
    bedrock = f"arn:{scope.partition}:bedrock:{scope.region}:{scope.account}"
    roles = [f"arn:{scope.partition}:iam::{scope.account}:role/{name}" for name in role_names]
    return {
        "Version": VERSION,
        "Statement": [
            _statement(
                "PassRoles",
                ["iam:PassRole"],
                roles,
                Condition={
                    "StringEquals": {"iam:PassedToService": ["bedrock.amazonaws.com", "lambda.amazonaws.com"]}
                },
            ),
            _statement(
                "DeployAndInvokeGrader",
                GRADER_DEPLOY_ACTIONS,
                [grader_arn, f"{grader_arn}:*"],
            ),
            _statement(
                "RunRFTJobs",
                RFT_JOB_ACTIONS,
                [
                    f"{bedrock}:model-customization-job/*",
                    f"{bedrock}:custom-model/*",
                    f"{bedrock}::foundation-model/*",
                ],
            ),
            _statement("ListRFTJobs", ["bedrock:ListModelCustomizationJobs"], ["*"]),
            _statement("DataAndOutput", ["s3:GetObject", "s3:PutObject"], [f"{bucket_arn}/*"]),
            _statement("ListBucket", ["s3:ListBucket"], [bucket_arn]),
        ],
    }


def policy_bundle(
    *,
    bucket: str,
    reward_function: str,
    account: str | None = None,
    region: str = "us-east-1",
    judge_models: Sequence[str] = (),
    data_prefix: str = "",
    output_prefix: str = "",
    service_role_name: str = "BedrockRFTServiceRole",
    grader_role_name: str = "BedrockRFTGraderRole",
) -> dict[str, Any]:
    """Every policy an RFT setup needs, keyed by role: trust and permission documents."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise ValueError(f"bucket {bucket!r} is not a valid S3 bucket name")
    if account is not None and not re.fullmatch(r"\d{12}", account):
        raise ValueError(f"account {account!r} must be a 12-digit AWS account id")
    grader_arn, scope = function_arn(reward_function, Scope(account or ACCOUNT_PLACEHOLDER, region))
    if account is not None and scope.account != account:
        raise ValueError(f"account {account} differs from the reward function ARN's account {scope.account}")
    function_name = grader_arn.rsplit(":", 1)[1]
    return {
        "bedrock_service_role": {
            "role_name": service_role_name,
            "trust_policy": bedrock_service_role_trust_policy(scope),
            "permissions_policy": bedrock_service_role_permissions(
                bucket, grader_arn, scope, data_prefix=data_prefix, output_prefix=output_prefix
            ),
        },
        "grader_execution_role": {
            "role_name": grader_role_name,
            "trust_policy": grader_trust_policy(),
            "permissions_policy": grader_permissions(function_name, scope, judge_models),
        },
        "airflow_caller": {
            "permissions_policy": airflow_caller_permissions(
                bucket, grader_arn, scope, [service_role_name, grader_role_name]
            ),
        },
    }
