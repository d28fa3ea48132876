"""Every invalid job configuration is rejected before any AWS call, naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.errors import ConfigError, ConfigErrors
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from support.airflow_context import make_context
from support.bedrock_jobs import valid_job_args
from support.stubbed import install_client, stubbed_client

HP = {"batch_size": 64}

BAD_CONFIGS: list[tuple[str, dict[str, Any], str]] = [
    ("job name with underscore", {"job_name": "rft_job"}, "job_name"),
    ("job name too long", {"job_name": "j" * 64}, "job_name"),
    ("job name starting with dash", {"job_name": "-rft"}, "job_name"),
    ("job name empty string", {"job_name": " "}, "job_name"),
    ("model name with double dash", {"custom_model_name": "rft--model"}, "custom_model_name"),
    ("model name too long", {"custom_model_name": "m" * 64}, "custom_model_name"),
    ("epochs below 1", {"hyperparameters": {"epoch_count": 0}}, "hyperparameters.epoch_count"),
    ("epochs above 50", {"hyperparameters": {"epoch_count": 51}}, "hyperparameters.epoch_count"),
    ("batch below 16", {"hyperparameters": {"batch_size": 8}}, "hyperparameters.batch_size"),
    ("batch above 512", {"hyperparameters": {"batch_size": 1024}}, "hyperparameters.batch_size"),
    (
        "learning rate below 1e-7",
        {"hyperparameters": {"learning_rate": 1e-9}},
        "hyperparameters.learning_rate",
    ),
    ("learning rate above 1e-3", {"hyperparameters": {"learningRate": 0.1}}, "hyperparameters.learning_rate"),
    (
        "samples per prompt below 2",
        {"hyperparameters": {"training_sample_per_prompt": 1}},
        "hyperparameters.training_sample_per_prompt",
    ),
    (
        "samples per prompt above 16",
        {"hyperparameters": {"training_sample_per_prompt": 32}},
        "hyperparameters.training_sample_per_prompt",
    ),
    ("eval interval below 1", {"hyperparameters": {"eval_interval": 0}}, "hyperparameters.eval_interval"),
    ("eval interval above 100", {"hyperparameters": {"eval_interval": 500}}, "hyperparameters.eval_interval"),
    (
        "reasoning effort unknown",
        {"hyperparameters": {"reasoning_effort": "max"}},
        "hyperparameters.reasoning_effort",
    ),
    (
        "max prompt length zero",
        {"hyperparameters": {"max_prompt_length": 0}},
        "hyperparameters.max_prompt_length",
    ),
    (
        "inference tokens negative",
        {"hyperparameters": {"inference_max_tokens": -1}},
        "hyperparameters.inference_max_tokens",
    ),
    ("batch size as a string", {"hyperparameters": {"batch_size": "64"}}, "hyperparameters.batch_size"),
    ("unknown hyperparameter", {"hyperparameters": {"lora_rank": 32}}, "hyperparameters.lora_rank"),
    ("hyperparameters not a dict", {"hyperparameters": "batch_size=64"}, "hyperparameters"),
    (
        "training uri with uppercase bucket",
        {"training_data_uri": "s3://My_Bucket/train.jsonl"},
        "training_data_uri",
    ),
    ("training uri not s3", {"training_data_uri": "https://example.com/train.jsonl"}, "training_data_uri"),
    ("output uri missing", {"output_data_uri": ""}, "output_data_uri"),
    ("output uri not a string", {"output_data_uri": ["s3://rft-test-bucket/out/"]}, "output_data_uri"),
    ("validation uri local path", {"validation_data_uri": "/tmp/validation.jsonl"}, "validation_data_uri"),
    ("lambda given by name only", {"reward_lambda_arn": "gsm8k-grader"}, "reward_lambda_arn"),
    (
        "lambda arn with bad region",
        {"reward_lambda_arn": "arn:aws:lambda:useast1:123456789012:function:grader"},
        "reward_lambda_arn",
    ),
    ("role arn of a user", {"role_arn": "arn:aws:iam::123456789012:user/alice"}, "role_arn"),
    ("role arn missing", {"role_arn": None}, "role_arn"),
    ("base model missing", {"base_model_id": ""}, "base_model_id"),
    ("kms key malformed", {"kms_key_id": "not a key!"}, "kms_key_id"),
    (
        "vpc without security groups",
        {"vpc_config": {"subnet_ids": ["subnet-1"]}},
        "vpc_config.security_group_ids",
    ),
    (
        "vpc with six security groups",
        {"vpc_config": {"subnet_ids": ["s-1"], "security_group_ids": ["sg"] * 6}},
        "vpc_config.security_group_ids",
    ),
    ("tag key with bad characters", {"tags": {"team#1": "ml"}}, "job_tags[0].key"),
    ("tags not a dict", {"tags": "team=ml"}, "job_tags"),
    # A templated flag renders as a string: a typo must not silently mean "reuse" (or "train").
    ("force_retrain misspelt", {"force_retrain": "ture"}, "force_retrain"),
    ("force_retrain a jinja leftover", {"force_retrain": "{{ params.force_retrain }}"}, "force_retrain"),
    ("namespace with a space", {"namespace": "prod eu"}, "namespace"),
]


@pytest.mark.parametrize(("case", "overrides", "field"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_is_rejected_before_any_aws_call(case: str, overrides: dict[str, Any], field: str) -> None:
    operator = BedrockRFTJobOperator(task_id="train", **valid_job_args(**overrides))
    client, stubber = stubbed_client("bedrock")
    install_client(operator.hook, client)
    with stubber, pytest.raises(ConfigError) as info:  # the stubber has no responses: any call would fail
        operator.execute(make_context())
    errors = info.value.errors if isinstance(info.value, ConfigErrors) else [info.value]
    assert field in [e.field for e in errors], str(info.value)
    assert field in str(info.value)
    stubber.assert_no_pending_responses()


def test_there_are_at_least_25_distinct_bad_configurations() -> None:
    assert len({case for case, _, _ in BAD_CONFIGS}) >= 25
