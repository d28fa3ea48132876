"""Fixtures of the example-DAG tests: the DAGs installed in the test AIRFLOW_HOME, and the sandbox."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider import demo
from bedrock_rft_provider.sandbox.bootstrap import bootstrap_sandbox
from support.example_dags import installed_example_dags


@pytest.fixture(scope="module")
def dagbag(airflow_db: Path, airflow_home: Path) -> Iterator[Any]:
    """The example DAGs, installed in the test AIRFLOW_HOME's dags folder (``dag.test()`` syncs from it)."""
    os.environ["BEDROCK_RFT_POLL_SECONDS"] = "1"  # read at parse time; sandbox jobs finish in seconds
    with installed_example_dags(airflow_home) as dagbag:
        yield dagbag


@pytest.fixture
def sandbox_env(
    bedrock_rft_sandbox_airflow_conn: Any,
    airflow_db: Path,
    airflow_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    sandbox = bedrock_rft_sandbox_airflow_conn
    # The sandbox seeds simulated training by job name, which the namespace feeds: a namespace of
    # their own keeps these runs' job names fixed and apart from the rest of the session's jobs.
    monkeypatch.setenv("AIRFLOW__BEDROCK_RFT__NAMESPACE", "example-dags")
    bootstrap_sandbox(sandbox.endpoint_url, [demo.BUCKET], session=sandbox.session())
    yield sandbox
