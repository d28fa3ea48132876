"""A small client for Airflow's REST API v2, as a user's tooling would use it (JWT from /auth/token)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


class ApiError(Exception):
    """A REST call failed; the message has the method, path, status and body."""


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self.http = httpx.Client(base_url=self.base_url, timeout=60)
        self.token: str | None = None

    def login(self) -> None:
        """POST /auth/token with the user's password; the JWT goes on every later call."""
        response = self.http.post("/auth/token", json={"username": self.username, "password": self.password})
        if response.status_code != 201:
            raise ApiError(f"POST /auth/token -> {response.status_code}: {response.text[:300]}")
        self.token = response.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/api/v2{path}", **kwargs)
        if response.status_code == 401 and self.token:  # token expired: log in again once
            self.login()
            response = self.http.request(method, f"/api/v2{path}", **kwargs)
        if response.status_code >= 400:
            raise ApiError(f"{method} /api/v2{path} -> {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params or None)

    # -- the calls the scenarios use -----------------------------------------------------------------
    def unpause(self, dag_id: str) -> None:
        self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf or {}}
        return dict(self.call("POST", f"/dags/{dag_id}/dagRuns", json=body))

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/dags/{dag_id}/dagRuns/{run_id}"))

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/dags/{dag_id}/dagRuns", limit=100)["dag_runs"])

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return dict(self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100)["task_instances"])

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries"
        return list(self.get(path)["task_instances"])

    def set_state(self, dag_id: str, run_id: str, task_id: str, state: str) -> None:
        body = {"new_state": state, "include_upstream": False, "include_downstream": False}
        self.call("PATCH", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}", json=body)

    def clear(self, dag_id: str, run_id: str, task_id: str) -> None:
        body = {"dry_run": False, "task_ids": [task_id], "dag_run_id": run_id, "only_failed": False}
        self.call("POST", f"/dags/{dag_id}/clearTaskInstances", json=body)

    def links(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return dict(self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/links"))

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        return self.get(path, deserialize=True)["value"]


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 2.0) -> T:
    """Poll ``probe`` until it returns something other than None; TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
