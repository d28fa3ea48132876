"""The judge recipe, its README example and IAM: one judge model, granted exactly, served in the sandbox."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from bedrock_rft_provider.cli import main
from bedrock_rft_provider.rewards.moderation import DEFAULT_JUDGE_MODEL, JUDGE_MODEL_ENV
from bedrock_rft_provider.sandbox.judge import JUDGE_MODELS
from bedrock_rft_provider.task_families import recipe
from bedrock_rft_provider.task_families.judge import JUDGE_MODEL_ID
from unit.test_readme import README

SECTION = re.search(r"^## Judge-graded tasks \(RLAIF\).*?(?=^## )", README, re.S | re.M)


def readme_judge_conf() -> dict[str, object]:
    """The family's params as the README shows them (its one JSON block)."""
    assert SECTION
    (block,) = re.findall(r"```json\n(.*?)```", SECTION[0], re.S)
    return dict(json.loads(block))


def test_the_readme_shows_the_recipes_params() -> None:
    assert readme_judge_conf() == dict(recipe("judge").retraining_conf)


def test_the_recipe_judge_model_is_the_rewards_default_and_the_sandbox_serves_it() -> None:
    conf = recipe("judge").retraining_conf
    assert conf["grader_environment"] == {JUDGE_MODEL_ENV: JUDGE_MODEL_ID}
    assert JUDGE_MODEL_ID == DEFAULT_JUDGE_MODEL and JUDGE_MODEL_ID in JUDGE_MODELS


def test_the_readme_iam_command_grants_invoke_model_on_the_judge_model_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert SECTION
    (line,) = [raw for raw in SECTION[0].splitlines() if raw.startswith("bedrock-rft iam-policy")]
    assert f"--judge-model {JUDGE_MODEL_ID}" in line
    assert main(shlex.split(line)[1:]) == 0
    policy = json.loads(capsys.readouterr().out)["grader_execution_role"]["permissions_policy"]
    bedrock = [s for s in policy["Statement"] if any(a.startswith("bedrock:") for a in s["Action"])]
    assert bedrock == [
        {
            "Sid": "InvokeJudgeModel",
            "Effect": "Allow",
            "Action": ["bedrock:InvokeModel"],
            "Resource": [
                "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0",
                "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0",
            ],
        }
    ]
    for resource in bedrock[0]["Resource"]:
        assert f"`{resource}`" in SECTION[0]  # the README names exactly what the command grants
