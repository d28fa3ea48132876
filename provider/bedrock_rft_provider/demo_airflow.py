"""The demo's Airflow, in the demo's own process: a private SQLite home, the DAG folder parsed once.

One process instead of an ``airflow`` CLI subprocess per step: the CLI paid Airflow's import, two DagBag
fills and the execution API's start-up on each of its six calls. The steps are the calls the CLI makes —
``airflow db migrate`` (``upgradedb``), ``airflow dags reserialize`` (``sync_bag_to_db``), and
``airflow dags test`` (``DAG.test``) — and each step's output (Airflow's logs, the task logs) goes to its
own file, as the subprocesses' output did.

:func:`use_private_airflow` must run before anything imports ``airflow``: Airflow reads ``AIRFLOW_HOME``
and its configuration once, at import.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any


class DemoFailure(Exception):
    """A step of the demo failed; the message says which and why."""


def airflow_env(airflow_home: Path, dags_folder: Path, conn: str) -> dict[str, str]:
    """The demo's Airflow environment: private home, SQLite, the sandbox connection.

    ``os.environ`` without any ``AIRFLOW__*``/``AIRFLOW_CONN_*`` of the caller's and without AWS
    credentials, plus the demo's settings.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW_CONN_AWS_DEFAULT": conn,
            "BEDROCK_RFT_POLL_SECONDS": "1",  # sandbox jobs finish in seconds
            # A fixed deployment namespace: the sandbox seeds its simulated training from the job name,
            # so the demo tells the same story on every run (a real install draws its own namespace).
            "AIRFLOW__BEDROCK_RFT__NAMESPACE": "demo",
        }
    )
    # Only the connection carries credentials, as in a user's Airflow: it must be enough.
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    return env


def use_private_airflow(airflow_home: Path, dags_folder: Path, conn: str) -> None:
    """Point this process's Airflow at the demo's environment (:func:`airflow_env`).

    Raises ``RuntimeError`` if ``airflow`` is already imported: its configuration (home, database) is
    then fixed, and the demo would write to the caller's Airflow database.
    """
    if "airflow" in sys.modules:
        raise RuntimeError(
            "airflow is already imported in this process; run the demo in its own process: "
            "python -m bedrock_rft_provider.demo"
        )
    env = airflow_env(airflow_home, dags_folder, conn)
    for name in set(os.environ) - set(env):
        del os.environ[name]
    os.environ.update(env)


@contextmanager
def output_to(log_path: Path) -> Iterator[None]:
    """Send everything this process writes to stdout/stderr (file descriptors 1, 2) to ``log_path``.

    At the descriptor level, as the ``airflow`` subprocesses' output was: it catches every logger
    whatever stream object it holds, and the child processes (the sandbox runs reward Lambdas in one).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        with log_path.open("wb") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                yield
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        os.close(saved[0])
        os.close(saved[1])


@contextmanager
def step(what: str, log_path: Path) -> Iterator[None]:
    """Run a step with its output in ``log_path``; an exception becomes a :class:`DemoFailure`.

    The traceback goes to the log, as the ``airflow`` command's did; the failure names the step and log.
    """
    try:
        with output_to(log_path):
            try:
                yield
            except Exception:
                traceback.print_exc()
                raise
    except Exception as exc:
        raise DemoFailure(f"{what} raised {type(exc).__name__}: {exc}; log: {log_path}") from exc


def migrate(log_path: Path) -> None:
    """Create the private metadata database: the call ``airflow db migrate`` makes."""
    with step("airflow db migrate", log_path):
        from airflow.utils.db import upgradedb

        upgradedb()


def reserialize(log_path: Path) -> dict[str, Any]:
    """Parse the DAG folder once and write its DAGs to the database, as ``airflow dags reserialize`` does.

    Airflow 3.0's ``dags test`` did not register the DAGs' assets (apache/airflow#51644); this sync does.
    Returns the parsed DAGs by id; raises :class:`DemoFailure` if a DAG file fails to import.
    """
    dags: dict[str, Any] = {}
    with step("airflow dags reserialize", log_path):
        from airflow.dag_processing.bundles.base import unpack_bundle_version
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
        from airflow.utils.session import create_session

        with create_session() as session:
            manager = DagBundlesManager()
            manager.sync_bundles_to_db(session=session)
            session.commit()
            for bundle in manager.get_all_dag_bundles():
                bundle.initialize()
                bag = BundleDagBag(bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
                version, version_data = unpack_bundle_version(bundle.get_current_version(), bundle)
                sync_bag_to_db(
                    bag, bundle.name, bundle_version=version, version_data=version_data, session=session
                )
                if bag.import_errors:
                    raise RuntimeError(f"DAG files failed to import: {bag.import_errors}")
                dags.update(bag.dags)
    return dags


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Failure)\b.*: ")


def failed_task_errors(dag_id: str, log_path: Path) -> str:
    """Which tasks failed, and the exception each raised (from the run's log)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        failed = [
            ti.task_id
            for ti in session.query(TaskInstance).filter(
                TaskInstance.dag_id == dag_id, TaskInstance.state == "failed"
            )
        ]
    errors = [
        line for line in log_path.read_text(errors="replace").splitlines() if EXCEPTION_LINE.match(line)
    ]
    listed = "\n".join(f"  {line}" for line in dict.fromkeys(errors)) or "  (no exception found in the log)"
    return f"failed task(s): {', '.join(sorted(set(failed))) or 'none recorded'}\n{listed}"


def run_dag(dag: Any, logical_date: datetime, conf: dict[str, Any] | None, log_path: Path) -> None:
    """One run of ``dag`` (what ``airflow dags test`` calls); raises :class:`DemoFailure` unless it succeeded.

    The failure names the failed tasks and the exceptions in the run's log (:func:`failed_task_errors`).
    """
    run_of = f"{dag.dag_id} {logical_date:%Y-%m-%d}"
    try:
        with step(f"airflow dags test {run_of}", log_path):
            run = dag.test(logical_date=logical_date, run_conf=conf)
    except DemoFailure as exc:  # Airflow itself failed (a task's failure only fails the run)
        raise DemoFailure(f"{exc}\n{failed_task_errors(dag.dag_id, log_path)}") from exc
    state = str(run.state) if run is not None else "missing"
    if not state.endswith("success"):
        raise DemoFailure(
            f"{run_of} ended {state}; log: {log_path}\n{failed_task_errors(dag.dag_id, log_path)}"
        )
