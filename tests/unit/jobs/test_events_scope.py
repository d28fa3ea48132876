"""Job events of another account or region are dropped before the dispatcher makes run ids of them:
their runs would fail at describe_job through this connection and use up ``job__<name>``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bedrock_rft_provider.jobs.events import DETAIL_TYPE, EVENT_SOURCE
from bedrock_rft_provider.triggers.job_events import connection_scope, job_state_changes, jobs_in_scope

HOME = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/"


def _asset_event(*arns: str) -> dict[str, Any]:
    """An asset event as the SQS watcher emits it, one Completed message per job ARN."""
    batch = [
        {
            "MessageId": str(index),
            "Body": json.dumps(
                {
                    "source": EVENT_SOURCE,
                    "detail-type": DETAIL_TYPE,
                    "detail": {"jobArn": arn, "jobName": arn.rsplit("/", 1)[-1], "jobStatus": "Completed"},
                }
            ),
        }
        for index, arn in enumerate(arns)
    ]
    return {"extra": {"payload": {"message_batch": batch}}}


def _read(*arns: str, **scope: Any) -> tuple[list[str], list[str]]:
    changes, problems = job_state_changes([_asset_event(*arns)], **scope)
    return [c.job_name for c in changes], problems


def test_jobs_of_another_account_or_region_are_dropped_with_one_line_each() -> None:
    names, problems = _read(
        HOME + "rft-home",
        "arn:aws:bedrock:us-east-1:999999999999:model-customization-job/rft-other-account",
        "arn:aws:bedrock:eu-west-1:123456789012:model-customization-job/rft-other-region",
        "arn:aws:bedrock:eu-west-1:999999999999:model-customization-job/rft-both",
        account_id="123456789012",
        region="us-east-1",
    )
    assert names == ["rft-home"]
    assert problems == [
        "job rft-other-account (arn:aws:bedrock:us-east-1:999999999999:model-customization-job/"
        "rft-other-account) is in account 999999999999, not the connection's 123456789012: skipped",
        "job rft-other-region (arn:aws:bedrock:eu-west-1:123456789012:model-customization-job/"
        "rft-other-region) is in region eu-west-1, not the connection's us-east-1: skipped",
        "job rft-both (arn:aws:bedrock:eu-west-1:999999999999:model-customization-job/rft-both) is in "
        "account 999999999999, not the connection's 123456789012 and region eu-west-1, not the "
        "connection's us-east-1: skipped",
    ]


@pytest.mark.parametrize(
    ("scope", "kept"),
    [
        ({}, ["rft-home", "rft-away"]),  # nothing known: nothing dropped (the default)
        ({"account_id": None, "region": "us-east-1"}, ["rft-home"]),
        ({"account_id": "123456789012", "region": None}, ["rft-home", "rft-away"]),
    ],
)
def test_an_unknown_account_or_region_is_not_checked(scope: dict[str, Any], kept: list[str]) -> None:
    names, _ = _read(
        HOME + "rft-home", "arn:aws:bedrock:eu-west-1:123456789012:model-customization-job/rft-away", **scope
    )
    assert names == kept


def test_the_partition_does_not_matter_only_account_and_region() -> None:
    arn = "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:model-customization-job/rft-gov"
    changes, _ = job_state_changes([_asset_event(arn)])
    kept, dropped = jobs_in_scope(changes, account_id="123456789012", region="us-gov-west-1")
    assert [c.job_arn for c in kept] == [arn] and dropped == []


def test_the_connection_scope_is_its_region_and_sts_account(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    with mock_aws():
        scope = connection_scope(aws_conn_id=None)
    assert scope == {"account_id": "123456789012", "region": "eu-central-1"}  # moto's default account
