"""A stand-in ``bedrock-runtime`` client: validates each ``converse`` request against the real service
model, answers after an injected latency, and throttles a seeded share of calls."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

_MODEL = botocore.session.get_session().get_service_model("bedrock-runtime")
_CONVERSE_INPUT = _MODEL.operation_model("Converse").input_shape


def user_text(request: dict[str, Any]) -> str:
    return "".join(
        block["text"] for m in request["messages"] for block in m["content"] if m["role"] == "user"
    )


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"injected {code}"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "Converse",
    )


class FakeRuntime:
    """``converse`` with latency, throttling and per-prompt failures; counts calls per prompt text."""

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        throttle_rate: float = 0.0,
        seed: int = 0,
        answer: Callable[[dict[str, Any]], str] | None = None,
        errors: dict[str, ClientError] | None = None,
    ) -> None:
        self.latency_s = latency_s
        self.throttle_rate = throttle_rate
        self.answer = answer or (lambda request: f"The answer.\n#### {len(user_text(request))}")
        self.errors = errors or {}
        self.calls: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.throttled = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def converse(self, **request: Any) -> dict[str, Any]:
        validate_parameters(request, _CONVERSE_INPUT)
        text = user_text(request)
        with self._lock:
            self.calls[text] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            throttle = self._rng.random() < self.throttle_rate
        try:
            if self.latency_s:
                time.sleep(self.latency_s)
            if throttle:
                with self._lock:
                    self.throttled += 1
                raise client_error("ThrottlingException", 429)
            if text in self.errors:
                raise self.errors[text]
            body = self.answer(request)
            with self._lock:
                self.answered[text] += 1
            return {
                "output": {"message": {"role": "assistant", "content": [{"text": body}]}},
                "stopReason": "end_turn",
                "usage": {
                    "inputTokens": len(text.split()),
                    "outputTokens": len(body.split()),
                    "totalTokens": 1,
                },
                "metrics": {"latencyMs": int(self.latency_s * 1000)},
            }
        finally:
            with self._lock:
                self.in_flight -= 1
