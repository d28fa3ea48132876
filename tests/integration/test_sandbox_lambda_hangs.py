"""Through the endpoint: a misbehaving Lambda cannot hang the sandbox or outlive it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from botocore.config import Config

from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.server import Sandbox
from unit.sandbox.sandbox_helpers import World, make_world, unique, zip_module

pytestmark = pytest.mark.integration

NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120)

SLEEPER = """
import os, time
def handler(event, context):
    if isinstance(event, dict) and event.get("pid_file"):
        with open(event["pid_file"], "w") as out:
            out.write(str(os.getpid()))
    if isinstance(event, dict) and event.get("sleep"):
        time.sleep(event["sleep"])
    if isinstance(event, dict) and event.get("big"):
        return "x" * (20 * 1024 * 1024)
    return "v1"
"""


def _create(sandbox: Sandbox, world: World, source: str, timeout: int = 120) -> str:
    name = unique("hang")
    sandbox.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=world.role_arn,
        Handler="bedrock_rft_entry.handler",
        Code={"ZipFile": zip_module(source)},
        Timeout=timeout,
    )
    return name


def _wait_for_pid(pid_file: Path) -> int:
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()):
        assert time.monotonic() < deadline, "the handler never started"
        time.sleep(0.05)
    return int(pid_file.read_text())


def _gone(pid: int, within: float = 30.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except (ProcessLookupError, OSError):
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def test_a_20_mib_response_is_function_response_size_too_large() -> None:
    with Sandbox(config=SandboxConfig(time_scale=0)) as sandbox:
        world = make_world(sandbox, n_train=20, n_validation=5)
        name = _create(sandbox, world, SLEEPER)
        answer = sandbox.client("lambda", config=NO_RETRY).invoke(FunctionName=name, Payload=b'{"big": true}')
        assert answer["FunctionError"] == "Unhandled"
        error = json.loads(answer["Payload"].read())
        assert error["errorType"] == "Function.ResponseSizeTooLarge"


def test_first_invoke_after_update_function_code_does_not_wait_for_a_hung_call(tmp_path: Path) -> None:
    with Sandbox(config=SandboxConfig(time_scale=0)) as sandbox:
        world = make_world(sandbox, n_train=20, n_validation=5)
        lam = sandbox.client("lambda", config=NO_RETRY)
        name = _create(sandbox, world, SLEEPER)
        pid_file = tmp_path / "old.pid"
        event = json.dumps({"pid_file": str(pid_file), "sleep": 600})
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=event)
        old_pid = _wait_for_pid(pid_file)  # the old code is now stuck for 600 s

        lam.update_function_code(
            FunctionName=name, ZipFile=zip_module("def handler(e, c):\n    return 'v2'\n")
        )
        started = time.monotonic()
        assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "v2"
        assert time.monotonic() - started < 120  # not the 600 s the old handler sleeps
        assert _gone(old_pid), "the retired worker is still running"


def test_stopping_the_sandbox_ends_workers_busy_in_a_handler(tmp_path: Path) -> None:
    sandbox = Sandbox(config=SandboxConfig(time_scale=0)).start()
    try:
        world = make_world(sandbox, n_train=20, n_validation=5)
        lam = sandbox.client("lambda", config=NO_RETRY)
        name = _create(sandbox, world, SLEEPER)
        pid_file = tmp_path / "busy.pid"
        lam.invoke(
            FunctionName=name,
            InvocationType="Event",
            Payload=json.dumps({"pid_file": str(pid_file), "sleep": 600}),
        )
        pid = _wait_for_pid(pid_file)
    finally:
        started = time.monotonic()
        sandbox.stop()
        stop_seconds = time.monotonic() - started
    assert stop_seconds < 120  # not the 600 s the handler sleeps
    assert _gone(pid), "a Lambda worker outlived the sandbox"
