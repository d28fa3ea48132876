"""`bedrock-rft iam-policy`: well-formed ARNs, no input widens a policy, real prefix conditions, linted."""

from __future__ import annotations

import ast
import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.cli import main
from bedrock_rft_provider.iam import policy_bundle

BASE_ARGS = ["iam-policy", "--bucket", "my-rft-bucket", "--reward-function", "gsm8k-grader"]
HOOKS = Path(__file__).resolve().parents[2] / "provider" / "bedrock_rft_provider" / "hooks"

# API operations whose IAM action has another name (AWS Service Authorization Reference).
IAM_ACTION_FOR = {
    ("bedrock", "Converse"): "bedrock:InvokeModel",
    ("bedrock", "ConverseStream"): "bedrock:InvokeModelWithResponseStream",
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
    ("s3", "DeleteObjects"): "s3:DeleteObject",
}
NEEDS_NO_PERMISSION = {("sts", "GetCallerIdentity")}
# The amazon provider hook each of our hooks extends, and the service (IAM prefix) its client calls.
SERVICE_OF_BASE = {
    "BedrockHook": ("bedrock", "bedrock"),
    "BedrockRuntimeHook": ("bedrock-runtime", "bedrock"),
    "LambdaHook": ("lambda", "lambda"),
    "SsmHook": ("ssm", "ssm"),
    "S3Hook": ("s3", "s3"),
}


def iam_action(signing_name: str, operation: str) -> str:
    """The IAM action that authorizes one API call."""
    return IAM_ACTION_FOR.get((signing_name, operation), f"{signing_name}:{operation}")


def allows(policy: dict[str, Any], action: str) -> bool:
    """Whether an Allow statement of ``policy`` names ``action`` (IAM's case-insensitive globs)."""
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] == "Allow" and any(
            fnmatch.fnmatch(action.lower(), a.lower()) for a in actions
        ):
            return True
    return False


def hook_calls() -> set[tuple[str, str]]:
    """(signing name, operation) of every client call, paginator and botocore waiter in our hooks' code."""
    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    found: set[tuple[str, str]] = set()
    for path in sorted(HOOKS.glob("*.py")):
        for cls in [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ClassDef)]:
            bases = [b.id for b in cls.bases if isinstance(b, ast.Name) and b.id in SERVICE_OF_BASE]
            if not bases:
                continue
            service, signing = SERVICE_OF_BASE[bases[0]]
            model = session.get_service_model(service)
            operations = {xform_name(op): op for op in model.operation_names}
            waiters = session.get_waiter_model(service) if service == "lambda" else None
            for node in ast.walk(cls):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                name = node.func.attr
                literal = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
                if name == "get_paginator" and literal in operations:
                    found.add((signing, operations[literal]))
                elif name == "get_waiter" and waiters is not None and isinstance(literal, str):
                    waiter = {xform_name(w): w for w in waiters.waiter_names}.get(literal)
                    if waiter:
                        found.add((signing, waiters.get_waiter(waiter).operation))
                elif name in operations:
                    found.add((signing, operations[name]))
    return found


def _statements(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for role in bundle.values()
        for kind in ("trust_policy", "permissions_policy")
        if kind in role
        for statement in role[kind]["Statement"]
    ]


def _resources(bundle: dict[str, Any]) -> list[str]:
    return [r for s in _statements(bundle) for r in s.get("Resource", [])]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"account": "111122223333", "region": "eu-west-1"},
        {"judge_models": ["anthropic.claude-3-haiku-20240307-v1:0", "us.amazon.nova-lite-v1:0"]},
    ],
    ids=["defaults", "account-region", "judges"],
)
def test_foundation_model_arns_never_carry_an_account(options: dict[str, Any]) -> None:
    bundle = policy_bundle(bucket="my-rft-bucket", reward_function="grader", **options)
    foundation = [r for r in _resources(bundle) if ":foundation-model/" in r]
    assert foundation, "the caller policy names the base models"
    assert all(re.fullmatch(r"arn:aws:bedrock:[a-z0-9*-]+::foundation-model/.+", r) for r in foundation), (
        foundation
    )


def test_the_caller_policy_covers_deployments_converse_and_the_champion() -> None:
    caller = policy_bundle(bucket="my-rft-bucket", reward_function="grader", account="111122223333")
    statements = caller["airflow_caller"]["permissions_policy"]["Statement"]
    actions = {a for s in statements for a in s["Action"]}
    for needed in (
        "bedrock:CreateCustomModelDeployment",
        "bedrock:GetCustomModelDeployment",
        "bedrock:UpdateCustomModelDeployment",
        "bedrock:DeleteCustomModelDeployment",
        "bedrock:InvokeModel",
        "ssm:PutParameter",
        "ssm:GetParameter",
        "ssm:GetParameterHistory",
    ):
        assert needed in actions
    champion = next(s for s in statements if "ssm:PutParameter" in s["Action"])
    assert champion["Resource"] == ["arn:aws:ssm:us-east-1:111122223333:parameter/bedrock-rft/champion/*"]
    passes = {
        s["Resource"][0]: s["Condition"]["StringEquals"]["iam:PassedToService"]
        for s in statements
        if s["Action"] == ["iam:PassRole"]
    }
    assert passes == {
        "arn:aws:iam::111122223333:role/BedrockRFTServiceRole": "bedrock.amazonaws.com",
        "arn:aws:iam::111122223333:role/BedrockRFTGraderRole": "lambda.amazonaws.com",
    }


