"""The latency knob is the service's response time: the sandbox's own work on a request counts towards it."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.sandbox import app as sandbox_app
from bedrock_rft_provider.sandbox.config import SandboxConfig


@pytest.fixture(scope="module")
def paced() -> sandbox_app.SandboxApp:
    return sandbox_app.SandboxApp(SandboxConfig(time_scale=0.0, latency_ms={"Converse": 300}))


@pytest.mark.parametrize(
    ("already_spent_s", "expected_sleep_s"),
    [(0.0, 0.3), (0.1, 0.2), (0.31, None), (5.0, None)],
    ids=["fresh", "partly-spent", "all-spent", "overdue"],
)
def test_only_what_is_left_of_the_latency_is_slept(
    paced: sandbox_app.SandboxApp,
    monkeypatch: pytest.MonkeyPatch,
    already_spent_s: float,
    expected_sleep_s: float | None,
) -> None:
    now = 1000.0
    slept: list[float] = []
    monkeypatch.setattr(sandbox_app.time, "monotonic", lambda: now)
    monkeypatch.setattr(sandbox_app.time, "sleep", slept.append)
    paced._pace("Converse", now - already_spent_s)
    assert slept == ([] if expected_sleep_s is None else [pytest.approx(expected_sleep_s)])


def test_an_api_without_latency_or_without_an_arrival_time(
    paced: sandbox_app.SandboxApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[Any] = []
    monkeypatch.setattr(sandbox_app.time, "sleep", slept.append)
    paced._pace("ListCustomModels", None)
    assert slept == []
    paced._pace("Converse", None)  # no arrival time recorded: the whole latency
    assert slept == [pytest.approx(0.3)]


def test_the_openai_compatible_api_is_paced_by_its_operation_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from werkzeug.test import Client

    app = sandbox_app.SandboxApp(SandboxConfig(time_scale=0.0, latency_ms={"CreateChatCompletion": 60_000}))
    slept: list[float] = []
    monkeypatch.setattr(sandbox_app.time, "sleep", slept.append)
    client = Client(app)
    headers = {"Authorization": f"Bearer {app.config.api_keys[0]}"}
    chat = {"model": "qwen.qwen3-32b", "messages": [{"role": "user", "content": "2+2?"}]}
    try:
        assert client.get("/v1/files", headers=headers).status_code == 200
        assert slept == []  # ListFiles has no latency configured
        assert client.post("/v1/chat/completions", json=chat, headers=headers).status_code == 200
    finally:
        app.close()
    assert len(slept) == 1 and 50 < slept[0] <= 60  # the rest of the 60 s after the sandbox's own work
