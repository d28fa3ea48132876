"""The runner's bedrock-runtime client skips botocore's per-call validation; the runner validates once."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.inference import ConverseRunner, converse_client_config
from bedrock_rft_provider.evaluation.records import EvalRecord

MODEL_ID = "amazon.nova-2-lite-v1:0"


def _client() -> object:
    config = converse_client_config(read_timeout=30, max_pool_connections=10)
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def _records(n: int) -> list[EvalRecord]:
    return [
        EvalRecord(f"r{i}", [{"role": "user", "content": f"what is {i} + {i}?"}], str(2 * i))
        for i in range(n)
    ]


def _answer(text: str) -> dict[str, object]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 5, "outputTokens": 1, "totalTokens": 6},
        "metrics": {"latencyMs": 1},
    }


def test_a_request_the_model_rejects_stops_the_run_before_anything_is_sent(tmp_path: Path) -> None:
    client = _client()
    runner = ConverseRunner(client, MODEL_ID, concurrency=2, inference_config={"maxTokens": "64"})
    out = tmp_path / "responses.jsonl"
    with Stubber(client) as stubber, pytest.raises(ConfigError) as raised:  # type: ignore[arg-type]
        runner.run(_records(3), out)
    stubber.assert_no_pending_responses()
    assert str(raised.value).startswith("record r0: Invalid type for parameter inferenceConfig.maxTokens")
    assert not out.exists() or out.read_text() == ""


def test_valid_requests_are_sent_as_rendered(tmp_path: Path) -> None:
    client = _client()
    runner = ConverseRunner(client, MODEL_ID, concurrency=1, inference_config={"maxTokens": 64})
    out = tmp_path / "responses.jsonl"
    with Stubber(client) as stubber:  # type: ignore[arg-type]
        for i in range(2):
            expected = {
                "modelId": MODEL_ID,
                "messages": [{"role": "user", "content": [{"text": f"what is {i} + {i}?"}]}],
                "inferenceConfig": {"maxTokens": 64},
            }
            stubber.add_response("converse", _answer(str(2 * i)), expected)
        stats = runner.run(_records(2), out)
        stubber.assert_no_pending_responses()
    assert stats.completed == 2
