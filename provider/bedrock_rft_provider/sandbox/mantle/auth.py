"""Who may call the OpenAI-compatible API: bearer keys, as Bedrock's ``bedrock-mantle`` endpoint checks them.

Bedrock accepts an Amazon Bedrock API key as the bearer token (UG ``fine-tuning-openai-apis``). The
sandbox accepts two kinds (an invalid or missing one gets OpenAI's 401 ``invalid_api_key``):

- a **static key** from the ``api_keys`` knob (default ``bedrock-rft-sandbox-key``; env
  ``BEDROCK_RFT_SANDBOX_API_KEYS``), the sandbox's stand-in for a long-term Bedrock API key;
- a **short-term key** ``bedrock-api-key-<base64 of a SigV4-presigned URL>``, as the
  ``aws-bedrock-token-generator`` package makes from AWS credentials. The sandbox checks it for real:
  action ``CallWithBearerToken``, service ``bedrock``, not expired (at most 12 hours), and a signature
  made with the sandbox's test credentials (``testing``/``testing``, the ones ``Sandbox.session()`` and
  the Airflow connection of ``bootstrap`` use).

Requests signed with SigV4 instead (UG: plain HTTP also accepts AWS credentials) are let through
unverified, as every other service of the sandbox does with signatures.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from bedrock_rft_provider.sandbox.bootstrap import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from bedrock_rft_provider.sandbox.mantle.wire import unauthorized

SHORT_TERM_PREFIX = "bedrock-api-key-"
MAX_EXPIRES_S = 43_200  # the token generator's 12-hour maximum
CLOCK_SKEW_S = 300
# Credentials whose short-term keys the sandbox can verify (it needs the secret to check the signature).
KNOWN_CREDENTIALS: Mapping[str, str] = {ACCESS_KEY_ID: SECRET_ACCESS_KEY}


def check_authorization(header: str | None, api_keys: tuple[str, ...], now: float) -> None:
    """Raise OpenAI's 401 unless ``header`` carries a key the sandbox accepts (or a SigV4 signature)."""
    if not header:
        raise unauthorized(
            "You didn't provide an API key. Send it as 'Authorization: Bearer <Amazon Bedrock API key>'."
        )
    if header.startswith("AWS4-HMAC-SHA256 "):
        return
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise unauthorized("The Authorization header must be 'Bearer <Amazon Bedrock API key>'.")
    if key in api_keys:
        return
    if key.startswith(SHORT_TERM_PREFIX):
        problem = short_term_key_problem(key, now)
        if problem is None:
            return
        raise unauthorized(f"Invalid short-term Amazon Bedrock API key: {problem}.")
    raise unauthorized(f"Incorrect API key provided: {_redact(key)}.")


def _redact(key: str) -> str:
    return f"{key[:4]}...{key[-4:]}" if len(key) > 12 else "****"


def short_term_key_problem(key: str, now: float) -> str | None:
    """Why a ``bedrock-api-key-...`` token is not valid here, or None when it is."""
    try:
        url = base64.b64decode(key[len(SHORT_TERM_PREFIX) :], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "it is not base64 of a presigned URL"
    parts = urlsplit("https://" + url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(pairs)
    if params.get("Action") != "CallWithBearerToken" or params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        return "it is not a presigned CallWithBearerToken request"
    scope = params.get("X-Amz-Credential", "").split("/")
    if len(scope) != 5 or scope[3] != "bedrock" or scope[4] != "aws4_request":
        return "its credential scope is not <key>/<date>/<region>/bedrock/aws4_request"
    access_key, date, region = scope[0], scope[1], scope[2]
    try:
        signed_at = dt.datetime.strptime(params.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ")
        expires = int(params.get("X-Amz-Expires", ""))
    except ValueError:
        return "X-Amz-Date or X-Amz-Expires is malformed"
    start = signed_at.replace(tzinfo=dt.timezone.utc).timestamp()
    if not 0 < expires <= MAX_EXPIRES_S:
        return f"X-Amz-Expires={expires} is outside 1..{MAX_EXPIRES_S} seconds"
    if now > start + expires:
        return "it has expired; generate a new one"
    if now < start - CLOCK_SKEW_S:
        return "it is signed in the future"
    secret = KNOWN_CREDENTIALS.get(access_key)
    if secret is None:
        return (
            f"it is signed by access key {access_key!r}; the sandbox verifies keys made from its test "
            f"credentials ({ACCESS_KEY_ID})"
        )
    scope_text = f"{date}/{region}/bedrock/aws4_request"
    expected = _signature(parts.netloc, parts.query, secret, scope_text, params["X-Amz-Date"])
    if not hmac.compare_digest(expected, params.get("X-Amz-Signature", "")):
        return "its signature does not match"
    return None


def _signature(host: str, query: str, secret: str, scope: str, amz_date: str) -> str:
    """SigV4 query signature of ``POST https://host/?query`` with an empty body, as botocore presigns it."""
    # The generator appends "&Version=1" after signing; the signature itself is not signed.
    pairs = [p.partition("=") for p in query.split("&") if p]
    signed = sorted((k, v) for k, _, v in pairs if k not in ("X-Amz-Signature", "Version"))
    canonical_query = "&".join(f"{k}={v}" for k, v in signed)
    canonical_request = "\n".join(
        ["POST", "/", canonical_query, f"host:{host}\n", "host", hashlib.sha256(b"").hexdigest()]
    )
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    signing_key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
    return hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
