"""The servers the stack needs: a private PostgreSQL database and a private Redis namespace.

PostgreSQL: a uniquely named database on the server at 127.0.0.1:5432 (dropped at the end); when no
server answers there, a private cluster started with the Debian binaries (``initdb``/``pg_ctl`` as the
``postgres`` user) on a free port — never SQLite. Redis: the server at 127.0.0.1:6379; each run uses its
own Celery queue name, so concurrent runs never take each other's tasks.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


class StackError(Exception):
    """The stack could not be set up; the message says what and how to fix it."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_answers(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _pg_connect(port: int, dbname: str = "postgres") -> object:
    import psycopg2

    conn = psycopg2.connect(host=PG_HOST, port=port, user="postgres", dbname=dbname, connect_timeout=10)
    conn.autocommit = True
    return conn


@contextlib.contextmanager
def private_postgres_cluster(logs: Path) -> Iterator[int]:
    """A throwaway cluster (Debian's ``initdb``/``pg_ctl`` run as ``postgres``); yields its port."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        raise StackError(
            "No PostgreSQL server answers on 127.0.0.1:5432 and initdb/pg_ctl are not installed: "
            "start a server (apt-get install postgresql) or put its binaries on PATH."
        )
    data = Path(tempfile.mkdtemp(prefix="bedrock-rft-e2e-pg-"))
    shutil.chown(data, "postgres")
    port = free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_postgres, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-p {port} -k {data} -h 127.0.0.1"
    subprocess.run(
        [*as_postgres, pg_ctl, "-D", str(data), "-o", options, "-l", str(data / "server.log"), "-w", "start"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield port
    finally:
        subprocess.run(
            [*as_postgres, pg_ctl, "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        with contextlib.suppress(OSError):
            shutil.copy(data / "server.log", logs / "postgres-private.log")
        shutil.rmtree(data, ignore_errors=True)


@contextlib.contextmanager
def metadata_database(logs: Path, *, force_private: bool = False) -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database for this run; yields its SQLAlchemy URL."""
    with contextlib.ExitStack() as stack:
        port = PG_PORT
        if force_private or not port_answers(PG_HOST, PG_PORT):
            print(
                "NOTE: no PostgreSQL answers on 127.0.0.1:5432; starting a private cluster with "
                "initdb/pg_ctl (as the postgres user) for this run.",
                flush=True,
            )
            port = stack.enter_context(private_postgres_cluster(logs))
        name = f"bedrock_rft_e2e_{uuid.uuid4().hex[:12]}"
        conn = _pg_connect(port)
        try:
            conn.cursor().execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
        finally:
            conn.close()  # type: ignore[attr-defined]
        try:
            yield f"postgresql+psycopg2://postgres@{PG_HOST}:{port}/{name}"
        finally:
            conn = _pg_connect(port)
            try:
                conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
            finally:
                conn.close()  # type: ignore[attr-defined]


def redis_broker_url() -> str:
    """The Celery broker URL; fails with a clear message when no Redis answers."""
    deadline = time.monotonic() + 10
    while not port_answers(REDIS_HOST, REDIS_PORT):
        if time.monotonic() > deadline:
            raise StackError(
                "No Redis server answers on 127.0.0.1:6379 (the Celery broker). Start one "
                "(apt-get install redis-server && redis-server --daemonize yes) and rerun."
            )
        time.sleep(1)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