def test_the_caller_policy_allows_every_call_in_the_hooks_code() -> None:
    """Every client call our hooks can make (also the rare ones: stop, update, delete), read from the code."""
    calls = hook_calls()
    assert ("bedrock", "StopModelCustomizationJob") in calls and ("ssm", "GetParameterHistory") in calls
    policy = policy_bundle(bucket="my-rft-bucket", reward_function="grader")["airflow_caller"][
        "permissions_policy"
    ]
    missing = sorted(iam_action(*call) for call in calls if not allows(policy, iam_action(*call)))
    assert missing == []


def test_a_notify_topic_gets_sns_publish_on_that_topic_and_nothing_else_in_sns(capsys: Any) -> None:
    topic_arn = "arn:aws:sns:eu-west-1:444455556666:rft-alerts"
    args = [*BASE_ARGS, "--account", "111122223333", "--notify-topic", "bedrock-rft-retraining"]
    assert main([*args, "--notify-topic", topic_arn]) == 0
    caller = json.loads(capsys.readouterr().out)["airflow_caller"]["permissions_policy"]["Statement"]
    sns = [s for s in caller if any(a.startswith("sns:") for a in s["Action"])]
    assert sns == [
        {
            "Sid": "PublishNotifications",
            "Effect": "Allow",
            "Action": ["sns:Publish"],
            "Resource": [topic_arn, "arn:aws:sns:us-east-1:111122223333:bedrock-rft-retraining"],
        }
    ]


def test_a_notify_topic_by_name_and_by_arn_is_granted_once(capsys: Any) -> None:
    topic = "arn:aws:sns:us-east-1:111122223333:rft"
    args = [*BASE_ARGS, "--account", "111122223333", "--notify-topic", "rft", "--notify-topic", topic]
    assert main([*args, "--notify-topic", "rft"]) == 0
    caller = json.loads(capsys.readouterr().out)["airflow_caller"]["permissions_policy"]["Statement"]
    assert [s["Resource"] for s in caller if s["Action"] == ["sns:Publish"]] == [[topic]]


def test_without_a_notify_topic_the_caller_may_not_publish_anywhere() -> None:
    policy = policy_bundle(bucket="my-rft-bucket", reward_function="grader")["airflow_caller"]
    assert not allows(policy["permissions_policy"], "sns:Publish")


@pytest.mark.parametrize(
    ("flag", "value", "named"),
    [
        ("--region", "*", "region"),
        ("--region", "us-*", "region"),
        ("--region", "not a region", "region"),
        ("--judge-model", "*", "judge model"),
        ("--judge-model", "anthropic.*", "judge model"),
        ("--judge-model", "arn:aws:bedrock:us-east-1::foundation-model/*", "judge model"),
        ("--judge-model", "Robert'); DROP", "judge model"),
        ("--output-prefix", "*", "output prefix"),
        ("--output-prefix", "out/?", "output prefix"),
        ("--data-prefix", "data/${aws:username}", "data prefix"),
        ("--data-prefix", "data/\n", "data prefix"),
        ("--account", "*", "account"),
        ("--bucket", "*", "bucket"),
        ("--reward-function", "grader*", "reward function"),
        ("--reward-function", "arn:aws:lambda:us-east-1:111122223333:function:*", "reward function"),
        ("--notify-topic", "bedrock-rft-*", "notify topic"),
        ("--notify-topic", "arn:aws:sns:us-east-1:111122223333:*", "notify topic"),
        ("--notify-topic", "arn:aws:sns:us-east-1:111122223333:${aws:username}", "notify topic"),
        ("--notify-topic", "alerts.fifo", "notify topic"),  # the notifier sends no message group id
        # A policy in the aws partition can never grant a topic of aws-cn: the notifier would be denied.
        ("--notify-topic", "arn:aws-cn:sns:cn-north-1:111122223333:alerts", "notify topic"),
        ("--notify-topic", "", "notify topic"),
        ("--notify-topic", "alertes-été", "notify topic"),
        ("--notify-topic", "a" * 257, "notify topic"),
    ],
)
def test_wildcards_and_malformed_inputs_exit_2_with_one_line_naming_the_input(
    capsys: Any, flag: str, value: str, named: str
) -> None:
    args = [a for a in BASE_ARGS]
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing half-printed
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], captured.err


