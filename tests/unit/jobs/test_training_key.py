"""The training key changes with everything that decides the model, and with nothing else (fault 2)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bedrock_rft_provider.jobs import RFTHyperParameters, RFTJobSpec
from bedrock_rft_provider.jobs.training_key import TRAINING_KEY_TAG, key_tags, training_key

SPEC = RFTJobSpec.build(
    job_name="rft-a",
    custom_model_name="rft-a",
    base_model_id="amazon.nova-2-lite-v1:0:256k",
    role_arn="arn:aws:iam::123456789012:role/bedrock-rft-service",
    training_data_uri="s3://bucket/run-1/train.jsonl",
    output_data_uri="s3://bucket/run-1/output/",
    reward_lambda_arn="arn:aws:lambda:us-east-1:123456789012:function:grader:live",
    hyperparameters={"batch_size": 16},
)
DATA = (("s3://bucket/run-1/train.jsonl", "a" * 64),)
GRADER = {"code_sha256": "c0de", "handler": "h.handler", "runtime": "python3.12", "environment": {}}


def _key(spec: RFTJobSpec = SPEC, data: Any = DATA, grader: Any = GRADER, namespace: str = "ns") -> str:
    return training_key(spec, data_sha256=data, grader=grader, namespace=namespace).digest


@pytest.mark.parametrize(
    "change",
    [
        {"job_name": "rft-b", "custom_model_name": "rft-b"},
        {"output_data_uri": "s3://bucket/run-2/output/"},
        {"training_data_uri": "s3://bucket/run-2/train.jsonl"},  # same content elsewhere
        {"reward_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:grader:7"},  # same code
        {"job_tags": (("team", "ml"),)},
    ],
    ids=["names", "output", "data-uri", "grader-arn", "tags"],
)
def test_what_does_not_change_the_model_does_not_change_the_key(change: dict[str, Any]) -> None:
    assert _key(dataclasses.replace(SPEC, **change)) == _key()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": (("s3://bucket/run-1/train.jsonl", "b" * 64),)},
        {"data": (*DATA, ("s3://bucket/run-1/validation.jsonl", "c" * 64))},
        {"grader": {**GRADER, "code_sha256": "other"}},
        {"grader": {**GRADER, "environment": {"RUBRIC": "strict"}}},
        {"namespace": "other-install"},
        {"spec": dataclasses.replace(SPEC, hyperparameters=RFTHyperParameters(batch_size=32))},
        {"spec": dataclasses.replace(SPEC, base_model_id="amazon.nova-2-pro-v1:0")},
        {"spec": dataclasses.replace(SPEC, role_arn="arn:aws:iam::123456789012:role/other")},
    ],
    ids=[
        "train-content",
        "validation-added",
        "grader-code",
        "grader-env",
        "namespace",
        "hyper",
        "base",
        "role",
    ],
)
def test_what_changes_the_model_changes_the_key(kwargs: dict[str, Any]) -> None:
    assert _key(**kwargs) != _key()


def test_the_key_is_a_valid_tag() -> None:
    key = training_key(SPEC, data_sha256=DATA, grader=GRADER, namespace="ns")
    tags = dict(key_tags(key))
    assert tags[TRAINING_KEY_TAG] == key.digest and len(key.digest) == 64
    assert "train.jsonl sha256 aaaaaaaaaaaa" in key.describe()
