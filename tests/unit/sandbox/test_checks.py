"""Service-side request checks, without a server (the integration tests cover the wire)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bedrock_rft_provider.sandbox.checks import check_create_job
from bedrock_rft_provider.sandbox.protocol import ServiceError

VALID: dict[str, Any] = {
    "jobName": "rft-job-1",
    "customModelName": "rft-model_1",
    "roleArn": "arn:aws:iam::123456789012:role/rft",
    "baseModelIdentifier": "amazon.nova-2-lite-v1:0:256k",
    "customizationType": "REINFORCEMENT_FINE_TUNING",
    "trainingDataConfig": {"s3Uri": "s3://bucket-1/train.jsonl"},
    "outputDataConfig": {"s3Uri": "s3://bucket-1/out/"},
    "customizationConfig": {
        "rftConfig": {
            "graderConfig": {
                "lambdaGrader": {"lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:g:3"}
            },
            "hyperParameters": {
                "batchSize": 512,
                "epochCount": 50,
                "learningRate": 1e-3,
                "evalInterval": 100,
            },
        }
    },
}


def _error(request: dict[str, Any]) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        check_create_job(request)
    return caught.value


def test_the_bounds_themselves_are_accepted() -> None:
    check_create_job(copy.deepcopy(VALID))


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("job-1", True),
        ("Job.v2+x", True),
        ("a--b", True),
        ("job_1", False),
        ("-job", False),
        ("a" * 63, True),
    ],
)
def test_job_name_pattern(name: str, ok: bool) -> None:
    request = {**copy.deepcopy(VALID), "jobName": name}
    if ok:
        check_create_job(request)
    else:
        assert "at 'jobName'" in _error(request).message


def test_sft_hyperparameters_map_is_rejected_for_rft() -> None:
    request = {**copy.deepcopy(VALID), "hyperParameters": {"epochCount": "2"}}
    assert "customizationConfig.rftConfig.hyperParameters" in _error(request).message


def test_other_customization_types_are_not_emulated() -> None:
    error = _error({**copy.deepcopy(VALID), "customizationType": "FINE_TUNING"})
    assert (error.code, error.status) == ("NotImplementedException", 501)


def test_missing_rft_config_and_grader_are_reported() -> None:
    request = copy.deepcopy(VALID)
    request["customizationConfig"] = {"rftConfig": {"hyperParameters": {}}}
    assert "'customizationConfig.rftConfig.graderConfig' is required" in _error(request).message


def test_too_many_validators() -> None:
    request = {**copy.deepcopy(VALID), "validationDataConfig": {"validators": [{"s3Uri": "s3://b-1/v"}] * 11}}
    assert "have length less than or equal to 10" in _error(request).message
