"""Fixtures for the open-weight client tests: the fake API wired into every BedrockOpenWeightHook.

``openweight_api`` is the seam: these tests talk to the fake through the real ``openai`` client; the
sandbox's emulation can replace it by setting the connection's ``endpoint_url`` instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook
from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook
from tests.support.openweight_fake import FakeOpenWeightAPI

TRAIN_URI = "s3://rft-bucket/run/train.jsonl"
VALIDATION_URI = "s3://rft-bucket/run/validation.jsonl"
DATA = {
    TRAIN_URI: b'{"messages": [{"role": "user", "content": "2+2?"}], "reference_answer": "4"}\n',
    VALIDATION_URI: b'{"messages": [{"role": "user", "content": "3+3?"}], "reference_answer": "6"}\n',
}
GRADER = {"code_sha256": "c0de", "handler": "h.handler", "runtime": "python3.12", "environment": {}}
LAMBDA_ARN = "arn:aws:lambda:us-west-2:123456789012:function:grader:live"


@pytest.fixture
def openweight_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenWeightAPI]:
    fake = FakeOpenWeightAPI()
    monkeypatch.setattr(
        BedrockOpenWeightHook, "_http_client", lambda self: httpx2.Client(transport=fake.transport())
    )
    monkeypatch.setattr(
        BedrockOpenWeightHook,
        "_async_http_client",
        lambda self: httpx2.AsyncClient(transport=fake.async_transport()),
    )
    monkeypatch.setattr(BedrockOpenWeightHook, "read_data", _read_data)
    monkeypatch.setattr(BedrockRFTHook, "grader_identity", lambda self, arn: dict(GRADER))
    yield fake


def _read_data(self: BedrockOpenWeightHook, uri: str) -> tuple[bytes, str]:
    import hashlib

    return DATA[uri], hashlib.sha256(DATA[uri]).hexdigest()
