"""HTTP-level guards in front of every sandbox request: cross-origin refusal, request-body caps, uploads.

The sandbox listens on a port any web page in the user's browser can reach. moto's own server answers
CORS for any ``Origin``, so a page could reset the sandbox or overwrite the SSM champion parameter. A
request a browser marks as cross-origin (an ``Origin`` header that is not the sandbox's own loopback
origin, or ``Sec-Fetch-Site: cross-site``/``same-site``) is refused with HTTP 403 unless its origin is
listed in the ``allowed_origins`` knob. SDK clients send neither header, so they are unaffected.

Bodies are read here, before any handler (moto's included) sees them: at most the operation's
documented limit (Lambda ``Invoke`` 6 MB, inline code uploads 70,167,211 bytes) or the sandbox's cap
(``max_request_mb``), so a 300 MiB body is refused from its ``Content-Length`` without being read.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Response

from bedrock_rft_provider.sandbox import lambda_package, moto_state
from bedrock_rft_provider.sandbox.protocol import ServiceError, json_response

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# Lambda's own request limits (Lambda quotas page); other operations get the sandbox-wide cap.
OPERATION_LIMITS = {
    ("lambda", "Invoke"): (lambda_package.MAX_INVOKE_REQUEST_BYTES, "InvokeFunction"),
    ("lambda", "CreateFunction"): (lambda_package.MAX_INLINE_UPLOAD_REQUEST_BYTES, "CreateFunction"),
    ("lambda", "UpdateFunctionCode"): (lambda_package.MAX_INLINE_UPLOAD_REQUEST_BYTES, "UpdateFunctionCode"),
    ("lambda", "PublishLayerVersion"): (
        lambda_package.MAX_INLINE_UPLOAD_REQUEST_BYTES,
        "PublishLayerVersion",
    ),
}
_CHUNK = 1 << 20
# Set in the WSGI environ once the whole body is read: only then may the connection serve a next request.
BODY_READ = "bedrock_rft.body_read"
# When the request reached the sandbox (time.monotonic(): the kernel's receipt of the bytes that held the
# request line where the keep-alive handler can stamp it); the injected latency is counted from it.
ARRIVED = "bedrock_rft.arrived"


def _origin(text: str) -> str:
    parts = urlsplit(text.strip().lower())
    return f"{parts.scheme}://{parts.netloc}"


def _own_loopback_origin(origin: str, environ: dict[str, Any]) -> bool:
    """The sandbox's own page (e.g. moto's dashboard) opened on a loopback address.

    Comparing with the Host header alone would let DNS rebinding in (a page on evil.example whose name
    now resolves to 127.0.0.1 sends ``Host`` and ``Origin`` both evil.example), so the host must be a
    loopback literal too.
    """
    parts = urlsplit(origin)
    host = (parts.hostname or "").strip("[]")
    return host in LOOPBACK_HOSTS and parts.netloc == environ.get("HTTP_HOST", "").lower()


def cross_origin_refusal(environ: dict[str, Any], allowed_origins: tuple[str, ...]) -> Response | None:
    """A 403 answer for a cross-origin browser request, or None to let the request through."""
    origin = environ.get("HTTP_ORIGIN")
    site = environ.get("HTTP_SEC_FETCH_SITE", "").lower()
    if origin is None and site not in ("cross-site", "same-site"):
        return None
    if origin is not None:
        normal = _origin(origin)
        if "*" in allowed_origins or normal in {_origin(o) for o in allowed_origins}:
            return None
        if _own_loopback_origin(normal, environ) and site not in ("cross-site", "same-site"):
            return None
    shown = origin if origin is not None else f"Sec-Fetch-Site: {site}"
    return json_response(
        {
            "message": f"The bedrock-rft sandbox refuses cross-origin requests (from {shown[:200]}): a web "
            "page must not drive your local AWS. Allow an origin with BEDROCK_RFT_SANDBOX_ALLOWED_ORIGINS."
        },
        403,
        {"x-amzn-ErrorType": "AccessDeniedException:http://internal", "Vary": "Origin"},
    )


class RequestTooLarge(ServiceError):
    """The body exceeds the operation's limit (HTTP 413); the connection is closed after the answer."""


def request_limit(operation: tuple[str, str] | None, sandbox_cap: int) -> tuple[int, str | None]:
    """(byte limit, the operation name Lambda names in its error) for a request."""
    if operation is not None and operation in OPERATION_LIMITS:
        limit, name = OPERATION_LIMITS[operation]
        return min(limit, sandbox_cap), name
    return sandbox_cap, None


def _too_large(limit: int, name: str | None) -> RequestTooLarge:
    if name is not None:
        return RequestTooLarge(
            "RequestEntityTooLargeException",
            f"Request must be smaller than {limit} bytes for the {name} operation",
            413,
        )
    return RequestTooLarge(
        "RequestEntityTooLargeException",
        f"Request must be smaller than {limit} bytes (the bedrock-rft sandbox's request cap; raise it with "
        "BEDROCK_RFT_SANDBOX_MAX_REQUEST_MB)",
        413,
    )


def buffer_body(environ: dict[str, Any], limit: int, name: str | None) -> bytes:
    """Read the whole body (at most ``limit`` bytes) and put it back as a seekable stream.

    Raises ``RequestTooLarge`` from ``Content-Length`` alone when it says more than ``limit``, or once a
    chunked body passes it; a client that stops sending makes the read time out (the server's socket
    timeout), which surfaces as ``TimeoutError``/``OSError``.
    """
    declared = environ.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, name)
    if not chunked and not declared.isdigit():
        environ[BODY_READ] = True
        return b""
    stream = environ["wsgi.input"]
    wanted = None if chunked else int(declared)
    chunks, size = [], 0
    while wanted is None or size < wanted:
        chunk = stream.read(_CHUNK if wanted is None else min(_CHUNK, wanted - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, name)
    body = b"".join(chunks)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = True
    environ[BODY_READ] = True
    return body


def check_lambda_upload(operation: tuple[str, str] | None, body: bytes) -> None:
    """Refuse a function or layer package Lambda would refuse at upload (inline zip or S3 object)."""
    if operation is None or operation[0] != "lambda" or not body:
        return
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return  # moto answers the malformed request itself
    if not isinstance(request, dict):
        return
    code: Any = {
        "CreateFunction": request.get("Code"),
        "UpdateFunctionCode": request,
        "PublishLayerVersion": request.get("Content"),
    }.get(operation[1])
    if not isinstance(code, dict):
        return
    package: bytes | None = None
    if isinstance(code.get("ZipFile"), str):
        try:
            package = base64.b64decode(code["ZipFile"], validate=True)
        except (binascii.Error, ValueError):
            return  # moto reports the bad base64
    elif isinstance(code.get("S3Bucket"), str) and isinstance(code.get("S3Key"), str):
        try:
            package = moto_state.read_object(f"s3://{code['S3Bucket']}/{code['S3Key']}")
        except ValueError:
            return  # not an S3 location: moto reports it
    if package is not None:
        lambda_package.check_packages([package])
