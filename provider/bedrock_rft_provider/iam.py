"""Least-privilege IAM policies for Bedrock RFT: the service role, the grader's role, the Airflow caller.

Pure functions returning policy documents (facts §5): the Bedrock service role is trusted by
``bedrock.amazonaws.com`` only for model customization jobs of one account (``aws:SourceAccount`` and
``aws:SourceArn``); it may read the training data, write the output prefix and invoke the grader. The
grader's execution role may write its own logs and, for an LLM judge, invoke the judge model only.
The Airflow caller may do exactly what the provider's operators, sensors and triggers call (a test
records every API call of the example DAGs on the sandbox and checks this policy allows each one), and
``sns:Publish`` on the notification topics it is given (``BedrockRFTNotifier``), nothing else in SNS.

Rules: every input is checked before a policy is built (``iam_inputs``), and a wildcard (``*``,
``?``) or a policy variable (``${...}``) in any input is refused, so no input can widen a policy.
Foundation-model ARNs have no account (``arn:aws:bedrock:REGION::foundation-model/ID``). With
``data_prefix``/``output_prefix`` the service role may read, list and write only below them
(``s3:ListBucket`` with an ``s3:prefix`` condition); without them it may read and list the whole bucket,
and the policy says so (no condition that looks like a restriction but is not one).

Findings the ``parliament`` linter reports that are inherent, and why (the tests allow exactly these):

- ``MALFORMED`` "neither Resource nor NotResource" on trust policies: a role's trust policy names a
  principal and never a resource; parliament lints every document as an identity policy.
- ``RESOURCE_MISMATCH`` on ``bedrock:InvokeModel``: parliament wants a resource of every type the
  action accepts (foundation model, inference profile, provisioned model, ...), while they are
  alternatives; also model ids with a ``:`` (``amazon.nova-2-lite-v1:0``) do not fit its pattern.
- ``UNKNOWN_ACTION`` for ``bedrock:*CustomModelDeployment*``: those actions are newer than
  parliament's action database (1.6.4).
- ``UNKNOWN_PREFIX`` for ``bedrock-mantle``: the open-weight API's service prefix is newer than
  parliament's database.
- ``INVALID_ARN`` "Account expected" only while no account was given: the ``ACCOUNT_ID`` placeholder
  is there to be replaced (the CLI says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bedrock_rft_provider.iam_inputs import (
    ACCOUNT_PLACEHOLDER,
    Scope,
    check_inputs,
    function_arn,
    judge_model_arns,
    key_prefix,
    topic_arn,
)
from bedrock_rft_provider.jobs.backends import OPEN_WEIGHT_MODELS

VERSION = "2012-10-17"
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
    # Data-level reuse reads the training-key tag of earlier jobs. The parliament linter's action
    # database does not list model-customization-job for this action (a RESOURCE_MISMATCH finding the
    # tests accept); we scope it to jobs anyway rather than to "*" — unverified without AWS.
    "bedrock:ListTagsForResource",
]
DEPLOYMENT_ACTIONS = [
    "bedrock:CreateCustomModelDeployment",
    "bedrock:GetCustomModelDeployment",
    # Zero-downtime promotion and rollback re-point the champion deployment at another custom model.
    "bedrock:UpdateCustomModelDeployment",
    "bedrock:DeleteCustomModelDeployment",
    "bedrock:TagResource",
]
# Actions without resource-level permissions (the Service Authorization Reference lists no resource type).
LIST_ACTIONS = ["bedrock:ListModelCustomizationJobs"]
# The open-weight backend (Bedrock's OpenAI-compatible API, service prefix bedrock-mantle). Action names
# from the Service Authorization Reference ("Amazon Bedrock Powered by AWS Mantle"); none of these
# actions has a resource type there, so they take "*". The user guide only names the managed policy
# AmazonBedrockMantleFullAccess. Which action covers list_events and checkpoints.list is undocumented
# (no such action exists; GetFineTuningJob is the likely one) -- unverified without AWS.
OPEN_WEIGHT_API_KEY_ACTIONS = ["bedrock-mantle:CallWithBearerToken"]
OPEN_WEIGHT_FILE_ACTIONS = ["bedrock-mantle:CreateFile", "bedrock-mantle:GetFile", "bedrock-mantle:ListFiles"]
OPEN_WEIGHT_JOB_ACTIONS = [
    "bedrock-mantle:GetFineTuningJob",
    "bedrock-mantle:ListFineTuningJobs",
    "bedrock-mantle:CancelFineTuningJob",
]
OPEN_WEIGHT_CREATE_ACTIONS = ["bedrock-mantle:CreateFineTuningJob"]
# Chat Completions / Responses on base, tuned and checkpoint models (evaluation on the open-weight path).
OPEN_WEIGHT_INFERENCE_ACTIONS = ["bedrock-mantle:CreateInference", "bedrock-mantle:ListModels"]
CHAMPION_ACTIONS = ["ssm:GetParameter", "ssm:PutParameter", "ssm:GetParameterHistory"]
CHAMPION_PARAMETER_PATH = "bedrock-rft/champion"


def _statement(sid: str, actions: Sequence[str], resources: Sequence[str], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": list(resources), **extra}


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


def _listing(bucket_arn: str, prefixes: Iterable[str]) -> dict[str, Any]:
    """``s3:ListBucket`` below ``prefixes`` (a real ``s3:prefix`` condition), or on the whole bucket."""
    given = set(prefixes)
    if "" in given:  # one of them is the bucket root: listing all of it is the grant, said plainly
        return _statement("ListDataAndOutput", ["s3:ListBucket"], [bucket_arn])
    return _statement(
        "ListDataAndOutput",
        ["s3:ListBucket"],
        [bucket_arn],
        Condition={"StringLike": {"s3:prefix": [f"{p}*" for p in sorted(given)]}},
    )


def bedrock_service_role_permissions(
    bucket: str, grader_arn: str, scope: Scope, *, data_prefix: str = "", output_prefix: str = ""
) -> dict[str, Any]:
    """Permissions: read/list the data prefix, read/write/list the output prefix, invoke the grader.

    An empty prefix means the whole bucket (stated as such: no ``s3:prefix`` condition).
    """
    bucket_arn = f"arn:{scope.partition}:s3:::{bucket}"
    data, output = key_prefix("data prefix", data_prefix), key_prefix("output prefix", output_prefix)
    return {
        "Version": VERSION,
        "Statement": [
            _statement("ReadTrainingData", ["s3:GetObject"], [f"{bucket_arn}/{data}*"]),
            _listing(bucket_arn, [data, output]),
            _statement("WriteOutput", ["s3:GetObject", "s3:PutObject"], [f"{bucket_arn}/{output}*"]),
            _statement("InvokeGrader", ["lambda:InvokeFunction"], [grader_arn, f"{grader_arn}:*"]),
        ],
    }


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
    bucket: str,
    grader_arn: str,
    scope: Scope,
    role_names: Sequence[str],
    *,
    open_weight: bool = False,
    notify_topics: Sequence[str] = (),
) -> dict[str, Any]:
    """What the Airflow AWS connection needs for everything the provider's tasks call.

    Deploy, check and invoke the grader; run, watch and stop RFT jobs; deploy, invoke (Converse) and
    delete the tuned model; evaluate the base model; keep the champion in SSM; read and write the bucket.
    ``role_names`` are ``(service role, grader role)``: each may be passed to its own service only.
    ``open_weight`` adds :func:`open_weight_statements` (off by default: a Nova-only setup needs none).
    ``notify_topics`` (names or ARNs) adds ``sns:Publish`` on exactly those topics.
    """
    bucket_arn = f"arn:{scope.partition}:s3:::{bucket}"
    bedrock = f"arn:{scope.partition}:bedrock:{scope.region}:{scope.account}"
    foundation_models = f"arn:{scope.partition}:bedrock:{scope.region}::foundation-model/*"
    service_role, grader_role = (
        f"arn:{scope.partition}:iam::{scope.account}:role/{name}" for name in role_names
    )
    parameters = (
        f"arn:{scope.partition}:ssm:{scope.region}:{scope.account}:parameter/{CHAMPION_PARAMETER_PATH}/*"
    )
    return {
        "Version": VERSION,
        "Statement": [
            _statement(
                "PassServiceRoleToBedrock",
                ["iam:PassRole"],
                [service_role],
                Condition={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            ),
            _statement(
                "PassGraderRoleToLambda",
                ["iam:PassRole"],
                [grader_role],
                Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            ),
            _statement("DeployAndInvokeGrader", GRADER_DEPLOY_ACTIONS, [grader_arn, f"{grader_arn}:*"]),
            _statement(
                "RunRFTJobs",
                RFT_JOB_ACTIONS,
                [f"{bedrock}:model-customization-job/*", f"{bedrock}:custom-model/*", foundation_models],
            ),
            _statement(
                "DeployTunedModels",
                DEPLOYMENT_ACTIONS,
                [f"{bedrock}:custom-model-deployment/*", f"{bedrock}:custom-model/*"],
            ),
            _statement(
                "InvokeTunedAndBaseModels",
                ["bedrock:InvokeModel"],
                [f"{bedrock}:custom-model-deployment/*", foundation_models, f"{bedrock}:inference-profile/*"],
            ),
            _statement("ListRFTJobs", LIST_ACTIONS, ["*"]),
            *(open_weight_statements() if open_weight else []),
            *(_notify_statements(notify_topics, scope)),
            _statement("KeepTheChampion", CHAMPION_ACTIONS, [parameters]),
            _statement("DataAndOutput", ["s3:GetObject", "s3:PutObject"], [f"{bucket_arn}/*"]),
            _statement("ListBucket", ["s3:ListBucket"], [bucket_arn]),
        ],
    }


def _notify_statements(topics: Sequence[str], scope: Scope) -> list[dict[str, Any]]:
    arns = sorted({topic_arn(topic, scope) for topic in topics})
    return [_statement("PublishNotifications", ["sns:Publish"], arns)] if arns else []


def open_weight_statements() -> list[dict[str, Any]]:
    """The open-weight backend's caller statements: API-key use, files, jobs (create only for the
    models that backend trains, through the ``bedrock-mantle:Model`` condition key) and inference."""
    return [
        _statement("OpenWeightUseShortTermApiKeys", OPEN_WEIGHT_API_KEY_ACTIONS, ["*"]),
        _statement("OpenWeightTrainingFiles", OPEN_WEIGHT_FILE_ACTIONS, ["*"]),
        _statement(
            "OpenWeightStartJobs",
            OPEN_WEIGHT_CREATE_ACTIONS,
            ["*"],
            Condition={"StringEquals": {"bedrock-mantle:Model": list(OPEN_WEIGHT_MODELS)}},
        ),
        _statement("OpenWeightWatchAndCancelJobs", OPEN_WEIGHT_JOB_ACTIONS, ["*"]),
        _statement("OpenWeightInference", OPEN_WEIGHT_INFERENCE_ACTIONS, ["*"]),
    ]


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
    open_weight: bool = False,
    notify_topics: Sequence[str] = (),
) -> dict[str, Any]:
    """Every policy an RFT setup needs, keyed by role: trust and permission documents.

    Raises ValueError naming the input for anything that is not a plain name, id or prefix
    (wildcards included); nothing is built from an input that failed.
    """
    check_inputs(bucket, account, region, (service_role_name, grader_role_name))
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
                bucket,
                grader_arn,
                scope,
                [service_role_name, grader_role_name],
                open_weight=open_weight,
                notify_topics=notify_topics,
            ),
        },
    }
