"""RFTJobSpec renders the exact RFT request and compares itself with an existing job."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.spec import RFTJobSpec
from support.bedrock_jobs import GRADER_ARN, ROLE_ARN, valid_job_args


def _spec(**overrides: object) -> RFTJobSpec:
    args = valid_job_args(**overrides)
    args.setdefault("job_name", "rft-job-1")
    args.setdefault("custom_model_name", "rft-model-1")
    return RFTJobSpec.build(**args)


def test_request_is_rft_with_lambda_grader_and_no_sft_hyperparameters() -> None:
    request = _spec(validation_data_uri="s3://rft-test-bucket/data/validation.jsonl").to_request()
    assert request["customizationType"] == "REINFORCEMENT_FINE_TUNING"
    assert request["customizationConfig"] == {
        "rftConfig": {
            "graderConfig": {"lambdaGrader": {"lambdaArn": GRADER_ARN}},
            "hyperParameters": {"batchSize": 64, "epochCount": 2, "learningRate": 1e-5},
        }
    }
    assert "hyperParameters" not in request
    assert request["validationDataConfig"] == {
        "validators": [{"s3Uri": "s3://rft-test-bucket/data/validation.jsonl"}]
    }
    assert request["roleArn"] == ROLE_ARN


def test_optional_members_are_rendered_only_when_given() -> None:
    bare = _spec().to_request()
    assert not {"validationDataConfig", "vpcConfig", "customModelKmsKeyId", "jobTags"} & set(bare)
    full = _spec(
        vpc_config={"subnet_ids": ["subnet-1"], "security_group_ids": ["sg-1"]},
        kms_key_id="alias/rft",
        job_tags={"team": "ml"},
        custom_model_tags={"team": "ml"},
    ).to_request()
    assert full["vpcConfig"] == {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]}
    assert full["customModelKmsKeyId"] == "alias/rft"
    assert full["jobTags"] == full["customModelTags"] == [{"key": "team", "value": "ml"}]


def test_client_token_changes_with_any_request_field() -> None:
    assert _spec().client_request_token() == _spec().client_request_token()
    assert _spec().client_request_token() != _spec(hyperparameters={"batch_size": 32}).client_request_token()


def test_same_request_has_no_differences_even_without_the_token() -> None:
    spec = _spec()
    existing = {
        "jobName": "rft-job-1",
        "outputModelName": "rft-model-1",
        "roleArn": ROLE_ARN,
        "baseModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-2-lite-v1:0:256k",
        "trainingDataConfig": {"s3Uri": spec.training_data_uri},
        "outputDataConfig": {"s3Uri": spec.output_data_uri},
        "customizationConfig": spec.to_request()["customizationConfig"],
    }
    assert spec.differences_from(existing) == []


def test_a_different_request_lists_each_difference() -> None:
    spec = _spec()
    existing = {
        "roleArn": ROLE_ARN,
        "trainingDataConfig": {"s3Uri": "s3://rft-test-bucket/other.jsonl"},
        "baseModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0",
    }
    differences = spec.differences_from(existing)
    assert len(differences) == 2
    assert differences[0].startswith("training_data_uri")
    assert differences[1].startswith("base_model_id")


def test_attempt_spec_renames_job_and_model() -> None:
    spec = _spec().for_attempt(3)
    assert (spec.job_name, spec.custom_model_name) == ("rft-job-1-a3", "rft-model-1-a3")


def test_too_many_validation_files() -> None:
    with pytest.raises(ConfigError, match="maximum is 10"):
        _spec(validation_data_uri=[f"s3://rft-test-bucket/v{i}.jsonl" for i in range(11)])
