"""Fixtures of the hook tests: one storage base on S3 (moto) and one local, and a StorageHook."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from bedrock_rft_provider.hooks.storage import StorageHook


@pytest.fixture(params=["s3", "local"])
def base(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "local":
        yield str(tmp_path / "store")
        return
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="store")
        yield "s3://store/prefix"


@pytest.fixture
def storage() -> StorageHook:
    return StorageHook(aws_conn_id=None, region_name="us-east-1")