@pytest.mark.parametrize(
    ("data_prefix", "output_prefix", "expected"),
    [
        ("datasets/gsm8k", "output", ["datasets/gsm8k/*", "output/*"]),
        ("/datasets/", "/datasets/", ["datasets/*"]),
        ("a", "b/c/", ["a/*", "b/c/*"]),
    ],
)
def test_list_bucket_is_limited_to_the_prefixes(
    data_prefix: str, output_prefix: str, expected: list[str]
) -> None:
    bundle = policy_bundle(
        bucket="my-rft-bucket", reward_function="grader", data_prefix=data_prefix, output_prefix=output_prefix
    )
    statements = {s["Sid"]: s for s in bundle["bedrock_service_role"]["permissions_policy"]["Statement"]}
    assert statements["ListDataAndOutput"]["Condition"] == {"StringLike": {"s3:prefix": expected}}
    assert statements["ReadTrainingData"]["Resource"] == [f"arn:aws:s3:::my-rft-bucket/{expected[0]}"]


@pytest.mark.parametrize(("data_prefix", "output_prefix"), [("", ""), ("data", ""), ("", "out")])
def test_without_a_prefix_the_whole_bucket_is_granted_plainly(data_prefix: str, output_prefix: str) -> None:
    bundle = policy_bundle(
        bucket="my-rft-bucket", reward_function="grader", data_prefix=data_prefix, output_prefix=output_prefix
    )
    listing = next(
        s
        for s in bundle["bedrock_service_role"]["permissions_policy"]["Statement"]
        if s["Sid"] == "ListDataAndOutput"
    )
    assert "Condition" not in listing  # never the no-op s3:prefix ["*"]
    assert listing["Resource"] == ["arn:aws:s3:::my-rft-bucket"]


def _inherent(finding: Any, kind: str, placeholder: bool = False) -> bool:
    """The findings bedrock_rft_provider.iam documents as inherent; anything else fails the lint test."""
    text = json.dumps(finding.detail, default=str)
    if finding.issue == "INVALID_ARN":  # only while the printed policy still says ACCOUNT_ID
        return placeholder and "Account expected" in text
    if finding.issue == "MALFORMED":
        return kind == "trust_policy" and "neither Resource nor NotResource" in text
    if finding.issue == "RESOURCE_MISMATCH":
        return {d["action"] for d in finding.detail} <= {"bedrock:InvokeModel", "bedrock:ListTagsForResource"}
    if finding.issue == "UNKNOWN_ACTION":
        return "CustomModelDeployment" in text
    if finding.issue == "UNKNOWN_PREFIX":
        return "bedrock-mantle" in text
    return False


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"account": "111122223333", "region": "us-west-2", "data_prefix": "data", "output_prefix": "out"},
        {"judge_models": ["amazon.nova-lite-v1:0", "us.anthropic.claude-3-haiku-20240307-v1:0"]},
        {"reward_function": "arn:aws:lambda:eu-west-1:444455556666:function:grader:live"},
        {"region": "us-west-2", "open_weight": True},
        {"account": "111122223333", "notify_topics": ["bedrock-rft-retraining"]},
    ],
    ids=["defaults", "prefixes", "judges", "function-arn", "open-weight", "notify-topic"],
)
def test_policies_are_clean_for_the_parliament_linter_apart_from_inherent_findings(
    options: dict[str, Any],
) -> None:
    from parliament import analyze_policy_string

    arguments = {"bucket": "my-rft-bucket", "reward_function": "grader", **options}
    unexpected = []
    seen = set()
    for role, documents in policy_bundle(**arguments).items():
        for kind in ("trust_policy", "permissions_policy"):
            if kind not in documents:
                continue
            text = json.dumps(documents[kind])
            policy = analyze_policy_string(
                text, ignore_private_auditors=True, include_community_auditors=True
            )
            for finding in policy.findings:
                if _inherent(finding, kind, placeholder="ACCOUNT_ID" in text):
                    seen.add(finding.issue)
                else:
                    unexpected.append((role, kind, finding.issue, finding.detail))
    assert unexpected == []
    assert "MALFORMED" in seen  # the linter really ran on the trust policies


def test_the_linter_catches_the_malformed_foundation_model_arn_the_old_policy_had() -> None:
    """Guard for the lint test itself: an account in a foundation-model ARN is a finding, not inherent."""
    from parliament import analyze_policy_string

    bad = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["bedrock:CreateModelCustomizationJob"],
                "Resource": ["arn:aws:bedrock:us-east-1:111122223333::foundation-model/*"],
            }
        ],
    }
    findings = analyze_policy_string(json.dumps(bad), ignore_private_auditors=True).findings
    assert [f.issue for f in findings if not _inherent(f, "permissions_policy")] == ["RESOURCE_MISMATCH"]
