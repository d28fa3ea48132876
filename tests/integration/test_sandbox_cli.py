"""`bedrock-rft sandbox`, its Python API and the pytest plugin's fixtures as users see them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import boto3
import pytest

from bedrock_rft_provider.sandbox.server import Sandbox

pytestmark = pytest.mark.integration


def test_the_cli_serves_one_endpoint_prints_the_honesty_banner_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bedrock_rft_provider.cli",
            "sandbox",
            "--port",
            "0",
            "--time-scale",
            "0",
            "--bootstrap",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not any(line.startswith("knobs:") for line in lines):
            line = process.stdout.readline()
            assert line and time.monotonic() < deadline, f"no endpoint printed: {lines}"
            lines.append(line)
        banner = "".join(lines)
        assert "REAL:" in banner and "SIMULATED: training dynamics and model answers" in banner
        endpoint = re.search(r"endpoint: (http://127\.0\.0\.1:\d+)", banner)
        assert endpoint is not None
        session = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
        session.client("s3", endpoint_url=endpoint[1]).create_bucket(Bucket="cli-bucket")
        buckets = session.client("s3", endpoint_url=endpoint[1]).list_buckets()["Buckets"]
        assert [b["Name"] for b in buckets if b["Name"] == "cli-bucket"] == ["cli-bucket"]
        jobs = session.client("bedrock", endpoint_url=endpoint[1]).list_model_customization_jobs()
        assert jobs["modelCustomizationJobSummaries"] == []
        # --bootstrap prepared it: the example DAGs' bucket and both roles exist, and it says so.
        assert "bedrock-rft-demo" in {b["Name"] for b in buckets}
        assert "role_arn:         arn:aws:iam::123456789012:role/bedrock-rft-service" in banner
        assert "AIRFLOW_CONN_AWS_DEFAULT='aws://testing:testing@/?endpoint_url=" in banner
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0


def test_a_bad_knob_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bedrock_rft_provider.cli", "sandbox", "--throttle-rate", "Converse=5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "throttle_rate[Converse] = 5.0 must be between 0 and 1" in done.stderr


def test_the_session_fixture_gives_an_endpoint_clients_and_the_airflow_connection(
    bedrock_rft_sandbox: Sandbox,
) -> None:
    conn = json.loads(bedrock_rft_sandbox.airflow_conn_env())
    assert conn == {
        "conn_type": "aws",
        "login": "testing",  # dummy credentials: without any, every task fails with NoCredentialsError
        "password": "testing",
        "extra": {"endpoint_url": bedrock_rft_sandbox.endpoint_url, "region_name": "us-east-1"},
    }
    assert bedrock_rft_sandbox.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_the_airflow_conn_fixture_points_aws_default_at_the_sandbox(
    bedrock_rft_sandbox_airflow_conn: Sandbox,
) -> None:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    bedrock_rft_sandbox_airflow_conn.client("s3").create_bucket(Bucket="airflow-conn-bucket")
    assert os.environ["AIRFLOW_CONN_AWS_DEFAULT"] == bedrock_rft_sandbox_airflow_conn.airflow_conn_env()
    assert S3Hook(aws_conn_id="aws_default").check_for_bucket("airflow-conn-bucket")


def test_the_python_api_as_the_readme_shows_it() -> None:
    from bedrock_rft_provider.sandbox import Sandbox, SandboxConfig

    with Sandbox(config=SandboxConfig(time_scale=0, seed=1)) as sandbox:
        bedrock = sandbox.client("bedrock")
        assert sandbox.endpoint_url.startswith("http://127.0.0.1:")
        assert bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"] == []
    with pytest.raises(RuntimeError, match="not running"):
        _ = sandbox.endpoint_url


def _bootstrap_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bedrock_rft_provider.cli", "sandbox-bootstrap", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_sandbox_bootstrap_prepares_a_running_sandbox_for_airflow_idempotently(
    bedrock_rft_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The printed line alone is enough for Airflow: credentials, endpoint, bucket and roles (fault 6)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    # The session's sandbox is shared: another test file in this worker may have bootstrapped it already.
    had = {r["RoleName"] for r in bedrock_rft_sandbox.client("iam").list_roles()["Roles"]}
    first = _bootstrap_cli("--endpoint-url", bedrock_rft_sandbox.endpoint_url, "--bucket", "my-dags-bucket")
    assert first.returncode == 0, first.stderr
    export = first.stdout.splitlines()[0]
    match = re.fullmatch(r"export AIRFLOW_CONN_AWS_DEFAULT='(aws://testing:testing@/\?\S+)'", export)
    assert match, export
    created = ["s3://my-dags-bucket"] + [
        f"role {r}" for r in ("bedrock-rft-service", "bedrock-rft-grader") if r not in had
    ]
    assert f"created now:      {', '.join(created)}" in first.stdout

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)  # a user's shell has none of these
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", match[1])
    assert S3Hook(aws_conn_id="aws_default").check_for_bucket("my-dags-bucket")
    roles = {r["RoleName"] for r in bedrock_rft_sandbox.client("iam").list_roles()["Roles"]}
    assert {"bedrock-rft-service", "bedrock-rft-grader"} <= roles

    again = _bootstrap_cli("--endpoint-url", bedrock_rft_sandbox.endpoint_url, "--bucket", "my-dags-bucket")
    assert again.returncode == 0 and "created now:      nothing (already prepared)" in again.stdout
    assert again.stdout.splitlines()[0] == export


@pytest.mark.slow
def test_sandbox_bootstrap_of_an_unreachable_endpoint_is_one_line_and_exit_1() -> None:
    done = _bootstrap_cli("--endpoint-url", "http://127.0.0.1:9")
    assert done.returncode == 1
    assert done.stderr.startswith("bedrock-rft sandbox-bootstrap: cannot prepare http://127.0.0.1:9")
    assert "Traceback" not in done.stderr
