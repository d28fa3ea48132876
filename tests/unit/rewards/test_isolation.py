"""isolation: layers detected at run time, logged once; strict fails closed; limits hold."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from typing import Any

import pytest

from bedrock_rft_provider.rewards import isolation
from bedrock_rft_provider.rewards.codeexec import run_code_tests
from bedrock_rft_provider.rewards.isolation import IsolationUnavailable, Limits, plan, run_isolated

LINUX_SECCOMP = sys.platform.startswith("linux") and os.uname().machine in ("x86_64", "aarch64")


def test_strict_fails_closed_without_namespaces(monkeypatch: pytest.MonkeyPatch) -> None:
    layers = isolation.available_layers()
    monkeypatch.setattr(isolation, "available_layers", lambda: {**layers, "namespaces": False})
    with pytest.raises(IsolationUnavailable, match="bubblewrap"):
        run_code_tests("def f():\n    return 1", ["assert f() == 1"], isolation="strict")
    assert "namespaces" not in plan("auto")


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="expected one of auto, strict, basic"):
        plan("paranoid")


def test_basic_uses_the_floor_only() -> None:
    layers = plan("basic")
    assert {"clean_env", "rlimits", "private_dir", "output_cap", "group_kill"} <= set(layers)
    assert not {"seccomp", "landlock", "namespaces"} & set(layers)


@pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed (make install adds it)")
def test_bubblewrap_gives_the_namespace_layer_here() -> None:
    assert isolation.available_layers()["namespaces"] is True
    assert "namespaces" in plan("strict")


@pytest.mark.skipif(not LINUX_SECCOMP, reason="seccomp filters are built for Linux x86_64 and aarch64")
def test_seccomp_is_detected_on_linux() -> None:
    assert isolation.available_layers()["seccomp"] is True


def test_layers_are_logged_once(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    monkeypatch.setattr(isolation, "_state", {})
    with caplog.at_level(logging.INFO, logger="bedrock_rft_provider.rewards"):
        isolation.available_layers()
        isolation.available_layers()
    assert sum("code isolation layers" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize("mode", ["basic", "auto"])
def test_the_child_gets_a_clean_environment_and_a_private_dir(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    source = "import os\nprint(sorted(os.environ), oct(os.stat('.').st_mode & 0o777), os.listdir('.'))"
    outcome = run_isolated(source, b"", Limits(timeout_s=20), isolation=mode)
    text = outcome.stdout.decode()
    assert "AWS_SECRET_ACCESS_KEY" not in text
    assert "0o700" in text or "namespaces" in outcome.layers  # the namespace's /tmp is its own tmpfs
    assert text.rstrip().endswith("[]")


@pytest.mark.parametrize("mode", ["basic", "auto"])
def test_the_wall_clock_limit_holds(mode: str) -> None:
    started = time.monotonic()
    outcome = run_isolated("import time\ntime.sleep(600)", b"", Limits(timeout_s=1), isolation=mode)
    assert outcome.timed_out
    assert time.monotonic() - started < 120  # 1 s limit, ~2 s idle; unbounded it is 600 s


def test_memory_is_limited() -> None:
    outcome = run_isolated(
        "x = bytearray(2**30)\nprint('allocated')", b"", Limits(memory_mb=128), isolation="basic"
    )
    assert b"allocated" not in outcome.stdout
