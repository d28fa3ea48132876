"""The demo's in-process Airflow: its private environment, and each step's output in the step's log."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from bedrock_rft_provider.demo_airflow import airflow_env, output_to, use_private_airflow

# In a child process: under pytest, ``sys.stdout`` is pytest's capture, not file descriptor 1.
STEP = """
import os, subprocess, sys
from pathlib import Path
from bedrock_rft_provider.demo_airflow import output_to

print("before")
with output_to(Path(sys.argv[1])):
    print("print")
    os.write(1, b"fd 1\\n")
    print("stderr", file=sys.stderr)
    subprocess.run([sys.executable, "-c", "print('child')"], check=True)  # inherits the descriptors
print("after")
"""


def test_everything_written_during_a_step_goes_to_its_log_and_the_console_gets_it_back(
    tmp_path: Path,
) -> None:
    log = tmp_path / "logs" / "step.log"
    log.parent.mkdir()
    log.write_text("a previous run's log\n")
    result = subprocess.run(
        [sys.executable, "-c", STEP, str(log)], capture_output=True, text=True, timeout=60, check=True
    )
    assert log.read_text().splitlines() == ["print", "fd 1", "stderr", "child"]
    assert (result.stdout, result.stderr) == ("before\nafter\n", "")


def test_the_console_is_restored_when_a_step_raises(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(RuntimeError), output_to(tmp_path / "step.log"):
        os.write(1, b"during\n")
        raise RuntimeError("boom")
    os.write(1, b"after\n")
    assert capfd.readouterr().out == "after\n"
    assert (tmp_path / "step.log").read_text() == "during\n"


def test_the_environment_is_private_and_only_the_connection_carries_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    monkeypatch.setenv("AIRFLOW_CONN_MY_DB", "postgres://x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    env = airflow_env(tmp_path, tmp_path / "dags", "aws://testing:testing@/")
    assert env["AIRFLOW_HOME"] == str(tmp_path)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'airflow.db'}"
    assert env["AIRFLOW_CONN_AWS_DEFAULT"] == "aws://testing:testing@/"
    assert not {"AIRFLOW__CORE__EXECUTOR", "AIRFLOW_CONN_MY_DB", "AWS_SECRET_ACCESS_KEY"} & set(env)


def test_a_process_that_already_imported_airflow_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its configuration is fixed at import: the demo would write to that process's Airflow database.
    monkeypatch.setitem(sys.modules, "airflow", sys.modules.get("airflow") or types.ModuleType("airflow"))
    before = dict(os.environ)
    with pytest.raises(RuntimeError, match=r"python -m bedrock_rft_provider\.demo"):
        use_private_airflow(tmp_path, tmp_path, "aws://")
    assert dict(os.environ) == before
