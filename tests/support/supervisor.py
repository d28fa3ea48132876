"""Airflow's supervisor channel, answering only "what state is this task instance in now?".

The triggerer and the task runner both read task states through ``SUPERVISOR_COMMS`` (a
``GetTaskStates`` request answered with a ``TaskStatesResult``); this stands in for it, with the real
message types, so ``on_kill`` can be tested for a clear and for a mark-failed.
"""

from __future__ import annotations

from typing import Any

import pytest


class FakeSupervisor:
    def __init__(self, states: dict[str, dict[str, str | None]]) -> None:
        self.states = states
        self.requests: list[Any] = []

    def send(self, msg: Any) -> Any:
        from airflow.sdk.execution_time.comms import GetTaskStates, TaskStatesResult

        assert isinstance(msg, GetTaskStates), msg
        self.requests.append(msg)
        return TaskStatesResult(task_states=self.states)


def supervisor_reports(monkeypatch: pytest.MonkeyPatch, ti: Any, state: str | None) -> FakeSupervisor:
    """Make ``ti``'s state read back as ``state`` (None = cleared) through the supervisor channel."""
    fake = FakeSupervisor({ti.run_id: {ti.task_id: state}})
    monkeypatch.setattr("airflow.sdk.execution_time.task_runner.SUPERVISOR_COMMS", fake, raising=False)
    return fake
