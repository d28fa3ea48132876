"""``bedrock-rft test-reward`` and ``bedrock-rft iam-policy`` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.cli import main


def test_test_reward_reports_and_exits_zero(reward_fixtures: Path, tmp_path: Path, capsys: Any) -> None:
    output = tmp_path / "out" / "report.json"
    code = main(
        [
            "test-reward",
            "--reward", "bedrock_rft_provider.rewards.builtin:math_answer",
            "--samples", str(reward_fixtures / "gsm8k_events.jsonl"),
            "--output", str(output),
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "samples: 4  scored: 4  reward errors: 0" in printed
    assert "score: mean 0.5000" in printed
    assert "metric math_rule_hash: mean 0.2500" in printed
    report = json.loads(output.read_text())
    assert [r["id"] for r in report["results"]] == ["q1", "q2", "q3", "q4"]
    assert report["contract_ok"] is True


def test_test_reward_with_a_file_reward(reward_fixtures: Path, capsys: Any) -> None:
    spec = f"{reward_fixtures / 'single_file_reward.py'}:last_line_match"
    assert (
        main(["test-reward", "--reward", spec, "--samples", str(reward_fixtures / "gsm8k_events.jsonl")]) == 0
    )


def test_raising_reward_exits_one_unless_allowed(reward_fixtures: Path, capsys: Any) -> None:
    args = [
        "test-reward",
        "--reward",
        "acme_rewards.scoring:broken",
        "--samples",
        str(reward_fixtures / "gsm8k_events.jsonl"),
    ]
    assert main(args) == 1
    assert "the reward raised on 4 sample(s)" in capsys.readouterr().err
    assert main([*args, "--allow-errors"]) == 0


def test_broken_contract_exits_one(reward_fixtures: Path, tmp_path: Path, capsys: Any) -> None:
    module = tmp_path / "bad_handler.py"
    module.write_text(
        "from bedrock_rft_provider.rewards import make_handler\n"
        "_inner = make_handler(lambda s: 1.0)\n"
        "def handler(event, context=None):\n"
        "    return [dict(r, id='wrong') for r in _inner(event, context)]\n"
        "handler.is_grader_handler = True\n"
        "handler.reward = None\n"
    )
    code = main(
        [
            "test-reward",
            "--reward",
            f"{module}:handler",
            "--samples",
            str(reward_fixtures / "gsm8k_events.jsonl"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "CONTRACT: batch 0: result[0] (id 'q1'): id is 'wrong'; expected 'q1'" in captured.out
    assert "contract is broken" in captured.err


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--reward", "nope", "--samples", "x.jsonl"], "expected MODULE:FUNCTION", 2),  # usage
        (  # a well-formed command whose input is missing: an input error (same rule as every command)
            ["--reward", "bedrock_rft_provider.rewards.builtin:math_answer", "--samples", "/no/such.jsonl"],
            "/no/such.jsonl: No such file",
            1,
        ),
    ],
)
def test_usage_and_input_errors(args: list[str], message: str, code: int, capsys: Any) -> None:
    assert main(["test-reward", *args]) == code
    assert message in capsys.readouterr().err


def test_iam_policy_prints_least_privilege_policies(capsys: Any) -> None:
    code = main(
        [
            "iam-policy", "--bucket", "my-rft-bucket", "--reward-function", "gsm8k-grader",
            "--account", "111122223333", "--region", "us-east-1",
            "--judge-model", "anthropic.claude-3-haiku-20240307-v1:0", "--output-prefix", "output",
        ]
    )  # fmt: skip
    bundle = json.loads(capsys.readouterr().out)
    assert code == 0
    trust = bundle["bedrock_service_role"]["trust_policy"]["Statement"][0]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "111122223333"}
    assert trust["Condition"]["ArnEquals"]["aws:SourceArn"] == (
        "arn:aws:bedrock:us-east-1:111122223333:model-customization-job/*"
    )
    permissions = {s["Sid"]: s for s in bundle["bedrock_service_role"]["permissions_policy"]["Statement"]}
    grader = "arn:aws:lambda:us-east-1:111122223333:function:gsm8k-grader"
    assert permissions["InvokeGrader"]["Resource"] == [grader, f"{grader}:*"]
    assert permissions["WriteOutput"]["Resource"] == ["arn:aws:s3:::my-rft-bucket/output/*"]
    assert permissions["ReadTrainingData"]["Action"] == ["s3:GetObject"]
    judge = {s["Sid"]: s for s in bundle["grader_execution_role"]["permissions_policy"]["Statement"]}
    assert judge["InvokeJudgeModel"] == {
        "Sid": "InvokeJudgeModel",
        "Effect": "Allow",
        "Action": ["bedrock:InvokeModel"],
        "Resource": ["arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"],
    }
    assert bundle["grader_execution_role"]["trust_policy"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    every_statement = [
        s
        for role in bundle.values()
        for s in role["permissions_policy"]["Statement"]
        if s["Sid"] != "ListRFTJobs"
    ]
    assert all(r != "*" for s in every_statement for r in s["Resource"])


def test_iam_policy_without_judge_or_account(capsys: Any) -> None:
    assert main(["iam-policy", "--bucket", "my-rft-bucket", "--reward-function", "grader"]) == 0
    captured = capsys.readouterr()
    bundle = json.loads(captured.out)
    sids = [s["Sid"] for s in bundle["grader_execution_role"]["permissions_policy"]["Statement"]]
    assert "InvokeJudgeModel" not in sids
    assert "replace ACCOUNT_ID" in captured.err


def test_iam_policy_takes_account_and_region_from_a_function_arn(capsys: Any) -> None:
    arn = "arn:aws:lambda:us-west-2:444455556666:function:grader:live"
    assert (
        main(
            [
                "iam-policy",
                "--bucket",
                "my-rft-bucket",
                "--reward-function",
                arn,
                "--judge-model",
                "us.amazon.nova-pro-v1:0",
            ]
        )
        == 0
    )
    bundle = json.loads(capsys.readouterr().out)
    condition = bundle["bedrock_service_role"]["trust_policy"]["Statement"][0]["Condition"]
    assert condition["StringEquals"]["aws:SourceAccount"] == "444455556666"
    judge = bundle["grader_execution_role"]["permissions_policy"]["Statement"][-1]["Resource"]
    assert judge == [
        "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-west-2:444455556666:inference-profile/us.amazon.nova-pro-v1:0",
    ]


def test_iam_policy_rejects_bad_input(capsys: Any) -> None:
    assert main(["iam-policy", "--bucket", "B", "--reward-function", "grader"]) == 2
    assert "not a valid S3 bucket name" in capsys.readouterr().err
    assert (
        main(["iam-policy", "--bucket", "my-bucket", "--reward-function", "grader", "--account", "12"]) == 2
    )
