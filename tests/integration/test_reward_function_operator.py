"""BedrockRewardFunctionOperator against moto Lambda: create, no-op rerun, update, publish, alias, retry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bedrock_rft_provider.errors import ConfigError, ConfigErrors
from bedrock_rft_provider.hooks.reward_lambda import GraderSettings, RewardLambdaHook
from bedrock_rft_provider.operators.reward import BedrockRewardFunctionOperator
from bedrock_rft_provider.rewards.packaging import build_reward_package

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rewards"
FUNCTION = "gsm8k-grader"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    monkeypatch.syspath_prepend(str(FIXTURES))
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = iam.create_role(RoleName="grader", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        yield boto3.client("lambda", region_name="us-east-1"), role


def _deploy(role: str, **overrides: Any) -> dict[str, str]:
    kwargs: dict[str, Any] = {
        "task_id": "deploy_grader",
        "function_name": FUNCTION,
        "reward": "acme_rewards.scoring:gsm8k",
        "role_arn": role,
        "region_name": "us-east-1",
        **overrides,
    }
    return BedrockRewardFunctionOperator(**kwargs).execute({})  # type: ignore[arg-type]


def _versions(client: Any) -> list[str]:
    return [v["Version"] for v in client.list_versions_by_function(FunctionName=FUNCTION)["Versions"]]


def test_first_deploy_creates_publishes_and_aliases(aws: tuple[Any, str]) -> None:
    client, role = aws
    result = _deploy(role)
    configuration = client.get_function_configuration(FunctionName=FUNCTION)
    assert set(result) == {"function_arn", "version", "alias_arn", "code_sha256"}
    assert result["function_arn"] == configuration["FunctionArn"]
    assert result["version"] == "1"
    assert result["alias_arn"] == f"{configuration['FunctionArn']}:live"
    assert result["code_sha256"] == configuration["CodeSha256"]
    assert result["code_sha256"] == build_reward_package("acme_rewards.scoring:gsm8k").code_sha256
    assert configuration["Handler"] == "bedrock_rft_entry.handler"
    assert (configuration["Timeout"], configuration["MemorySize"], configuration["Runtime"]) == (
        300,
        512,
        "python3.12",
    )
    assert client.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"] == "1"


def test_rerun_with_same_inputs_changes_nothing(aws: tuple[Any, str]) -> None:
    client, role = aws
    first = _deploy(role)
    modified = client.get_function_configuration(FunctionName=FUNCTION)["LastModified"]
    second = _deploy(role)
    assert second == first
    assert client.get_function_configuration(FunctionName=FUNCTION)["LastModified"] == modified
    assert _versions(client) == ["$LATEST", "1"]


def test_new_code_updates_publishes_and_moves_the_alias(aws: tuple[Any, str]) -> None:
    client, role = aws
    first = _deploy(role)
    second = _deploy(role, reward="bedrock_rft_provider.rewards.builtin:math_answer")
    assert second["code_sha256"] != first["code_sha256"]
    assert second["version"] == "2"
    assert client.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"] == "2"
    assert client.get_function_configuration(FunctionName=FUNCTION)["CodeSha256"] == second["code_sha256"]


def test_configuration_change_updates_and_publishes(aws: tuple[Any, str]) -> None:
    client, role = aws
    _deploy(role)
    result = _deploy(role, timeout=600, environment={"LOG_LEVEL": "DEBUG"})
    configuration = client.get_function_configuration(FunctionName=FUNCTION)
    assert configuration["Timeout"] == 600
    assert configuration["Environment"]["Variables"] == {"LOG_LEVEL": "DEBUG"}
    assert result["version"] == "2"


def test_retry_after_a_partial_deploy_finishes_the_job(aws: tuple[Any, str]) -> None:
    """A first try that died after create_function: the retry publishes and aliases, creates nothing twice."""
    client, role = aws
    package = build_reward_package("acme_rewards.scoring:gsm8k")
    settings = GraderSettings(
        role_arn=role,
        runtime="python3.12",
        architecture="x86_64",
        timeout=300,
        memory_size=512,
        environment={},
        handler=package.handler,
        description="Bedrock RFT grader acme_rewards.scoring:gsm8k (bedrock-rft)",
    )
    RewardLambdaHook(region_name="us-east-1")._create(FUNCTION, package, settings)
    result = _deploy(role)
    assert result["version"] == "1"
    assert _versions(client) == ["$LATEST", "1"]
    assert client.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"] == "1"


def test_alias_pointing_elsewhere_is_moved_back(aws: tuple[Any, str]) -> None:
    client, role = aws
    _deploy(role)
    _deploy(role, reward="bedrock_rft_provider.rewards.builtin:math_answer")
    client.update_alias(FunctionName=FUNCTION, Name="live", FunctionVersion="1")
    result = _deploy(role, reward="bedrock_rft_provider.rewards.builtin:math_answer")
    assert result["version"] == "2"
    assert client.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"] == "2"


def test_invalid_settings_fail_before_any_aws_call(aws: tuple[Any, str]) -> None:
    client, _ = aws
    with pytest.raises(ConfigErrors) as raised:
        _deploy("not-a-role", timeout=901, memory_size=64, function_name="bad name!", alias="123")
    fields = {error.field for error in raised.value.errors}
    assert fields == {"role_arn", "timeout", "memory_size", "function_name", "alias"}
    assert client.list_functions()["Functions"] == []


def test_unknown_reward_fails_before_any_aws_call(aws: tuple[Any, str]) -> None:
    client, role = aws
    with pytest.raises(ConfigError, match=r"reward: reward .acme_rewards\.scoring:nope."):
        _deploy(role, reward="acme_rewards.scoring:nope")
    assert client.list_functions()["Functions"] == []
