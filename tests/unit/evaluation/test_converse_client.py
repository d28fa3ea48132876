"""The runner's bedrock-runtime client skips botocore's per-call validation (the runner validates once)
and builds its User-Agent header once per feature set (the header botocore would send)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from botocore.useragent import register_feature_id

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.inference import ConverseRunner, converse_client_config, reuse_user_agent
from bedrock_rft_provider.evaluation.records import EvalRecord

from .fake_runtime import FakeRuntime

MODEL_ID = "amazon.nova-2-lite-v1:0"


def _client() -> Any:
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


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: object) -> Iterator[bytes]:
        yield self.body


def _sent_user_agents(client: Any) -> list[str]:
    """Answer every request locally (botocore's ``before-send`` may return the response) and keep the
    ``User-Agent`` header each one was sent with."""
    sent: list[str] = []

    def answer(request: Any, **_: object) -> AWSResponse:
        sent.append(request.headers["User-Agent"].decode())
        body = json.dumps(_answer("4")).encode()
        return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, _RawBody(body))

    client.meta.events.register("before-send.bedrock-runtime.Converse", answer)
    return sent


def _converse(client: Any, *, feature: str | None = None) -> None:
    def use_feature(**_: object) -> None:
        if feature is not None:
            register_feature_id(feature)  # as botocore does for e.g. a compressed request

    client.meta.events.register("before-parameter-build.bedrock-runtime.Converse", use_feature)
    client.converse(modelId=MODEL_ID, messages=[{"role": "user", "content": [{"text": "2 + 2?"}]}])
    client.meta.events.unregister("before-parameter-build.bedrock-runtime.Converse", use_feature)


def test_a_reused_user_agent_is_the_header_botocore_builds_for_each_request() -> None:
    plain, reused = _client(), reuse_user_agent(_client())
    headers = {"plain": _sent_user_agents(plain), "reused": _sent_user_agents(reused)}
    for client in (plain, reused):
        _converse(client)
        _converse(client, feature="GZIP_REQUEST_COMPRESSION")
        _converse(client)
    assert headers["reused"] == headers["plain"]
    first, with_feature, again = headers["reused"]
    assert with_feature != first  # the request's own feature ids are in its header...
    assert again == first  # ...and not in the next request's


def test_the_user_agent_is_built_once_per_feature_set() -> None:
    client: Any = _client()
    creator = client._user_agent_creator
    builds: list[str] = []
    build = creator.to_string

    def counted() -> str:
        builds.append(build())
        return builds[-1]

    creator.to_string = counted
    reuse_user_agent(client)
    _sent_user_agents(client)
    for _ in range(3):
        _converse(client)
    _converse(client, feature="GZIP_REQUEST_COMPRESSION")
    assert len(builds) == 2  # a plain client builds it twice per request: 8 times


def test_a_client_without_botocore_user_agent_is_returned_as_it_is() -> None:
    fake = FakeRuntime()
    assert reuse_user_agent(fake) is fake
    assert not hasattr(fake, "_user_agent_creator")
