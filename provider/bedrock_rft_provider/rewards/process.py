"""Run a reward's grader handler in its own worker process, the way the deployed Lambda runs it.

``bedrock-rft test-reward``, ``bedrock-rft evaluate`` and ``BedrockRFTEvaluationOperator(reward=...)``
score through :class:`ProcessGrader`, so model output is graded as in the grader Lambda: the handler
(and any ``code_tests`` runner below it, with the same isolation layers) lives in a separate,
non-dumpable process, never in the CLI or the Airflow worker. A reward that exits, crashes or is
killed (``os._exit``, ``kill(getppid(), 9)`` from code it ran) loses nothing: the worker is restarted
and the batch is re-scored one sample at a time, the sample that killed it scoring 0 with
``reward_error`` = 1.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from typing import IO, Any

from bedrock_rft_provider.rewards.contract import ERROR_METRIC, _sample_id, samples_of

_WORKER = r"""
import json, os, sys
sys.path[:0] = json.loads(sys.argv[2])
proto = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
try:
    from bedrock_rft_provider.rewards.handler import as_handler
    from bedrock_rft_provider.rewards.isolation import make_parent_nondumpable
    from bedrock_rft_provider.rewards.runner import load_reward
    workers = int(sys.argv[3]) or None
    handler = as_handler(load_reward(sys.argv[1]), max_workers=workers)
except BaseException as exc:
    proto.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
    proto.flush()
    raise SystemExit(3)
make_parent_nondumpable()
proto.write(json.dumps({"ready": True}) + "\n")
proto.flush()
for line in sys.stdin:
    proto.write(json.dumps({"results": handler(json.loads(line), None)}) + "\n")
    proto.flush()
"""


class RewardLoadError(ValueError):
    """The reward could not be loaded in the worker process (bad spec, import error)."""


class ProcessGrader:
    """A grader handler ``(event, context) -> list[dict]`` backed by a worker process; thread-safe.

    ``spec`` is ``module:function`` or ``path/to/file.py:function``; ``batch_timeout_s`` bounds one
    batch (the worker is then replaced and the batch scored sample by sample). Raises
    :class:`RewardLoadError` on the first call when the reward cannot be loaded.
    """

    def __init__(self, spec: str, *, max_workers: int | None = None, batch_timeout_s: float = 900.0) -> None:
        self.spec = spec
        self.max_workers = max_workers or 0
        self.batch_timeout_s = batch_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the worker now (and raise :class:`RewardLoadError` now if the reward is broken)."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        path = [p for p in sys.path if p]
        self._proc = subprocess.Popen(
            # -B: leave no __pycache__ beside the user's reward module.
            [sys.executable, "-I", "-B", "-c", _WORKER, self.spec, json.dumps(path), str(self.max_workers)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_worker_env(),
            cwd=os.getcwd(),
        )
        reply = self._read(self._proc, 300.0)
        if not isinstance(reply, dict) or not reply.get("ready"):
            self._stop()
            message = reply.get("error") if isinstance(reply, dict) else "the reward worker exited"
            raise RewardLoadError(f"reward {self.spec}: {message}")
        return self._proc

    def _read(self, proc: subprocess.Popen[bytes], timeout_s: float) -> Any:
        stdout: IO[bytes] = proc.stdout  # type: ignore[assignment]
        deadline = time.monotonic() + timeout_s
        buffer = b""
        while not buffer.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([stdout], [], [], min(remaining, 1.0))
            if ready:
                chunk = os.read(stdout.fileno(), 1 << 20)
                if not chunk:
                    return None
                buffer += chunk
        try:
            return json.loads(buffer)
        except (ValueError, RecursionError):
            return None

    def _call(self, batch: list[Any]) -> list[dict[str, Any]] | None:
        proc = self._ensure()
        try:
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(batch).encode() + b"\n")
            proc.stdin.flush()
        except (OSError, ValueError):
            self._stop()
            return None
        reply = self._read(proc, self.batch_timeout_s)
        if not isinstance(reply, dict) or not isinstance(reply.get("results"), list):
            self._stop()
            return None
        return reply["results"]

    def __call__(self, event: Any, context: Any = None) -> list[dict[str, Any]]:
        batch = samples_of(event)
        with self._lock:
            results = self._call(batch)
            if results is not None:
                return results
            scored = []  # the worker died or hung on this batch: find the sample that did it
            for index, raw in enumerate(batch):
                single = self._call([raw])
                scored.append(single[0] if single and len(single) == 1 else _lost(raw, index))
            return scored

    def _stop(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=10)
            for stream in (self._proc.stdin, self._proc.stdout):
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()
            self._proc = None

    def close(self) -> None:
        """End the worker process (idempotent)."""
        with self._lock:
            self._stop()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._stop()

    def __enter__(self) -> ProcessGrader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _worker_env() -> dict[str, str]:
    """This process's environment minus Airflow's (connections, variables, config may hold secrets).

    AWS settings stay: the user's own reward may call AWS (an LLM judge), as it does in Lambda.
    """
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("AIRFLOW")}


def _lost(raw: Any, index: int) -> dict[str, Any]:
    return {
        "id": _sample_id(raw, index),
        "aggregate_reward_score": 0.0,
        "metrics_list": [{"name": ERROR_METRIC, "value": 1.0, "type": "Metric"}],
    }
