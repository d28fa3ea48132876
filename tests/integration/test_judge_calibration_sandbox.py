"""BedrockJudgeCalibrationOperator on the sandbox: the moderation grader is deployed as a Lambda, its
LLM judge calls the sandbox's SIMULATED judge through Converse, and the calibration passes, fails below
its threshold with the agreement in the message, or does nothing when no judge is configured."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from bedrock_rft_provider.data.moderation import generate
from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.operators.judge_calibration import BedrockJudgeCalibrationOperator
from bedrock_rft_provider.operators.reward import BedrockRewardFunctionOperator

pytestmark = pytest.mark.integration
REWARD = "bedrock_rft_provider.rewards.moderation:moderation_reward"


@pytest.fixture(scope="module")
def labelled() -> list[dict[str, Any]]:
    return list(generate(24, seed=11))


@pytest.fixture
def grader(bedrock_rft_sandbox_airflow_conn: Any, labelled: list[dict[str, Any]]) -> Any:
    """The moderation grader deployer (judge model from its environment), with the sandbox and data URI."""
    sandbox = bedrock_rft_sandbox_airflow_conn
    suffix = uuid.uuid4().hex[:8]
    role = sandbox.client("iam").create_role(RoleName=f"grader-{suffix}", AssumeRolePolicyDocument="{}")
    bucket = f"calibration-{suffix}"
    sandbox.client("s3").create_bucket(Bucket=bucket)
    body = "\n".join(json.dumps(record) for record in labelled) + "\n"
    sandbox.client("s3").put_object(Bucket=bucket, Key="validation.jsonl", Body=body.encode())

    def deploy(judge_model: str) -> str:
        name = f"moderation-{suffix}"
        BedrockRewardFunctionOperator(
            task_id="deploy",
            function_name=name,
            reward=REWARD,
            role_arn=role["Role"]["Arn"],
            environment={"BEDROCK_RFT_JUDGE_MODEL_ID": judge_model},
        ).execute({})  # type: ignore[arg-type]
        return name

    return sandbox, deploy, f"s3://{bucket}/validation.jsonl"


def _calibrate(function_name: str, data_uri: str, **kwargs: Any) -> dict[str, Any]:
    operator = BedrockJudgeCalibrationOperator(
        task_id="calibrate", function_name=function_name, data_uri=data_uri, **kwargs
    )
    return dict(operator.execute({}))  # type: ignore[arg-type]


def test_the_deployed_judge_is_calibrated_against_the_labels(grader: Any) -> None:
    sandbox, deploy, data_uri = grader
    name = deploy("us.amazon.nova-pro-v1:0")
    report_uri = data_uri.replace("validation.jsonl", "calibration.json")
    report = _calibrate(name, data_uri, judge_component="policy_judge", report_uri=report_uri)
    assert report["passed"] and report["n"] == 48 and 0.8 <= report["agreement"] <= 1.0
    assert report["confusion"]["pass"]["pass"] > 0 and report["confusion"]["fail"]["fail"] > 0
    assert set(report["per_label"]) == {"allow", "flag", "remove"}
    bucket, key = report_uri[len("s3://") :].split("/", 1)
    stored = json.loads(sandbox.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert stored["agreement"] == report["agreement"]
    with pytest.raises(AirflowFailException) as failed:
        _calibrate(name, data_uri, judge_component="policy_judge", min_agreement=1.0)
    first = str(failed.value).splitlines()[0]
    assert first.startswith(f"judge calibration of 'policy_judge': agreement {report['agreement']:.2f} (")
    assert first.endswith("is below the threshold 1.00")


def test_a_judge_model_bedrock_refuses_gives_no_verdicts_and_fails_the_calibration(grader: Any) -> None:
    _, deploy, data_uri = grader
    # The grader reads its judge model from its Lambda environment; the sandbox does not serve this one,
    # so every judge call fails, the composite falls back to the label, and the judge has no verdict.
    name = deploy("anthropic.claude-3-haiku-20240307-v1:0")
    with pytest.raises(AirflowFailException, match="no grader result has a 'policy_judge' component"):
        _calibrate(name, data_uri, judge_component="policy_judge")


def test_without_a_judge_component_nothing_is_called(bedrock_rft_sandbox_airflow_conn: Any) -> None:
    # A grader and data that do not exist: the task must not touch them.
    assert _calibrate("no-such-grader", "s3://no-such-bucket/v.jsonl", judge_component="") == {
        "calibrated": False
    }


def test_a_bad_threshold_is_refused_before_any_call(bedrock_rft_sandbox_airflow_conn: Any) -> None:
    with pytest.raises(ConfigError, match="min_agreement"):
        _calibrate("no-such-grader", "s3://no-such-bucket/v.jsonl", judge_component="j", min_agreement=1.5)


def test_an_unrendered_environment_is_refused_before_any_call(bedrock_rft_sandbox_airflow_conn: Any) -> None:
    operator = BedrockRewardFunctionOperator(
        task_id="deploy",
        function_name="never-created",
        reward=REWARD,
        role_arn="arn:aws:iam::123456789012:role/grader",
        environment="{{ params.grader_environment }}",
    )
    with pytest.raises(ConfigError, match="environment"):
        operator.execute({})  # type: ignore[arg-type]
