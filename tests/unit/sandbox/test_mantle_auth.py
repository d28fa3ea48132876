"""Short-term Bedrock API keys are checked for real: format, scope, expiry and signature."""

from __future__ import annotations

import base64
import time

import pytest
from aws_bedrock_token_generator.token_generator import _generate_token
from botocore.credentials import Credentials

from bedrock_rft_provider.sandbox.mantle.auth import check_authorization, short_term_key_problem
from bedrock_rft_provider.sandbox.mantle.wire import OpenAIError


def key(secret: str = "testing", access_key: str = "testing", expires: int = 3600) -> str:
    return _generate_token(Credentials(access_key, secret), "us-west-2", expires)


def test_a_key_from_the_sandbox_credentials_is_valid_until_it_expires() -> None:
    token, now = key(expires=3600), time.time()
    assert short_term_key_problem(token, now) is None
    assert short_term_key_problem(token, now + 3500) is None
    assert short_term_key_problem(token, now + 3700) == "it has expired; generate a new one"


def test_a_key_signed_far_in_the_future_is_refused() -> None:
    token, now = key(), time.time()
    assert short_term_key_problem(token, now - 3600) == "it is signed in the future"


@pytest.mark.parametrize(
    ("credentials", "problem"),
    [
        ({"secret": "other"}, "its signature does not match"),
        ({"access_key": "AKIAOTHER"}, "it is signed by access key 'AKIAOTHER'"),
    ],
)
def test_keys_the_sandbox_cannot_verify_are_refused(credentials: dict[str, str], problem: str) -> None:
    found = short_term_key_problem(key(**credentials), time.time())
    assert found is not None and found.startswith(problem)


def test_a_key_that_is_not_a_presigned_bearer_request_is_refused() -> None:
    token = "bedrock-api-key-" + base64.b64encode(b"example.com/?Action=Other").decode()
    found = short_term_key_problem(token, time.time())
    assert found is not None and found.startswith("it is not a presigned")


def test_a_tampered_expiry_breaks_the_signature() -> None:
    url = base64.b64decode(key(expires=60)[len("bedrock-api-key-") :]).decode()
    tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=600")
    token = "bedrock-api-key-" + base64.b64encode(tampered.encode()).decode()
    assert short_term_key_problem(token, time.time()) == "its signature does not match"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer static-key",
        f"Bearer {key()}",
        "AWS4-HMAC-SHA256 Credential=testing/20261129/us-west-2/bedrock/aws4_request",
    ],
)
def test_static_keys_short_term_keys_and_sigv4_pass(header: str) -> None:
    if header == "short-term":
        header = f"Bearer {key()}"  # made now: a key made at collection time may be older than the test
    check_authorization(header, ("static-key",), time.time())


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer other-key"])
def test_anything_else_is_401(header: str | None) -> None:
    with pytest.raises(OpenAIError) as excinfo:
        check_authorization(header, ("static-key",), time.time())
    assert excinfo.value.status == 401 and excinfo.value.code == "invalid_api_key"
