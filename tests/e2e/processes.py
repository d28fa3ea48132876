"""Start Airflow components as child processes, and stop every one of them by PID.

Each component runs in its own session (process group), so stopping it also stops the processes it
forked (Celery pool, task supervisors, gunicorn/uvicorn workers). Output goes to ``<logs>/<name>.log``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@dataclass
class Component:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes]
    log_path: Path
    expected_exit: bool = False


@dataclass
class Processes:
    """Every process this run started, in start order."""

    logs: Path
    env: dict[str, str]
    started: list[Component] = field(default_factory=list)

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> Component:
        """Start ``airflow <args>`` as component ``name`` (``env`` replaces the shared environment)."""
        argv = [AIRFLOW, *args]
        log_path = self.logs / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                argv, env=env or self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        component = Component(name, argv, process, log_path)
        self.started.append(component)
        return component

    def run(self, name: str, *args: str, timeout: float = 600) -> None:
        """Run ``airflow <args>`` to completion; raises with the log's path when it fails."""
        log_path = self.logs / f"{name}.log"
        with log_path.open("ab") as log:
            result = subprocess.run(
                [AIRFLOW, *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(f"`airflow {' '.join(args)}` exited {result.returncode}; see {log_path}")

    def kill(self, component: Component) -> None:
        """SIGKILL the component and everything it forked (a crash, not a shutdown)."""
        component.expected_exit = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(component.process.pid, signal.SIGKILL)
        component.process.wait(timeout=30)

    def check_alive(self) -> None:
        """Raise when a component this run still needs has exited on its own."""
        for component in self.started:
            code = component.process.poll()
            if code is not None and not component.expected_exit:
                raise RuntimeError(f"{component.name} exited {code}; see {component.log_path}")

    def stop_all(self, grace: float = 20.0) -> None:
        """SIGTERM every component's process group, then SIGKILL what is left after ``grace`` s."""
        running = [c for c in self.started if c.process.poll() is None]
        for component in reversed(running):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(component.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for component in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for component in running:
            # The leader may be gone while its children linger: signal the group regardless.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(component.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=10)
