"""A stand-in Chat Completions endpoint behind an ``httpx2.MockTransport``, for the real ``openai`` client.

Each request body is checked against the client's own ``CompletionCreateParams`` keys; each answer is an
``openai.types.chat.ChatCompletion`` dumped to JSON, after an injected latency; a seeded share of calls
is throttled (HTTP 429 in OpenAI's error shape) and chosen prompts answer a chosen HTTP error. Counts
calls per prompt text, as ``fake_runtime.FakeRuntime`` does for ``converse`` (``support.fake_model``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
from openai.types.chat import ChatCompletion
from openai.types.chat.completion_create_params import CompletionCreateParamsBase

from support.fake_model import FakeModel

PARAMS = frozenset(CompletionCreateParamsBase.__annotations__)
ROLES = ("system", "developer", "user", "assistant", "tool")


def user_text(body: dict[str, Any]) -> str:
    return "".join(m["content"] for m in body["messages"] if m["role"] == "user")


def error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}


class FakeChat(FakeModel[tuple[int, dict[str, Any] | str]]):
    """``POST /v1/chat/completions`` with latency, throttling and per-prompt failures.

    ``errors`` maps a prompt text to ``(HTTP status, JSON body or raw text)``; ``reasoning`` is sent as
    the answer's ``reasoning_content`` when given.
    """

    def __init__(self, *, reasoning: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.reasoning = reasoning
        self.bodies: list[dict[str, Any]] = []

    def prompt_text(self, request: dict[str, Any]) -> str:
        return user_text(request)

    def client(self, **options: Any) -> openai.OpenAI:
        transport = httpx2.MockTransport(self.handle)
        return openai.OpenAI(
            api_key="test-key",
            base_url="http://chat.test/v1",
            http_client=httpx2.Client(transport=transport),
            **options,
        )

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        assert request.method == "POST" and request.url.path == "/v1/chat/completions", request.url
        assert request.headers["Authorization"] == "Bearer test-key"
        body = json.loads(request.content)
        unknown = set(body) - PARAMS
        assert not unknown, f"not CompletionCreateParams keys: {unknown}"
        assert isinstance(body["model"], str) and body["messages"]
        assert all(m["role"] in ROLES and isinstance(m["content"], str) for m in body["messages"])
        text = user_text(body)
        self.bodies.append(body)  # list.append is atomic: no lock needed across runner threads
        with self.call(text) as throttled:
            if throttled:
                return httpx2.Response(429, json=error_body(429, "Too many requests", "rate_limit_exceeded"))
            if text in self.errors:
                status, payload = self.errors[text]
                if isinstance(payload, str):
                    return httpx2.Response(status, content=payload.encode())
                return httpx2.Response(status, json=payload)
            content = self.reply(text, body)
            message: dict[str, Any] = {"role": "assistant", "content": content}
            if self.reasoning is not None:
                message["reasoning_content"] = self.reasoning
            completion = ChatCompletion.model_validate(
                {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": 1_764_400_000,
                    "model": body["model"],
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
                    "usage": {
                        "prompt_tokens": len(text.split()),
                        "completion_tokens": len(content.split()),
                        "total_tokens": 1,
                    },
                }
            )
            return httpx2.Response(200, json=completion.model_dump(mode="json", exclude_unset=True))
