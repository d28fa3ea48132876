"""The environment of every Airflow component: the shared file plus per-deployment values.

``docker/airflow.env`` holds what all deployments share; docker-compose.yaml loads it with
``env_file:`` and supplies :data:`PER_DEPLOYMENT_KEYS` itself; :func:`component_env` does the same
for one e2e run (values generated per run). tests/unit/test_compose.py checks the two agree.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED_ENV_FILE = REPO / "docker" / "airflow.env"

# What each deployment must supply itself (compose: from your shell or .env; e2e: generated per run).
PER_DEPLOYMENT_KEYS = frozenset(
    {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS",
        "AIRFLOW_CONN_AWS_DEFAULT",
    }
)


def read_env_file(path: Path = SHARED_ENV_FILE) -> dict[str, str]:
    """``KEY=VALUE`` lines of a compose env file (``#`` comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key:
            raise ValueError(f"{path}:{number}: expected KEY=VALUE, got {line!r}")
        values[key] = value
    return values


@dataclass(frozen=True)
class Deployment:
    """One run's per-deployment values (see :data:`PER_DEPLOYMENT_KEYS`)."""

    database_url: str
    broker_url: str
    api_port: int
    aws_conn: str
    fernet_key: str
    jwt_secret: str

    @classmethod
    def generate(cls, *, database_url: str, broker_url: str, api_port: int, aws_conn: str) -> Deployment:
        """Fresh secrets for one run: a Fernet key and a JWT secret shared by every component."""
        from cryptography.fernet import Fernet

        return cls(
            database_url=database_url,
            broker_url=broker_url,
            api_port=api_port,
            aws_conn=aws_conn,
            fernet_key=Fernet.generate_key().decode(),
            jwt_secret=secrets.token_hex(32),
        )

    def values(self) -> dict[str, str]:
        values = {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url,
            "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.database_url,
            "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
            "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
            # Users log in (the REST API token below); nobody is an admin without a password.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW_CONN_AWS_DEFAULT": self.aws_conn,
        }
        assert set(values) == PER_DEPLOYMENT_KEYS
        return values


def component_env(deployment: Deployment, *, home: Path, run_settings: dict[str, str]) -> dict[str, str]:
    """The full environment of one component: shared file, per-deployment values, run-local settings.

    ``run_settings`` are the e2e's own (free ports, folders, the Celery queue); they may not override
    a shared or per-deployment key, so the e2e cannot drift from what compose runs.
    """
    shared = read_env_file()
    clash = set(run_settings) & (set(shared) | PER_DEPLOYMENT_KEYS)
    if clash:
        raise ValueError(f"run settings may not override shared settings: {sorted(clash)}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.pop("AWS_PROFILE", None)
    env.update(shared)
    env.update(deployment.values())
    env.update(run_settings)
    env["AIRFLOW_HOME"] = str(home)
    return env
