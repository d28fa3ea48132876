"""DAG-test fixtures: moto in server mode on 127.0.0.1, reachable by boto3 and aiobotocore."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """A moto server on a free loopback port; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_conn_to(monkeypatch: pytest.MonkeyPatch) -> object:
    """Point Airflow's ``aws_default`` connection at an endpoint: ``aws_conn_to(endpoint_url)``."""

    def point(endpoint_url: str) -> None:
        extra = {"endpoint_url": endpoint_url, "region_name": "us-east-1"}
        conn = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}
        monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(conn))

    return point
