"""Baseline for ``bench_code_tests``: the ``code_tests`` runner as it was before issue 12 (commit 30b68fc).

One ``python -I`` child per sample, rlimits and blocked modules, a nonce-tagged result protocol decided
inside the child, output buffered whole. Kept verbatim (minus the reward wrapper) so the benchmark
compares the isolated runner with what it replaced, in the same run. Known forgeable: do not use.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MEMORY_MB = 512

# Runs in the child. Reads {"nonce", "code", "tests"} on stdin; writes one "<nonce><json>" line per test.
_HARNESS = r"""
import io, json, os, sys
payload = json.loads(sys.stdin.read())
nonce, code, tests = payload["nonce"], payload["code"], payload["tests"]
del payload
out = sys.stdout
for name in ("socket", "_socket", "ssl", "_ssl", "ctypes", "_ctypes", "subprocess", "_posixsubprocess",
             "multiprocessing", "_multiprocessing", "asyncio", "urllib.request", "http.client", "ftplib",
             "smtplib", "telnetlib"):
    sys.modules[name] = None
def _blocked(*args, **kwargs):
    raise PermissionError("process creation is disabled in code_tests")
for name in ("system", "popen", "fork", "forkpty", "execv", "execve", "execvp", "execvpe", "execl", "execle",
             "execlp", "execlpe", "spawnv", "spawnve", "spawnl", "spawnle", "posix_spawn", "posix_spawnp",
             "kill", "killpg"):
    if hasattr(os, name):
        setattr(os, name, _blocked)
def run(test):
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    sys.stdin = io.StringIO(test.get("input", "") if isinstance(test, dict) else "")
    sys.stdout = captured = io.StringIO()
    try:
        try:
            exec(compile(code, "<candidate>", "exec"), namespace)
        except SystemExit:
            pass
        if isinstance(test, dict):
            got = [line.rstrip() for line in captured.getvalue().strip().splitlines()]
            want = [line.rstrip() for line in str(test.get("output", "")).strip().splitlines()]
            return got == want
        exec(compile(test, "<test>", "exec"), namespace)
        return True
    except BaseException:
        return False
    finally:
        sys.stdout, sys.stdin = out, sys.__stdin__
for index, test in enumerate(tests):
    passed = run(test)
    out.write(nonce + json.dumps({"index": index, "passed": passed}) + "\n")
    out.flush()
"""


def _limits(timeout_s: float, memory_mb: int) -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    cpu = int(timeout_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**24, 2**24))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def run_code_tests(
    code: str,
    tests: Sequence[str | dict[str, Any]],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> tuple[int, int, bool]:
    """Run ``code`` against ``tests`` (assert snippets, or ``{"input", "output"}`` stdin/stdout pairs)."""
    nonce = secrets.token_hex(16)
    payload = json.dumps({"nonce": nonce, "code": code, "tests": list(tests)})
    with tempfile.TemporaryDirectory(prefix="code-tests-") as workdir:
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", _HARNESS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=workdir,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            start_new_session=True,
            preexec_fn=(lambda: _limits(timeout_s, memory_mb)) if os.name == "posix" else None,  # noqa: PLW1509
        )
        timed_out = False
        try:
            stdout, _ = process.communicate(payload.encode(), timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            stdout, _ = process.communicate()
    passed = set()
    for line in stdout.decode("utf-8", "replace").splitlines():
        if line.startswith(nonce):
            try:
                record = json.loads(line[len(nonce) :])
            except ValueError:
                continue
            if record.get("passed") is True:
                passed.add(record.get("index"))
    return len(passed), len(tests), timed_out
