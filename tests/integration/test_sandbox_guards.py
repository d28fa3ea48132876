"""The sandbox's front door: browsers' cross-origin requests, body caps, read timeouts, code uploads."""

from __future__ import annotations

import io
import json
import socket
import time
import zipfile
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.lambda_package import MAX_UNZIPPED_BYTES
from bedrock_rft_provider.sandbox.server import Sandbox
from unit.sandbox.raw_http import call
from unit.sandbox.sandbox_helpers import World, make_world, unique, zip_module

pytestmark = pytest.mark.integration

EVIL = "http://evil.example"
SSM_PUT = {"X-Amz-Target": "AmazonSSM.PutParameter", "Content-Type": "application/x-amz-json-1.1"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(time_scale=0, allowed_origins=("http://localhost:3000",), read_timeout_s=1.0)
    with Sandbox(config=config) as running:
        yield running


def _put_parameter(sandbox: Sandbox, value: str, headers: dict[str, str]) -> int:
    body = {"Name": "/bedrock-rft/champion/demo", "Value": value, "Type": "String", "Overwrite": True}
    return call(sandbox.endpoint_url, "POST", "/", body, service="ssm", headers={**SSM_PUT, **headers}).status


def _champion(sandbox: Sandbox) -> str:
    return str(sandbox.client("ssm").get_parameter(Name="/bedrock-rft/champion/demo")["Parameter"]["Value"])


# ----- cross-origin ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},  # sandboxed iframes and file:// pages
        {"Origin": "http://localhost:3001"},  # not the allowed port
        {"Sec-Fetch-Site": "cross-site"},  # e.g. <img src> or a form GET: no Origin header at all
    ],
    ids=["evil-origin", "null-origin", "other-port", "fetch-metadata-only"],
)
def test_a_web_page_cannot_overwrite_the_ssm_champion(sandbox: Sandbox, headers: dict[str, str]) -> None:
    assert _put_parameter(sandbox, "the real champion", {}) == 200
    assert _put_parameter(sandbox, "attacker's model", headers) == 403
    assert _champion(sandbox) == "the real champion"


def test_a_web_page_cannot_reset_the_sandbox(sandbox: Sandbox) -> None:
    s3 = sandbox.client("s3")
    bucket = unique("keep-me")
    s3.create_bucket(Bucket=bucket)
    answer = call(
        sandbox.endpoint_url, "POST", "/moto-api/reset", b"", service=None, headers={"Origin": EVIL}
    )
    assert answer.status == 403
    assert "cross-origin" in answer.message
    assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_preflight_from_a_foreign_origin_gets_no_cors_grant(sandbox: Sandbox) -> None:
    answer = call(
        sandbox.endpoint_url,
        "OPTIONS",
        "/moto-api/reset",
        None,
        service=None,
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    assert answer.status == 403
    assert "access-control-allow-origin" not in answer.headers


def test_dns_rebinding_is_refused_even_though_origin_matches_host(sandbox: Sandbox) -> None:
    port = urlsplit(sandbox.endpoint_url).port
    rebinding = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    assert _put_parameter(sandbox, "rebinding", rebinding) == 403


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:3000", "own"],
    ids=["configured-origin", "own-loopback-origin"],
)
def test_allowed_and_own_origins_pass(sandbox: Sandbox, origin: str) -> None:
    own = sandbox.endpoint_url
    headers = {"Origin": own if origin == "own" else origin}
    assert _put_parameter(sandbox, f"set from {origin}", headers) == 200
    assert _champion(sandbox) == f"set from {origin}"


def test_sdk_clients_are_unaffected(sandbox: Sandbox) -> None:
    ssm = sandbox.client("ssm")
    ssm.put_parameter(Name="/bedrock-rft/champion/sdk", Value="v", Type="String", Overwrite=True)
    assert ssm.get_parameter(Name="/bedrock-rft/champion/sdk")["Parameter"]["Value"] == "v"


# ----- body caps and read timeouts ------------------------------------------------------------------------


def _connect(sandbox: Sandbox) -> socket.socket:
    parts = urlsplit(sandbox.endpoint_url)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_300_mib_body_is_refused_from_its_content_length_unread(sandbox: Sandbox) -> None:
    with _connect(sandbox) as sock:
        sock.sendall(
            b"PUT /some-bucket/big HTTP/1.1\r\nHost: x\r\nContent-Length: 314572800\r\n"
            b"Authorization: AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/s3/aws4_request, "
            b"Signature=0\r\n\r\n" + b"x" * 1024
        )
        reply = _read_all(sock)  # the sandbox answers and closes without waiting for 300 MiB
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"Request must be smaller than 134217728 bytes" in reply
    assert b"Connection: close" in reply


def test_a_chunked_body_over_the_cap_is_refused() -> None:
    config = SandboxConfig(time_scale=0, max_request_mb=1, read_timeout_s=1.0)
    with Sandbox(config=config) as small, _connect(small) as sock:
        sock.sendall(b"PUT /bucket/key HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"y" * 65536
        try:
            for _ in range(40):  # 2.5 MiB against a 1 MiB cap
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused mid-upload: the answer is already waiting
        reply = _read_all(sock)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]


def test_lambda_invoke_over_6_mb_is_refused_before_the_body_is_read(sandbox: Sandbox) -> None:
    with _connect(sandbox) as sock:
        sock.sendall(
            b"POST /2015-03-31/functions/any/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 7000000\r\n"
            b"Authorization: AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/lambda/aws4_request, "
            b"Signature=0\r\n\r\n{"
        )
        reply = _read_all(sock)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"RequestEntityTooLargeException" in reply
    assert b"Request must be smaller than 6291456 bytes for the InvokeFunction operation" in reply


