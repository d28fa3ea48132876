"""Builders shared by the sandbox tests: reward zips, datasets, and a ready-to-train AWS world."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

# Scores 1.0 when the response's final answer line carries the reference number.
GRADER_RIGHT_NUMBER = r"""
import re

FINAL = re.compile(r"(?:####|answer is|\\boxed\{)\s*(-?\d+(?:\.\d+)?)|^(-?\d+(?:\.\d+)?)$", re.M)

def handler(event, context):
    results = []
    for sample in event:
        reference = str(sample["metadata"]["reference_answer"]).split("####")[-1].strip()
        found = FINAL.search(sample["messages"][-1]["content"])
        answer = (found.group(1) or found.group(2)) if found else None
        score = 1.0 if answer == reference else 0.0
        has_answer = {"name": "has_answer", "value": float(bool(found)), "type": "Metric"}
        results.append({"id": sample["id"], "aggregate_reward_score": score, "metrics_list": [has_answer]})
    return results
"""

GRADER_FLAT = """
def handler(event, context):
    return [{"id": sample["id"], "aggregate_reward_score": 0.0} for sample in event]
"""

# Raises on every call and counts its calls in the file named by COUNT_FILE.
GRADER_CRASHING = """
import os

def handler(event, context):
    with open(os.environ["COUNT_FILE"], "a") as f:
        f.write("x")
    raise ValueError("reference_answer missing from metadata")
"""


def zip_module(source: str, module: str = "bedrock_rft_entry") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module}.py", source)
    return buffer.getvalue()


def numeric_records(count: int, start: int = 0) -> list[dict[str, Any]]:
    """GSM8K-style prompts with a numeric reference answer (a solution ending in ``#### N``)."""
    return [
        {
            "id": f"q{i}",
            "messages": [
                {"role": "system", "content": "Answer with the final number after ####."},
                {
                    "role": "user",
                    "content": f"Ann has {i} marbles and wins {i + 7} more. How many now? ({i})",
                },
            ],
            "reference_answer": f"{i} + {i + 7} = {2 * i + 7}\n#### {2 * i + 7}",
            "difficulty": "easy",
        }
        for i in range(start, start + count)
    ]


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(r) for r in records).encode()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class World:
    """A role, a bucket with train/validation files and an output prefix, in one sandbox."""

    sandbox: Any
    role_arn: str
    bucket: str
    train_uri: str
    validation_uri: str
    output_uri: str

    def deploy_grader(self, source: str, environment: dict[str, str] | None = None) -> str:
        """Create + publish a reward Lambda from ``source``; returns the version ARN."""
        lam = self.sandbox.client("lambda")
        name = unique("grader")
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=self.role_arn,
            Handler="bedrock_rft_entry.handler",
            Code={"ZipFile": zip_module(source)},
            Timeout=60,
            Environment={"Variables": environment or {}},
        )
        return str(lam.publish_version(FunctionName=name)["FunctionArn"])

    def job_request(self, lambda_arn: str, **hyper: Any) -> dict[str, Any]:
        name = unique("rft-job")
        return {
            "jobName": name,
            "customModelName": name.replace("rft-job", "model"),
            "roleArn": self.role_arn,
            "baseModelIdentifier": "amazon.nova-2-lite-v1:0:256k",
            "customizationType": "REINFORCEMENT_FINE_TUNING",
            "trainingDataConfig": {"s3Uri": self.train_uri},
            "validationDataConfig": {"validators": [{"s3Uri": self.validation_uri}]},
            "outputDataConfig": {"s3Uri": self.output_uri},
            "customizationConfig": {
                "rftConfig": {
                    "graderConfig": {"lambdaGrader": {"lambdaArn": lambda_arn}},
                    "hyperParameters": {
                        "epochCount": 2,
                        "batchSize": 16,
                        "learningRate": 1e-4,
                        "trainingSamplePerPrompt": 4,
                        "evalInterval": 4,
                        **hyper,
                    },
                }
            },
        }


def make_world(sandbox: Any, n_train: int = 120, n_validation: int = 30) -> World:
    iam, s3 = sandbox.client("iam"), sandbox.client("s3")
    role_name = unique("rft-role")
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    bucket = unique("rft-data")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="data/train.jsonl", Body=jsonl(numeric_records(n_train)))
    s3.put_object(Bucket=bucket, Key="data/validation.jsonl", Body=jsonl(numeric_records(n_validation, 1000)))
    return World(
        sandbox,
        role_arn,
        bucket,
        f"s3://{bucket}/data/train.jsonl",
        f"s3://{bucket}/data/validation.jsonl",
        f"s3://{bucket}/output/",
    )


def wait_for_job(
    bedrock: Any, job: str, until: tuple[str, ...] = ("Completed", "Failed", "Stopped"), timeout: float = 60
) -> dict[str, Any]:
    """Poll get_model_customization_job until its status is in ``until`` (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        found = bedrock.get_model_customization_job(jobIdentifier=job)
        if found["status"] in until:
            return dict(found)
        if time.monotonic() > deadline:
            raise AssertionError(
                f"job {job} still {found['status']} after {timeout}s: {found.get('statusDetails')}"
            )
        time.sleep(0.05)


def read_metrics(sandbox: Any, bucket: str, job_name: str) -> list[dict[str, str]]:
    import csv

    body = (
        sandbox.client("s3")
        .get_object(
            Bucket=bucket, Key=f"output/{job_name}/training_artifacts/step_wise_training_metrics.csv"
        )["Body"]
        .read()
        .decode()
    )
    return list(csv.DictReader(io.StringIO(body)))


def active_deployment(bedrock: Any, model_arn: str, name: str | None = None, timeout: float = 120) -> str:
    """Create an on-demand deployment of ``model_arn`` and poll until it is Active (bounded); its ARN."""
    arn = bedrock.create_custom_model_deployment(
        modelDeploymentName=name or unique("dep"), modelArn=model_arn
    )["customModelDeploymentArn"]
    deadline = time.monotonic() + timeout
    while bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)["status"] != "Active":
        assert time.monotonic() < deadline, f"{arn} not Active after {timeout}s"
        time.sleep(0.2)
    return str(arn)
