"""The grader Lambda's alias when two runs deploy it at once, checked by botocore's Stubber against the real
Lambda service model: the run whose CreateAlias loses the race reads the alias the other made."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.hooks.reward_lambda import RewardLambdaHook
from support.stubbed import install_client, stubbed_client

FUNCTION = "bedrock-rft-grader"
ALIAS = "live"
ALIAS_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}:{ALIAS}"


@pytest.fixture
def hook_and_stubber() -> Any:
    hook = RewardLambdaHook(aws_conn_id=None, region_name="us-east-1")
    client, stubber = stubbed_client("lambda")
    install_client(hook, client)
    with stubber:
        yield hook, stubber
        stubber.assert_no_pending_responses()


def _alias(version: str) -> dict[str, Any]:
    return {"AliasArn": ALIAS_ARN, "Name": ALIAS, "FunctionVersion": version}


# ResourceConflictException is what Lambda's model names; moto (behind the sandbox) says ConflictException.
@pytest.mark.parametrize("code", ["ResourceConflictException", "ConflictException"])
def test_an_alias_created_by_a_racing_run_is_read_back_not_failed(hook_and_stubber: Any, code: str) -> None:
    hook, stubber = hook_and_stubber
    names = {"FunctionName": FUNCTION, "Name": ALIAS}
    stubber.add_client_error("get_alias", "ResourceNotFoundException", expected_params=names)
    stubber.add_client_error("create_alias", code, expected_params={**names, "FunctionVersion": "3"})
    stubber.add_response("get_alias", _alias("3"), expected_params=names)
    changed: list[str] = []
    assert hook._point_alias(FUNCTION, ALIAS, "3", changed) == ALIAS_ARN
    assert changed == []  # the other run made it: nothing changed here


def test_a_racing_alias_on_another_version_is_moved_to_ours(hook_and_stubber: Any) -> None:
    hook, stubber = hook_and_stubber
    names = {"FunctionName": FUNCTION, "Name": ALIAS}
    stubber.add_client_error("get_alias", "ResourceNotFoundException", expected_params=names)
    stubber.add_client_error(
        "create_alias", "ConflictException", expected_params={**names, "FunctionVersion": "4"}
    )
    stubber.add_response("get_alias", _alias("3"), expected_params=names)
    stubber.add_response("update_alias", _alias("4"), expected_params={**names, "FunctionVersion": "4"})
    changed: list[str] = []
    assert hook._point_alias(FUNCTION, ALIAS, "4", changed) == ALIAS_ARN
    assert changed == ["alias"]


def test_any_other_create_alias_error_is_raised(hook_and_stubber: Any) -> None:
    hook, stubber = hook_and_stubber
    names = {"FunctionName": FUNCTION, "Name": ALIAS}
    stubber.add_client_error("get_alias", "ResourceNotFoundException", expected_params=names)
    stubber.add_client_error("create_alias", "AliasLimitExceededException")
    with pytest.raises(Exception, match="AliasLimitExceededException"):
        hook._point_alias(FUNCTION, ALIAS, "3", [])
