"""A stand-in ``bedrock-runtime`` client: validates each ``converse`` request against the real service
model, answers after an injected latency, and throttles a seeded share of calls (``support.fake_model``)."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

from support.fake_model import FakeModel

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


class FakeRuntime(FakeModel[ClientError]):
    """``converse`` with latency, throttling and per-prompt failures; counts calls per prompt text."""

    def prompt_text(self, request: dict[str, Any]) -> str:
        return user_text(request)

    def converse(self, **request: Any) -> dict[str, Any]:
        validate_parameters(request, _CONVERSE_INPUT)
        text = user_text(request)
        with self.call(text) as throttled:
            if throttled:
                raise client_error("ThrottlingException", 429)
            if text in self.errors:
                raise self.errors[text]
            body = self.reply(text, request)
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
