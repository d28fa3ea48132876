"""The OpenAI wire format: error bodies, JSON answers, cursor pages, and ids.

Error bodies are OpenAI's: ``{"error": {"message", "type", "param", "code"}}``. The ``openai`` client
maps the status to its exception class (400 BadRequestError, 401 AuthenticationError, 404 NotFoundError,
429 RateLimitError, ...) and retries 429 and 5xx unless the answer says ``x-should-retry: false``.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping, Sequence
from typing import Any

from werkzeug.wrappers import Response

_ALNUM = string.ascii_letters + string.digits
MAX_JSON_DEPTH = 64


class OpenAIError(Exception):
    """An error answered in OpenAI's shape with an HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retry = retry

    def response(self) -> Response:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        headers = {} if self.retry is None else {"x-should-retry": "true" if self.retry else "false"}
        return json_response(body, self.status, headers)


def bad_request(message: str, param: str | None = None, code: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, param=param, code=code)


def not_found(message: str, param: str | None = None, code: str | None = None) -> OpenAIError:
    return OpenAIError(404, message, param=param, code=code)


def unauthorized(message: str) -> OpenAIError:
    return OpenAIError(401, message, code="invalid_api_key")


def rate_limited() -> OpenAIError:
    # Left retryable: the client's own backoff is what a throttled caller should exercise.
    return OpenAIError(
        429,
        "Too many requests, please wait before trying again.",
        type="requests",
        code="rate_limit_exceeded",
    )


def not_emulated(method: str, path: str) -> OpenAIError:
    return OpenAIError(
        501,
        f"The bedrock-rft sandbox does not emulate {method} {path}. It emulates files, fine_tuning/jobs "
        "(create, list, retrieve, cancel, events, checkpoints) and chat/completions; run this call "
        "against real Bedrock.",
        type="not_implemented_error",
        code="not_emulated",
        retry=False,  # a retry cannot help: say so, or the client retries every 5xx twice
    )


def json_response(body: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    all_headers = {"Content-Type": "application/json", "x-request-id": f"req_{new_suffix(24)}"}
    all_headers.update(headers or {})
    return Response(json.dumps(body).encode(), status=status, headers=all_headers)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A strict JSON object body (no NaN, bounded nesting); 400 otherwise."""

    def no_constants(name: str) -> float:
        raise ValueError(f"{name} is not valid JSON")

    try:
        body = json.loads(raw.decode("utf-8") if raw else "{}", parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad_request(f"We could not parse the JSON body of your request ({exc}).") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    if _depth(body) > MAX_JSON_DEPTH:
        raise bad_request(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
    return body


def _depth(value: object, level: int = 1) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def new_suffix(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def int_query(query: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Invalid '{name}': expected an integer, got {raw!r}.", param=name) from None
    if not 1 <= value <= maximum:
        raise bad_request(f"Invalid '{name}': {value} must be between 1 and {maximum}.", param=name)
    return value


def cursor_page(
    items: Sequence[dict[str, Any]], query: Mapping[str, str], default_limit: int, max_limit: int
) -> dict[str, Any]:
    """One page of ``items`` (already in list order) after the item whose id is ``query["after"]``.

    Guess: the real API's answer to an unknown ``after`` id is undocumented; this says 400 on ``after``.
    """
    limit = int_query(query, "limit", default_limit, max_limit)
    start = 0
    after = query.get("after")
    if after:
        ids = [item["id"] for item in items]
        if after not in ids:
            raise bad_request(f"Invalid 'after': no item with id {after!r} in this list.", param="after")
        start = ids.index(after) + 1
    page = list(items[start : start + limit])
    return {
        "object": "list",
        "data": page,
        "has_more": start + limit < len(items),
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
    }
