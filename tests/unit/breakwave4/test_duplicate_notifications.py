"""Break wave 4: a retried or cleared promote task re-finds its promotion and changes nothing; it must
not announce the same promotion again either (subscribers, e.g. an SQS queue driving a rollout, would
act twice)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from bedrock_rft_provider.notifications import BedrockRFTNotifier
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator
from unit.breakwave4.fakes import MODEL_A, MODEL_B


class TI:
    dag_id, run_id, task_id = "bedrock_rft_retraining", "manual__1", "promote"

    def __init__(self) -> None:
        self.result: Any = None

    def xcom_pull(self, task_ids: str, key: str = "return_value") -> Any:
        return self.result if (task_ids, key) == ("promote", "return_value") else None


@pytest.fixture
def topic() -> Iterator[str]:
    with mock_aws():
        yield boto3.client("sns", "us-east-1").create_topic(Name="rft")["TopicArn"]


def sent(topic_arn: str) -> list[str]:
    return [n[2] for n in sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[topic_arn].sent_notifications]


def try_promote(model_arn: str, run_id: str, topic_arn: str) -> BedrockRFTPromoteOperator:
    """One try of the promote task, then its on_success_callback, as the task runner does."""
    operator = BedrockRFTPromoteOperator(
        task_id="promote", family="gsm8k", custom_model_arn=model_arn, tag_model=False,
        aws_conn_id=None, region_name="us-east-1",
    )  # fmt: skip
    ti = TI()
    context: Any = {"run_id": run_id, "ti": ti, "task": operator}
    ti.result = operator.execute(context)
    BedrockRFTNotifier(event="promotion", topic_arn=topic_arn, family="gsm8k", aws_conn_id=None).notify(
        context
    )
    return operator


def test_a_cleared_promotion_is_announced_once(topic: str) -> None:
    try_promote(MODEL_A, "run-1", topic)
    again = try_promote(MODEL_A, "run-1", topic)  # the task cleared and run again
    assert again.already_written == 1
    assert sent(topic) == ["Bedrock RFT gsm8k: promotion - version 1"]


def test_a_new_promotion_is_announced(topic: str) -> None:
    first = try_promote(MODEL_A, "run-1", topic)
    second = try_promote(MODEL_B, "run-2", topic)
    assert first.already_written is None and second.already_written is None
    assert sent(topic) == [
        "Bedrock RFT gsm8k: promotion - version 1",
        "Bedrock RFT gsm8k: promotion - version 2",
    ]
