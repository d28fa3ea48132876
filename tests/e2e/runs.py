"""Follow DAG runs through the REST API: states seen per task, and bounded waits."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.api import AirflowApi

TERMINAL_RUN_STATES = {"success", "failed"}


@dataclass
class RunWatch:
    """The states each task instance of one run was seen in, polled through the REST API."""

    api: AirflowApi
    dag_id: str
    run_id: str
    seen: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def poll(self) -> dict[str, dict[str, Any]]:
        tis = {ti["task_id"]: ti for ti in self.api.task_instances(self.dag_id, self.run_id)}
        for task_id, ti in tis.items():
            state = ti.get("state") or "none"
            states = self.seen[task_id]
            if not states or states[-1] != state:
                states.append(state)
        return tis

    def passed_through(self, task_id: str, state: str) -> bool:
        return state in self.seen.get(task_id, [])

    def wait_task(
        self, task_id: str, states: set[str], timeout: float, try_number: int | None = None
    ) -> dict:
        """Until ``task_id`` is in one of ``states`` (and at ``try_number``, when given)."""
        deadline = time.monotonic() + timeout
        while True:
            ti = self.poll().get(task_id)
            if ti and ti.get("state") in states and (try_number is None or ti["try_number"] == try_number):
                return ti
            if self.run_state() in TERMINAL_RUN_STATES:
                raise AssertionError(
                    f"{self.run_id} ended {self.run_state()} before {task_id} reached {sorted(states)}; "
                    f"states seen: {dict(self.seen)}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{task_id} of {self.run_id} not in {sorted(states)} after {timeout:.0f}s; "
                    f"states seen: {self.seen.get(task_id)}"
                )
            time.sleep(1)

    def run_state(self) -> str:
        return str(self.api.dag_run(self.dag_id, self.run_id)["state"])

    def wait_done(self, timeout: float) -> str:
        """Until the run ends; returns its state (``success`` / ``failed``)."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            state = self.run_state()
            if state in TERMINAL_RUN_STATES:
                self.poll()
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.run_id} still {state} after {timeout:.0f}s: {dict(self.seen)}")
            time.sleep(1.5)

    def failed_tasks(self) -> list[str]:
        return sorted(t for t, states in self.seen.items() if states and states[-1] == "failed")


def trigger(api: AirflowApi, dag_id: str, run_id: str, conf: dict[str, Any] | None = None) -> RunWatch:
    api.trigger(dag_id, run_id, conf)
    return RunWatch(api, dag_id, run_id)
