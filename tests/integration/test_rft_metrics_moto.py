"""BedrockRFTHook.read_training_metrics reads the job's own metric files from its S3 output prefix."""

from __future__ import annotations

import boto3
from moto import mock_aws

from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook
from bedrock_rft_provider.jobs.metrics import TRAIN_REWARD

CSV_A = "step_number,critic/rewards/mean\n1,0.2\n2,0.6\n"
CSV_B = "step_number,critic/rewards/mean\n1,0.9\n"


@mock_aws
def test_reads_the_jobs_metrics_and_not_another_jobs() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="rft-out")
    s3.put_object(
        Bucket="rft-out", Key="runs/job-a/training_artifacts/step_wise_training_metrics.csv", Body=CSV_A
    )
    s3.put_object(
        Bucket="rft-out", Key="runs/job-b/training_artifacts/step_wise_training_metrics.csv", Body=CSV_B
    )
    hook = BedrockRFTHook(aws_conn_id=None, region_name="us-east-1")
    job = {"jobName": "job-a", "jobArn": "arn:x/job-a", "outputDataConfig": {"s3Uri": "s3://rft-out/runs/"}}
    metrics = hook.read_training_metrics(job)
    assert metrics.values(TRAIN_REWARD) == [0.2, 0.6]
    assert metrics.sources == ["runs/job-a/training_artifacts/step_wise_training_metrics.csv"]


@mock_aws
def test_no_metrics_files_gives_empty_metrics() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="rft-out")
    hook = BedrockRFTHook(aws_conn_id=None, region_name="us-east-1")
    job = {"jobName": "job-a", "outputDataConfig": {"s3Uri": "s3://rft-out/runs/"}}
    assert hook.read_training_metrics(job).series == {}


@mock_aws
def test_missing_bucket_is_tolerated() -> None:
    hook = BedrockRFTHook(aws_conn_id=None, region_name="us-east-1")
    job = {"jobName": "job-a", "outputDataConfig": {"s3Uri": "s3://no-such-bucket/runs/"}}
    assert hook.read_training_metrics(job).series == {}
