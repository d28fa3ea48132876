"""The sandbox keeps HTTP/1.1 connections open between requests, and closes them when it must."""

from __future__ import annotations

import http.client
import json
import socket
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.server import Sandbox
from unit.sandbox.raw_http import auth_header

pytestmark = pytest.mark.integration

MODEL_ID = "amazon.nova-2-lite-v1:0"
CONVERSE = f"/model/{MODEL_ID}/converse"
# Safety net only: every wait below ends as soon as the sandbox answers or closes.
SOCKET_TIMEOUT_S = 30.0


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(config=SandboxConfig(time_scale=0)) as running:
        yield running


def _connection(sandbox: Sandbox) -> http.client.HTTPConnection:
    parts = urlsplit(sandbox.endpoint_url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=SOCKET_TIMEOUT_S)


def _converse(connection: http.client.HTTPConnection, text: str, **headers: str) -> http.client.HTTPResponse:
    body = json.dumps({"messages": [{"role": "user", "content": [{"text": text}]}]})
    connection.request(
        "POST",
        CONVERSE,
        body=body,
        headers={"Content-Type": "application/json", "Authorization": auth_header("bedrock"), **headers},
    )
    return connection.getresponse()


def test_one_connection_serves_many_requests(sandbox: Sandbox) -> None:
    connection = _connection(sandbox)
    try:
        answers = []
        for i in range(3):
            response = _converse(connection, f"what is {i} + {i}?")
            answers.append((response.status, response.getheader("Connection"), json.loads(response.read())))
            if i == 0:
                first_socket = connection.sock
            assert connection.sock is first_socket  # http.client reconnects only after a close
    finally:
        connection.close()
    assert [status for status, _, _ in answers] == [200, 200, 200]
    assert [header for _, header, _ in answers] == [None, None, None]
    assert all(body["output"]["message"]["content"] for _, _, body in answers)


def test_a_client_that_asks_to_close_gets_its_answer_then_eof(sandbox: Sandbox) -> None:
    connection = _connection(sandbox)
    try:
        response = _converse(connection, "what is 2 + 2?", Connection="close")
        assert response.status == 200
        assert json.loads(response.read())["output"]["message"]["content"]
        assert response.will_close
    finally:
        connection.close()


def test_a_refused_request_with_an_unread_body_closes_the_connection(sandbox: Sandbox) -> None:
    """A cross-origin refusal answers before reading the body: the rest must never parse as a request."""
    connection = _connection(sandbox)
    try:
        response = _converse(connection, "what is 2 + 2?", Origin="http://evil.example")
        response.read()
    finally:
        connection.close()
    assert response.status == 403
    assert response.getheader("Connection") == "close"


def test_stopping_the_sandbox_ends_idle_kept_alive_connections() -> None:
    sandbox = Sandbox(config=SandboxConfig(time_scale=0)).start()
    connection = _connection(sandbox)
    try:
        response = _converse(connection, "what is 2 + 2?")
        response.read()
        assert response.status == 200
        idle = connection.sock
        assert isinstance(idle, socket.socket)
        sandbox.stop()
        # The server shut the idle connection down: the client reads end-of-stream, not a served answer.
        assert idle.recv(1) == b""
    finally:
        connection.close()
        sandbox.stop()


def test_the_injected_latency_is_counted_from_the_request_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Header parsing and the wait for a free interpreter are inside the service's response time."""
    from types import SimpleNamespace

    from bedrock_rft_provider.sandbox import keepalive

    request_line_at = 12345.0  # the handler's clock, read once the request line is in
    # No kernel receive time (as off Linux): the request line's time is the arrival.
    monkeypatch.setattr(keepalive, "_ANCILLARY_SPACE", 0)
    monkeypatch.setattr(keepalive, "time", SimpleNamespace(monotonic=lambda: request_line_at))
    assert _paced_from(monkeypatch) == [request_line_at]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_TIMESTAMPNS is Linux's")
def test_the_injected_latency_is_counted_from_when_the_kernel_received_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The wait for a handler thread to be scheduled is inside the response time too."""
    import time
    from types import SimpleNamespace

    from bedrock_rft_provider.sandbox import keepalive

    request_line_at = 12345.0
    # The handler reads the request line 7 s (of its wall clock) after the kernel received it.
    clock = SimpleNamespace(monotonic=lambda: request_line_at, time=lambda: time.time() + 7.0)
    monkeypatch.setattr(keepalive, "time", clock)
    (arrived,) = _paced_from(monkeypatch)
    assert arrived is not None
    assert request_line_at - 7.0 - SOCKET_TIMEOUT_S < arrived <= request_line_at - 7.0


def _paced_from(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """The arrival time the sandbox paced one Converse request from."""
    paced_from: list[float | None] = []
    with Sandbox(config=SandboxConfig(time_scale=0, latency_ms={"Converse": 50})) as running:
        assert running.app is not None
        monkeypatch.setattr(running.app, "_pace", lambda api, arrived: paced_from.append(arrived))
        connection = _connection(running)
        try:
            assert _converse(connection, "what is 1 + 1?").status == 200
        finally:
            connection.close()
    return paced_from
