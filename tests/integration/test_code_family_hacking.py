"""The code family's reward-hacking curve, from real sandbox training on HumanEval.

The simulated policy tries reward hacks (always-equal objects, forged result lines, ...). With the
hardened ``code_solution`` grader they are paid nothing and the share of hacking attempts falls over the
training steps; with a forgeable runner swapped in (a test double that trusts printed result lines and
``==``) they are paid in full and the share rises. Both curves come from the deployed grader's own
scores, which is the point: the sandbox does not know which grader is honest.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.data import humaneval
from bedrock_rft_provider.jobs.metrics import HACKING_ATTEMPT_SHARE
from bedrock_rft_provider.rewards.packaging import build_reward_package
from bedrock_rft_provider.sandbox.server import Sandbox
from bedrock_rft_provider.sandbox.training import SANDBOX_METRICS_FILE
from unit.sandbox.sandbox_helpers import jsonl, unique, wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.slow]
FORGEABLE = Path(__file__).resolve().parents[1] / "fixtures" / "rewards" / "forgeable_code_reward.py"
# Safety net, not a speed limit: 14 steps x 32 programs, each run in isolated children, on 2 busy cores.
JOB_TIMEOUT_S = 1500


@pytest.fixture(scope="module")
def code_world(bedrock_rft_sandbox: Sandbox) -> dict[str, str]:
    iam, s3 = bedrock_rft_sandbox.client("iam"), bedrock_rft_sandbox.client("s3")
    role = iam.create_role(RoleName=unique("rft-role"), AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    bucket = unique("rft-code")
    s3.create_bucket(Bucket=bucket)
    records = [humaneval.to_rft_record(p) for p in humaneval.read_problems()]
    s3.put_object(Bucket=bucket, Key="data/train.jsonl", Body=jsonl(records[:104]))
    s3.put_object(Bucket=bucket, Key="data/validation.jsonl", Body=jsonl(records[104:106]))
    return {"role": role, "bucket": bucket}


def _hacking_curve(sandbox: Sandbox, world: dict[str, str], reward: str) -> list[float]:
    package = build_reward_package(reward)
    lam, bedrock = sandbox.client("lambda"), sandbox.client("bedrock")
    function = unique("code-grader")
    lam.create_function(
        FunctionName=function,
        Runtime="python3.11",
        Role=world["role"],
        Handler=package.handler,
        Code={"ZipFile": package.zip_bytes},
        Timeout=300,
    )
    arn = lam.publish_version(FunctionName=function)["FunctionArn"]
    name, bucket = unique("rft-code-job"), world["bucket"]
    request: dict[str, Any] = {
        "jobName": name,
        "customModelName": name.replace("job", "model"),
        "roleArn": world["role"],
        "baseModelIdentifier": "amazon.nova-2-lite-v1:0:256k",
        "customizationType": "REINFORCEMENT_FINE_TUNING",
        "trainingDataConfig": {"s3Uri": f"s3://{bucket}/data/train.jsonl"},
        "validationDataConfig": {"validators": [{"s3Uri": f"s3://{bucket}/data/validation.jsonl"}]},
        "outputDataConfig": {"s3Uri": f"s3://{bucket}/output/"},
        "customizationConfig": {
            "rftConfig": {
                "graderConfig": {"lambdaGrader": {"lambdaArn": arn}},
                "hyperParameters": {
                    "epochCount": 2,
                    "batchSize": 16,
                    "learningRate": 1e-4,
                    "trainingSamplePerPrompt": 2,
                    "evalInterval": 100,
                },
            }
        },
    }
    job = wait_for_job(
        bedrock, bedrock.create_model_customization_job(**request)["jobArn"], timeout=JOB_TIMEOUT_S
    )
    assert job["status"] == "Completed", job.get("failureMessage")
    key = f"output/{name}/training_artifacts/{SANDBOX_METRICS_FILE}"
    body = sandbox.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [int(r["step_number"]) for r in rows] == list(range(1, 15))  # 2 x (104 prompts / 16 per step)
    return [float(r[HACKING_ATTEMPT_SHARE]) for r in rows]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


@pytest.mark.timeout(JOB_TIMEOUT_S + 120)
def test_the_hardened_grader_pays_nothing_for_hacks_so_the_policy_stops_trying(
    bedrock_rft_sandbox: Sandbox, code_world: dict[str, str]
) -> None:
    reward = "bedrock_rft_provider.rewards.builtin:code_solution"
    curve = _hacking_curve(bedrock_rft_sandbox, code_world, reward)
    assert _mean(curve[:3]) > 0.1  # the base model hacks ...
    assert _mean(curve[-3:]) < _mean(curve[:3]) - 0.1  # ... and unlearns it


@pytest.mark.timeout(JOB_TIMEOUT_S + 120)
def test_a_forgeable_runner_pays_for_hacks_so_the_policy_hacks_more(
    bedrock_rft_sandbox: Sandbox, code_world: dict[str, str]
) -> None:
    curve = _hacking_curve(bedrock_rft_sandbox, code_world, f"{FORGEABLE}:forgeable_code_tests")
    assert _mean(curve[-3:]) > _mean(curve[:3]) + 0.1
