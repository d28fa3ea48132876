"""pytest plugin (entry point ``pytest11``): run your DAGs' AWS calls against the Bedrock RFT sandbox.

Fixtures:

- ``bedrock_rft_sandbox`` (session): a running sandbox on a free port. It has ``endpoint_url``,
  ``client(service)`` (a boto3 client pointed at it), ``session()`` (a boto3 Session) and
  ``airflow_conn_env()`` (the ``AIRFLOW_CONN_AWS_DEFAULT`` JSON for an Airflow AWS connection), and
  ``openai_base_url``/``api_key`` for the ``openai`` client (the emulated OpenAI-compatible API).
- ``bedrock_rft_sandbox_airflow_conn`` (function): sets ``AIRFLOW_CONN_AWS_DEFAULT`` (and dummy AWS
  credentials and region) for the test, so operators with ``aws_conn_id="aws_default"`` reach the sandbox.

Knobs come from ``BEDROCK_RFT_SANDBOX_*`` env vars (see ``bedrock_rft_provider.sandbox.config``); the
default time scale here is 0 (fastest). Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bedrock_rft_provider.sandbox.server import Sandbox


@pytest.fixture(scope="session")
def bedrock_rft_sandbox() -> Iterator[Sandbox]:
    """A sandbox serving on 127.0.0.1 and a free port for the whole test session."""
    from bedrock_rft_provider.sandbox.config import ENV_PREFIX, SandboxConfig
    from bedrock_rft_provider.sandbox.server import Sandbox

    fastest = None if os.environ.get(ENV_PREFIX + "TIME_SCALE") else 0.0
    with Sandbox(config=SandboxConfig.from_env(time_scale=fastest)) as sandbox:
        yield sandbox


@pytest.fixture
def bedrock_rft_sandbox_airflow_conn(
    bedrock_rft_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> Sandbox:
    """Point Airflow's ``aws_default`` connection at the sandbox for one test; returns the sandbox."""
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", bedrock_rft_sandbox.airflow_conn_env())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return bedrock_rft_sandbox
