"""The training-key lookup reuses only a job that is live or completed when it is described.

A job can move from InProgress (the list summary) to Stopping (the description a moment later, e.g. a
user just marked its run failed): reusing it would wait on a job that ends Stopped (issue 10: "a job
that is Stopping must not be treated as a live job").
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook
from bedrock_rft_provider.jobs.training_key import TRAINING_KEY_TAG
from support.stubbed import install_client, stubbed_client

JOB_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-2-lite-v1:0:256k/abc123"
BASE = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-2-lite-v1:0:256k"


@pytest.mark.parametrize(("described", "reused"), [("InProgress", True), ("Completed", True),
                                                   ("Stopping", False), ("Stopped", False)])  # fmt: skip
def test_only_a_job_still_live_or_completed_is_reused(described: str, reused: bool) -> None:
    hook = BedrockRFTHook(aws_conn_id=None, region_name="us-east-1")
    client, stub = stubbed_client("bedrock")
    install_client(hook, client)
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    summary = {"jobArn": JOB_ARN, "baseModelArn": BASE, "jobName": "rft-a", "status": "InProgress",
               "creationTime": now, "customizationType": "REINFORCEMENT_FINE_TUNING"}  # fmt: skip
    stub.add_response("list_model_customization_jobs", {"modelCustomizationJobSummaries": [summary]})
    stub.add_response("list_tags_for_resource", {"tags": [{"key": TRAINING_KEY_TAG, "value": "k" * 64}]})
    description = {
        **summary,
        "outputModelName": "rft-a-model",
        "roleArn": "arn:aws:iam::123456789012:role/r",
        "status": described,
        "trainingDataConfig": {"s3Uri": "s3://b/t.jsonl"},
        "outputDataConfig": {"s3Uri": "s3://b/o/"},
        "validationDataConfig": {"validators": []},
    }
    description.pop("customizationType")
    stub.add_response("get_model_customization_job", description)
    with stub:
        found = hook.find_job_by_training_key("k" * 64)
    assert (found is not None) is reused
