"""BedrockRewardPreflightOperator: training data from S3, report to S3, checks on the deployed code.

moto cannot execute Lambda code, so ``invoke_grader`` is replaced by a runner of the exact zip the
function was deployed with (its CodeSha256 is asserted equal), executed in a fresh interpreter with
only the zip's contents on ``sys.path`` — the path the sandbox will take for real invocations.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from moto import mock_aws

from bedrock_rft_provider.hooks.reward_lambda import GraderInvocationError, RewardLambdaHook
from bedrock_rft_provider.operators.reward import (
    BedrockRewardFunctionOperator,
    BedrockRewardPreflightOperator,
)
from bedrock_rft_provider.rewards.packaging import build_reward_package

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rewards"
BUCKET = "rft-preflight"
_RUN = """
import importlib, json, sys
sys.path[:] = [sys.argv[1]] + [p for p in sys.path if "site-packages" not in p and p not in ("", ".")]
module, function = sys.argv[2].rsplit(".", 1)
try:
    print(json.dumps(getattr(importlib.import_module(module), function)(json.loads(sys.stdin.read()), None)))
except Exception as exc:
    print(json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}))
    sys.exit(3)
"""


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.syspath_prepend(str(FIXTURES))
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="grader", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_file(str(FIXTURES / "train_sample.jsonl"), BUCKET, "data/train.jsonl")
        yield s3, role


def _deploy_and_run_locally(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, role: str, reward: str, **kw: Any
) -> None:
    """Deploy ``reward`` to moto, and route invocations to the same zip run in a subprocess."""
    BedrockRewardFunctionOperator(
        task_id="deploy", function_name="grader", reward=reward, role_arn=role, region_name="us-east-1", **kw
    ).execute({})  # type: ignore[arg-type]
    package = build_reward_package(reward)
    code_dir = tmp_path / "task"
    with zipfile.ZipFile(package.write(tmp_path / "grader.zip")) as archive:
        archive.extractall(code_dir)

    def invoke(
        self: RewardLambdaHook, function_name: str, batch: list[Any], qualifier: str | None = None
    ) -> Any:
        deployed = self.conn.get_function_configuration(FunctionName=function_name, Qualifier=qualifier)
        assert deployed["CodeSha256"] == package.code_sha256
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _RUN, str(code_dir), deployed["Handler"]],
            input=json.dumps(batch), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if done.returncode:
            raise GraderInvocationError(f"Unhandled function error: {done.stdout.strip()}")
        return json.loads(done.stdout)

    monkeypatch.setattr(RewardLambdaHook, "invoke_grader", invoke)


def _preflight(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "task_id": "preflight",
        "function_name": "grader",
        "training_data_uri": f"s3://{BUCKET}/data/train.jsonl",
        "report_uri": f"s3://{BUCKET}/reports/preflight.json",
        "region_name": "us-east-1",
        **overrides,
    }
    return BedrockRewardPreflightOperator(**kwargs).execute({})  # type: ignore[arg-type]


def test_good_grader_passes_and_report_is_written(
    aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    s3, role = aws
    _deploy_and_run_locally(monkeypatch, tmp_path, role, "acme_rewards.scoring:gsm8k")
    result = _preflight(response_template="She works it out step by step.\n#### {reference}")
    assert result["passed"] is True
    assert result["kind_scores"]["ideal"] == {"n": 3, "mean": 1.0, "min": 1.0, "max": 1.0}
    stored = json.loads(s3.get_object(Bucket=BUCKET, Key="reports/preflight.json")["Body"].read())
    assert stored["passed"] is True
    assert {c["name"] for c in stored["checks"]} == {
        "records", "contract", "errors", "ideal_top_score", "bad_below_ideal", "latency"
    }  # fmt: skip
    assert stored["run"]["n"] == 12


@pytest.mark.slow
def test_reward_that_cannot_tell_right_from_wrong_fails(
    aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, role = aws
    _deploy_and_run_locally(monkeypatch, tmp_path, role, "acme_rewards.scoring:always_full")
    with pytest.raises(AirflowFailException, match="reward preflight failed 1 check") as raised:
        _preflight(report_uri=str(tmp_path / "reports" / "preflight.json"))
    assert "bad_below_ideal: preflight-0-wrong scored 1, as high as the ideal response's 1" in str(
        raised.value
    )
    assert json.loads((tmp_path / "reports" / "preflight.json").read_text())["passed"] is False


def test_format_reward_without_template_fails_ideal_top_score(
    aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The gsm8k reward pays 0.25 for the #### format; a bare "18" is not what the prompt asks for."""
    _, role = aws
    _deploy_and_run_locally(monkeypatch, tmp_path, role, "acme_rewards.scoring:gsm8k")
    with pytest.raises(
        AirflowFailException, match=r"ideal_top_score: preflight-0-ideal scored 0.75 \(top score 1\)"
    ):
        _preflight()


def test_crashing_grader_fails_on_errors(aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _, role = aws
    _deploy_and_run_locally(monkeypatch, tmp_path, role, "bedrock_rft_provider.rewards.builtin:llm_judge")
    with pytest.raises(AirflowFailException, match=r"errors: .*reported reward_error"):
        _preflight()


def test_missing_function_and_bad_data_fail_clearly(aws: Any, tmp_path: Path) -> None:
    with pytest.raises(AirflowFailException, match="grader function grader does not exist"):
        _preflight()
    bad = tmp_path / "train.jsonl"
    bad.write_text('{"messages": []}\nnot json\n')
    with pytest.raises(AirflowFailException, match=r"train.jsonl:2: not valid JSON"):
        _preflight(training_data_uri=str(bad))


def test_invoke_grader_raises_on_function_error(aws: Any) -> None:
    class Payload:
        def read(self) -> bytes:
            return b'{"errorMessage": "boom", "errorType": "RuntimeError"}'

    class Client:
        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            assert json.loads(kwargs["Payload"]) == [{"id": "a"}]
            assert kwargs["Qualifier"] == "live"
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": Payload()}

    hook = RewardLambdaHook(region_name="us-east-1")
    hook.__dict__["conn"] = Client()
    with pytest.raises(GraderInvocationError, match=r"Unhandled function error: .*boom"):
        hook.invoke_grader("grader", [{"id": "a"}], qualifier="live")
