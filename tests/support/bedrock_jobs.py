"""Shared arguments for RFT job tests: a valid job, and the moto resources it refers to."""

from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
BASE_MODEL = "amazon.nova-2-lite-v1:0:256k"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/bedrock-rft-service"
GRADER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:gsm8k-grader:live"
BUCKET = "rft-test-bucket"


def valid_job_args(**overrides: Any) -> dict[str, Any]:
    """Constructor arguments of a valid RFT job; override any of them."""
    args: dict[str, Any] = {
        "base_model_id": BASE_MODEL,
        "role_arn": ROLE_ARN,
        "training_data_uri": f"s3://{BUCKET}/data/train.jsonl",
        "output_data_uri": f"s3://{BUCKET}/output/",
        "reward_lambda_arn": GRADER_ARN,
        "hyperparameters": {"batch_size": 64, "epoch_count": 2, "learning_rate": 1e-5},
    }
    args.update(overrides)
    return args
