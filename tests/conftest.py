"""Test-wide setup: a private AIRFLOW_HOME (SQLite), never ``~/airflow``, and shared fixtures."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

# Must happen before anything imports airflow: Airflow reads its home and config at import time.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="bedrock-rft-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_AIRFLOW_HOME / "dags")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"
os.environ["AIRFLOW__LOGGING__BASE_LOG_FOLDER"] = str(_AIRFLOW_HOME / "logs")
# Operators called directly (outside a task run) cannot create the install's namespace Variable; the
# default resolution through the Variable has its own tests (tests/unit/test_namespace.py, DAG tests).
os.environ["AIRFLOW__BEDROCK_RFT__NAMESPACE"] = "test-suite"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.pop("AWS_PROFILE", None)
(_AIRFLOW_HOME / "dags").mkdir(parents=True, exist_ok=True)

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
GSM8K_DIR = REPO_ROOT.parent / "shared" / "data" / "gsm8k"

sys.path.insert(0, str(REPO_ROOT / "tests"))


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """The private AIRFLOW_HOME every test in this run shares."""
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def gsm8k_dir() -> Path:
    """The real GSM8K files from ../shared/data/gsm8k; skips the test when they are absent."""
    if not (GSM8K_DIR / "train.jsonl").exists():
        pytest.skip(reason=f"GSM8K data not present at {GSM8K_DIR} (it is not shipped with the project)")
    return GSM8K_DIR


@pytest.fixture(scope="session")
def airflow_db(airflow_home: Path) -> Path:
    """A migrated Airflow metadata DB (SQLite in the private AIRFLOW_HOME), created once per worker."""
    from airflow.utils import db

    db.initdb()
    return airflow_home / "airflow.db"


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto in server mode on a free loopback port (reachable by boto3 and aiobotocore); its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_conn_to(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Point Airflow's ``aws_default`` connection at an endpoint: ``aws_conn_to(endpoint_url)``."""

    def point(endpoint_url: str) -> None:
        extra = {"endpoint_url": endpoint_url, "region_name": "us-east-1"}
        conn = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}
        monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(conn))

    return point


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest test files first, so ``-n 2 --dist loadfile`` does not end on one long file alone."""
    from support.scheduling import load_durations, longest_files_first

    longest_files_first(items, load_durations())
