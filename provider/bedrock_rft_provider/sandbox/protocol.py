"""The wire side of the emulation: AWS-style errors, JSON responses, and routing from botocore's models."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Response

ACCOUNT_ID = "123456789012"


class ServiceError(Exception):
    """An error answered the way the AWS service answers it (botocore turns it into ClientError)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 404)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message, 409)


def throttled() -> ServiceError:
    return ServiceError("ThrottlingException", "Too many requests, please wait before trying again.", 429)


def not_emulated(service: str, operation: str) -> ServiceError:
    return ServiceError(
        "NotImplementedException",
        f"The bedrock-rft sandbox does not emulate {service} {operation}. "
        "It emulates only what this provider uses; run this call against real AWS.",
        501,
    )


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A REST-JSON response with a request id, as AWS sends it."""
    all_headers = {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}
    all_headers.update(headers or {})
    payload = b"" if body is None else json.dumps(body).encode()
    return Response(payload, status=status, headers=all_headers)


def error_response(error: ServiceError) -> Response:
    return json_response(
        {"message": error.message}, error.status, {"x-amzn-ErrorType": f"{error.code}:http://internal"}
    )


def timestamp(value: float) -> str:
    """ISO 8601 with milliseconds, as Bedrock renders timestamps."""
    moment = dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> float:
    """Parse a querystring timestamp (ISO 8601 or epoch seconds)."""
    try:
        return float(text)
    except ValueError:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True)
class Route:
    """One operation of a botocore service model: method + URI template compiled to a regex."""

    service: str
    operation: str
    method: str
    pattern: re.Pattern[str]
    success_status: int

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.fullmatch(raw_path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}


def _compile(uri: str) -> re.Pattern[str]:
    path = uri.split("?", 1)[0]
    regex = ""
    for piece in re.split(r"(\{[^}]+\})", path):
        if piece.startswith("{"):
            name = piece[1:-1]
            greedy = name.endswith("+")
            name = name.rstrip("+")
            regex += f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(piece)
    return re.compile(regex + "/?")


@cache
def routes(service: str) -> tuple[Route, ...]:
    """All operations of a botocore service model, literal paths before templated ones."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    found = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        found.append(
            Route(
                service,
                name,
                http["method"],
                _compile(http["requestUri"]),
                int(http.get("responseCode", 200)),
            )
        )
    # A literal segment must win over a label: /custom-models/create-custom-model vs /custom-models/{id}.
    found.sort(key=lambda r: r.pattern.pattern.count("(?P<"))
    return tuple(found)


def match_route(services: tuple[str, ...], method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    """The first operation of ``services`` whose method and path match, with its URI labels."""
    for service in services:
        for route in routes(service):
            labels = route.match(method, raw_path)
            if labels is not None:
                return route, labels
    return None


def signing_scope(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(service, region) from a SigV4 Authorization header, or None for unsigned requests."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    marker = "Credential="
    start = auth.find(marker)
    if start < 0:
        return None
    scope = auth[start + len(marker) :].split(",", 1)[0].split("/")
    if len(scope) != 5:
        return None
    return scope[3].lower(), scope[2]


def raw_path(environ: dict[str, Any]) -> str:
    """The request path still percent-encoded (an ARN in a URI label keeps its %2F)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        if "://" in path:  # absolute-form request target
            path = "/" + path.split("://", 1)[1].split("/", 1)[-1]
        return path
    return str(environ.get("PATH_INFO", "/"))
