"""The evaluation hook's runtime client has the runner's settings (converse_client_config) and reuses its
User-Agent header (reuse_user_agent)."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.hooks.evaluation import BedrockRFTEvaluationHook


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    hook = BedrockRFTEvaluationHook(aws_conn_id=None, region_name="us-east-1")
    return hook.runtime_client(read_timeout=7, max_pool_connections=10)


class _Sent(Exception):
    """Raised where the request would go out: it got past botocore's client-side checks."""


def _stop_at_send(request: Any, **_: object) -> None:
    raise _Sent(request.headers["User-Agent"].decode())


def test_the_runtime_client_has_the_runners_timeout_pool_and_no_botocore_retries(client: Any) -> None:
    config = client.meta.config
    assert (config.read_timeout, config.max_pool_connections) == (7, 10)
    assert config.retries["total_max_attempts"] == 1


def test_the_runtime_client_leaves_request_validation_to_the_runner(client: Any) -> None:
    client.meta.events.register("before-send.bedrock-runtime.Converse", _stop_at_send)
    with pytest.raises(_Sent):  # botocore would raise ParamValidationError for the text maxTokens
        client.converse(
            modelId="amazon.nova-2-lite-v1:0",
            messages=[{"role": "user", "content": [{"text": "2 + 2?"}]}],
            inferenceConfig={"maxTokens": "64"},
        )


def test_the_runtime_client_builds_its_user_agent_once(client: Any) -> None:
    header = client._user_agent_creator.to_string()
    assert client._user_agent_creator.to_string() is header
    client.meta.events.register("before-send.bedrock-runtime.Converse", _stop_at_send)
    with pytest.raises(_Sent) as sent:
        client.converse(
            modelId="amazon.nova-2-lite-v1:0", messages=[{"role": "user", "content": [{"text": "x"}]}]
        )
    assert str(sent.value).startswith("Boto3/") and "Airflow/" in str(sent.value)
