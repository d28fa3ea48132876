"""Bring up the whole stack for one run and tear it down again, whatever happens.

The exact component commands are in :data:`COMPONENTS` (the README's "Running on a real Airflow"
section quotes them; tests/unit/test_e2e_layout.py checks it does).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bedrock_rft_provider.sandbox.server import Sandbox
from tests.e2e import aws
from tests.e2e.api import AirflowApi, wait_for
from tests.e2e.environment import REPO, Deployment, component_env
from tests.e2e.processes import Processes
from tests.e2e.services import free_port, metadata_database, redis_broker_url

# name -> the airflow CLI arguments ({port} is the api-server's, {n} the worker's number).
COMPONENTS = {
    "api-server": "api-server --host 127.0.0.1 --port {port}",
    "scheduler": "scheduler --skip-serve-logs",
    "dag-processor": "dag-processor",
    "triggerer": "triggerer --skip-serve-logs",
    "worker-1": "celery worker --celery-hostname e2e-worker-1@%h --skip-serve-logs --pid {pid}",
    "worker-2": "celery worker --celery-hostname e2e-worker-2@%h --skip-serve-logs --pid {pid}",
}
SETUP_COMMANDS = ["db migrate"]
USERNAME = "admin"  # docker/airflow.env: SIMPLE_AUTH_MANAGER_USERS=admin:admin
LINEAGE_FILE = "openlineage.jsonl"  # in the logs folder


@dataclass
class Stack:
    """What a scenario can use: the REST API, the processes, the sandbox, the logs folder."""

    api: AirflowApi
    processes: Processes
    sandbox: Sandbox
    logs: Path
    run_tag: str
    state: dict[str, Any] = field(default_factory=dict)  # what one scenario leaves for the next

    def component_args(self, name: str) -> list[str]:
        port = self.api.base_url.rsplit(":", 1)[1]
        pid = self.logs / f"{name}.pid"
        return COMPONENTS[name.split("#", maxsplit=1)[0]].format(port=port, pid=pid).split()

    def start(self, name: str) -> None:
        """Start component ``name`` (``triggerer#2`` = a second triggerer with its own log)."""
        base = name.split("#", maxsplit=1)[0]
        env = None
        if base.startswith("worker-"):
            env = dict(self.processes.env, BEDROCK_RFT_E2E_HOSTNAME=f"e2e-{base}")
        self.processes.start(name.replace("#", "-"), *self.component_args(name), env=env)


@contextlib.contextmanager
def running_stack(logs: Path, *, time_scale: float, private_postgres: bool = False) -> Iterator[Stack]:
    run_tag = uuid.uuid4().hex[:8]
    home = logs / "airflow-home"
    home.mkdir(parents=True)
    password = secrets.token_urlsafe(16)
    # The simple auth manager reads users' passwords from this file (it generates it when absent).
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({USERNAME: password}))
    processes: Processes | None = None
    with contextlib.ExitStack() as cleanup:
        sandbox = aws.start_sandbox(time_scale)
        cleanup.callback(sandbox.stop)
        database_url = cleanup.enter_context(metadata_database(logs, force_private=private_postgres))
        api_port = free_port()
        deployment = Deployment.generate(
            database_url=database_url,
            broker_url=redis_broker_url(),
            api_port=api_port,
            aws_conn=aws.airflow_connection(sandbox),
        )
        run_settings = {
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(logs / "task-logs"),
            # A queue of its own: concurrent e2e runs on one Redis never take each other's tasks.
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": f"bedrock-rft-e2e-{run_tag}",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.e2e.hostname.worker_hostname",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "PYTHONPATH": str(REPO),
            "BEDROCK_RFT_POLL_SECONDS": "2",
            "AWS_DEFAULT_REGION": aws.REGION,
            # Scenario 15: every component reports OpenLineage events to one JSON Lines file, as the
            # README's lineage setup says (a lineage backend would be an "http" transport instead).
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
                {"type": "file", "log_file_path": str(logs / LINEAGE_FILE), "append": True}
            ),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "bedrock-rft-e2e",
            # Scenario 12: the post-training DAG's asset watcher reads the job-events queue.
            "BEDROCK_RFT_EVENTS_QUEUE_URL": aws.setup_job_events(sandbox, logs),
        }
        env = component_env(deployment, home=home, run_settings=run_settings)
        (logs / "environment.json").write_text(
            json.dumps({k: v for k, v in env.items() if k.startswith(("AIRFLOW", "BEDROCK"))}, indent=1)
        )
        processes = Processes(logs=logs, env=env)
        cleanup.callback(processes.stop_all)
        for command in SETUP_COMMANDS:
            processes.run(command.replace(" ", "-"), *command.split())
        api = AirflowApi(f"http://127.0.0.1:{api_port}", USERNAME, password)
        stack = Stack(api=api, processes=processes, sandbox=sandbox, logs=logs, run_tag=run_tag)
        for name in COMPONENTS:
            stack.start(name)
        wait_for("the api-server", lambda: _answers(api), timeout=240)
        api.login()
        for dag_id in ("bedrock_rft_retraining", "bedrock_rft_evaluation"):
            wait_for(f"{dag_id} to be parsed", lambda d=dag_id: _dag_known(api, d), timeout=300)
        yield stack


def _answers(api: AirflowApi) -> bool | None:
    with contextlib.suppress(Exception):
        if api.http.get("/api/v2/monitor/health").status_code == 200:
            return True
    return None


def _dag_known(api: AirflowApi, dag_id: str) -> bool | None:
    with contextlib.suppress(Exception):
        api.get(f"/dags/{dag_id}")
        return True
    return None
