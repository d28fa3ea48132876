"""Raw HTTP to the sandbox, for requests an SDK would never send (wrong types, NaN, browsers' headers)."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def error_code(self) -> str:
        return self.headers.get("x-amzn-errortype", "").split(":", 1)[0]

    @property
    def message(self) -> str:
        try:
            return str(json.loads(self.body).get("message", ""))
        except ValueError:
            return self.body.decode(errors="replace")


def auth_header(service: str, region: str = "us-east-1") -> str:
    """A SigV4 Authorization header; the sandbox routes on its credential scope (it checks no signature)."""
    return (
        f"AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )


def call(
    endpoint: str,
    method: str,
    path: str,
    body: bytes | str | dict[str, Any] | None = None,
    *,
    service: str | None = "bedrock",
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Answer:
    """One request on a fresh connection; ``body`` dicts are sent as JSON, strings as UTF-8."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    parts = urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    all_headers = {"Content-Type": "application/json"}
    if service is not None:
        all_headers["Authorization"] = auth_header(service)
    all_headers.update(headers or {})
    try:
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()