@pytest.mark.parametrize(
    "partial",
    [
        b"",  # connected, sent nothing
        b"GET /moto-api/ HTTP/1.1\r\nHost: x\r\n",  # headers never finished
        # the body never finishes
        b"POST /bucket/key HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-some",
    ],
    ids=["silent", "half-headers", "half-body"],
)
def test_a_half_open_connection_is_dropped_after_the_read_timeout(sandbox: Sandbox, partial: bytes) -> None:
    with _connect(sandbox) as sock:
        sock.sendall(partial)
        started = time.monotonic()
        _read_all(sock)  # returns when the sandbox closes the connection (the socket's own timeout is 30 s)
        assert time.monotonic() - started < 25  # read_timeout_s is 1 s
    assert sandbox.client("s3").list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_sdk_clients_keep_working_across_the_read_timeout(sandbox: Sandbox) -> None:
    s3 = sandbox.client("s3")
    for _ in range(5):
        s3.list_buckets()
    time.sleep(1.5)  # past the read timeout: an idle pooled connection is gone; the SDK reconnects
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


# ----- Lambda packages at upload --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(sandbox: Sandbox) -> World:
    return make_world(sandbox)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """About 250 KiB zipped, just over Lambda's 262,144,000-byte unzipped quota."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bedrock_rft_entry.py", "def handler(e, c):\n    return e\n")
        with archive.open("padding.bin", "w") as member:
            chunk, left = b"\0" * (1 << 20), MAX_UNZIPPED_BYTES
            while left > 0:
                member.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
    return buffer.getvalue()


def _create(sandbox: Sandbox, world: World, package: bytes) -> ClientError:
    with pytest.raises(ClientError) as caught:
        sandbox.client("lambda").create_function(
            FunctionName=unique("bad-package"),
            Runtime="python3.11",
            Role=world.role_arn,
            Handler="bedrock_rft_entry.handler",
            Code={"ZipFile": package},
        )
    return caught.value


def test_a_zip_bomb_is_refused_at_create_function_without_extracting(
    sandbox: Sandbox, world: World, bomb: bytes
) -> None:
    assert len(bomb) < 2 * 1024 * 1024
    error = _create(sandbox, world, bomb)
    assert error.response["Error"]["Code"] == "InvalidParameterValueException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Unzipped size must be smaller than 262144000 bytes" in error.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ({"../../escape.py": b"x"}, "outside the function folder"),
        ({"/tmp/abs.py": b"x"}, "outside the function folder"),
    ],
    ids=["zip-slip", "absolute"],
)
def test_a_zip_slip_package_is_refused_at_create_function(
    sandbox: Sandbox, world: World, entries: dict[str, bytes], expected: str
) -> None:
    error = _create(sandbox, world, _zip(entries))
    assert error.response["Error"]["Code"] == "InvalidParameterValueException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert expected in error.response["Error"]["Message"]


def test_update_function_code_and_layers_get_the_same_package_checks(
    sandbox: Sandbox, world: World, bomb: bytes
) -> None:
    lam, s3 = sandbox.client("lambda"), sandbox.client("s3")
    name = unique("fine")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=world.role_arn,
        Handler="bedrock_rft_entry.handler",
        Code={"ZipFile": zip_module("def handler(e, c):\n    return 'v1'\n")},
    )
    with pytest.raises(ClientError) as caught:
        lam.update_function_code(FunctionName=name, ZipFile=_zip({"../x.py": b"x"}))
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    s3.put_object(Bucket=world.bucket, Key="code/bomb.zip", Body=bomb)
    with pytest.raises(ClientError) as caught:  # the same package delivered through S3
        lam.update_function_code(FunctionName=name, S3Bucket=world.bucket, S3Key="code/bomb.zip")
    assert "Unzipped size must be smaller" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        lam.publish_layer_version(LayerName=unique("layer"), Content={"ZipFile": bomb})
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "v1"  # the old code still runs


def test_a_grader_whose_layers_push_it_over_the_quota_fails_the_job_with_lambdas_message(
    sandbox: Sandbox, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bedrock_rft_provider.sandbox import lambda_package
    from unit.sandbox.sandbox_helpers import GRADER_RIGHT_NUMBER, wait_for_job

    source = GRADER_RIGHT_NUMBER + "#" * 600
    layer = _zip({"python/helper.py": b"#" * 800})
    monkeypatch.setattr(lambda_package, "MAX_UNZIPPED_BYTES", len(source) + 500)  # each fits, not both
    lam = sandbox.client("lambda")
    layer_arn = lam.publish_layer_version(LayerName=unique("helpers"), Content={"ZipFile": layer})[
        "LayerVersionArn"
    ]
    name = unique("layered")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=world.role_arn,
        Handler="bedrock_rft_entry.handler",
        Code={"ZipFile": zip_module(source)},
        Layers=[layer_arn],
        Timeout=60,
    )
    grader = lam.publish_version(FunctionName=name)["FunctionArn"]
    bedrock = sandbox.client("bedrock")
    job = wait_for_job(bedrock, bedrock.create_model_customization_job(**world.job_request(grader))["jobArn"])
    assert job["status"] == "Failed"
    assert job["failureMessage"].startswith(f"The reward function {grader} cannot run: Unzipped size must be")
