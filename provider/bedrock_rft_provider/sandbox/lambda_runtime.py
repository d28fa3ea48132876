"""Run a Lambda function's uploaded zip locally, with the isolation Lambda gives.

Each worker is one long-lived ``python -I -S`` subprocess whose ``sys.path`` holds only the standard
library, the extracted zip, the function's layers, and the AWS SDK (boto3/botocore, which the Lambda
Python runtime provides). The interpreter is the sandbox's own, whatever the function's ``Runtime``.
Nothing else installed next to the sandbox is importable, so a zip that forgot a module fails here as it
would in Lambda. Events go in on stdin and results come back on stdout, one JSON line each; the
function's handler string and timeout are honoured, and a worker that dies or times out is replaced.

A worker cannot hang the sandbox: the reply is read against the function's deadline (a handler that
writes a partial line on the protocol pipe times out like any slow handler), a reply larger than
Lambda's 6 MB response limit is refused, retiring a worker (after ``update_function_code``) ends its
process at once instead of waiting for an invocation in flight, and a worker whose sandbox process has
gone exits by itself within a second.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bedrock_rft_provider.sandbox import lambda_worker
from bedrock_rft_provider.sandbox.lambda_package import (  # extract_zip/scratch_root: re-exported
    MAX_INVOKE_REQUEST_BYTES,
    MAX_INVOKE_RESPONSE_BYTES,
    check_packages,
    extract_zip,
    scratch_lock,
    scratch_root,
)
from bedrock_rft_provider.sandbox.moto_state import LambdaCode
from bedrock_rft_provider.sandbox.worker_pipe import TIMED_OUT, TOO_LONG, read_reply

# Packages the AWS Lambda Python runtime ships; everything else must come from the zip.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
MAX_PAYLOAD_BYTES = MAX_INVOKE_REQUEST_BYTES
# A reply line holds the payload (at most the response limit, checked in the worker) plus 4 KiB of logs;
# anything longer means the handler wrote on the protocol pipe itself.
MAX_REPLY_BYTES = MAX_INVOKE_RESPONSE_BYTES + 256 * 1024

# The worker program: a real module (linted, type-checked), run from its source so the subprocess never
# imports this package (its sys.path holds only the stdlib, the function's code and layers, and the SDK).
_WORKER_SOURCE = Path(lambda_worker.__file__).read_text(encoding="utf-8")
READY = lambda_worker.READY.encode() + b"\n"
INIT_TIMEOUT_S = 10.0  # Lambda's limit for a function's init phase


def runtime_sdk_dir() -> Path:
    """A directory exposing only the SDK packages of the Lambda Python runtime (symlinks)."""
    root = scratch_root()
    target = root / "runtime-sdk"
    with scratch_lock:
        if target.exists():
            return target
        staging = Path(tempfile.mkdtemp(dir=root))
        for name in RUNTIME_PACKAGES:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:
                continue
            origin = Path(spec.origin)
            source = origin.parent if origin.name == "__init__.py" else origin
            (staging / source.name).symlink_to(source)
        staging.rename(target)
        return target


@dataclass
class InvocationResult:
    """What one invocation produced: the handler's return value or Lambda's error payload."""

    payload: Any = None
    error: dict[str, Any] | None = None
    logs: str = ""
    duration_ms: float = 0.0
    executed_version: str = "$LATEST"

    @property
    def failed(self) -> bool:
        return self.error is not None


class LambdaWorker:
    """One long-lived subprocess running one version of one function; invocations are serialized."""

    def __init__(
        self, code: LambdaCode, *, region: str = "us-east-1", endpoint_url: str | None = None
    ) -> None:
        self.code = code
        self.region = region
        self.endpoint_url = endpoint_url
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._code_dir: Path | None = None
        self._closed = False

    def _environment(self, code_dir: Path) -> dict[str, str]:
        env = {
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LAMBDA_TASK_ROOT": str(code_dir),
            "_HANDLER": self.code.handler,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": self.code.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": self.code.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.code.memory_size),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(self.code.timeout)),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python_bedrock_rft_sandbox",
            # Calls the function makes (an LLM judge's converse) reach the sandbox, never real AWS.
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
        }
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        env.update(self.code.environment)
        return env

    def _search_path(self) -> list[str]:
        """After the function's own code: its layers (as Lambda mounts them under /opt), then the SDK."""
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        paths = []
        for layer in self.code.layers:
            root = extract_zip(layer)
            paths += [str(root / "python" / "lib" / version / "site-packages"), str(root / "python")]
        return [*paths, str(runtime_sdk_dir())]

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        # Function + layers must fit Lambda's unzipped quota together (each zip was checked alone).
        check_packages([self.code.zip_bytes, *self.code.layers])
        self._code_dir = extract_zip(self.code.zip_bytes)
        log_path = self._code_dir.parent / f"stderr-{uuid.uuid4().hex[:8]}.log"
        with open(log_path, "wb") as stderr:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-S",
                    "-c",
                    _WORKER_SOURCE,
                    str(self._code_dir),
                    self.code.handler,
                    str(MAX_INVOKE_RESPONSE_BYTES),
                    *self._search_path(),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                cwd=self._code_dir,
                env=self._environment(self._code_dir),
            )
        return self._proc

    def invoke(self, event: Any, *, invoked_arn: str | None = None) -> InvocationResult:
        """Run the handler on ``event``; never raises for handler problems (they come back as ``error``).

        Raises ``ServiceError`` only for a package Lambda would refuse to run (see ``extract_zip``).
        """
        request_id = str(uuid.uuid4())
        with self._lock:
            started = time.monotonic()
            fresh = self._proc is None or self._proc.poll() is not None
            proc = self._ensure_started()
            assert proc.stdin is not None and proc.stdout is not None
            # As in Lambda, a cold start's init phase (interpreter start, handler import) has its own limit
            # and is not part of the function timeout: a busy machine's slow start is not a handler timeout.
            init = READY
            if fresh:
                init = read_reply(proc.stdout.fileno(), time.monotonic() + INIT_TIMEOUT_S, len(READY))
            if not init:  # the process ended during init (retired, or killed from outside)
                return self._died(proc, request_id, started)
            if init != READY:
                self._kill(proc)
                return self._failed(
                    "Sandbox.Timedout" if init is TIMED_OUT else "Runtime.ExitError",
                    f"RequestId: {request_id} Error: the function's init phase "
                    + (
                        f"did not finish within {INIT_TIMEOUT_S:.0f} seconds"
                        if init is TIMED_OUT
                        else "failed"
                    ),
                    started,
                )
            line = json.dumps(
                {
                    "event": event,
                    "request_id": request_id,
                    "arn": invoked_arn or self.code.function_arn,
                    "deadline": time.time() + self.code.timeout,
                }
            )
            try:
                proc.stdin.write(line.encode() + b"\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                return self._died(proc, request_id, started)
            deadline = time.monotonic() + self.code.timeout
            reply = read_reply(proc.stdout.fileno(), deadline, MAX_REPLY_BYTES)
            if reply is TIMED_OUT:
                self._kill(proc)
                return self._failed(
                    "Sandbox.Timedout",
                    f"RequestId: {request_id} Error: Task timed out after {self.code.timeout:.2f} seconds",
                    started,
                )
            if reply is TOO_LONG:
                self._kill(proc)
                return self._failed(
                    "Function.ResponseSizeTooLarge",
                    f"RequestId: {request_id} Error: the reply exceeded {MAX_REPLY_BYTES} bytes (Lambda's "
                    f"response limit is {MAX_INVOKE_RESPONSE_BYTES} bytes)",
                    started,
                )
            if not reply:
                return self._died(proc, request_id, started)
            try:
                answer = json.loads(reply)
                if not isinstance(answer, dict):
                    raise ValueError("not an object")
            except (ValueError, RecursionError):
                # The handler wrote on the protocol pipe itself; the stream cannot be trusted any more.
                self._kill(proc)
                return self._failed(
                    "Runtime.ExitError",
                    f"RequestId: {request_id} Error: the function wrote to the runtime's reply channel "
                    "(the worker's protocol pipe); its reply was unreadable",
                    started,
                )
            if self._closed:  # retired while this caller still held it: do not leave a process behind
                self._kill(proc)
        return InvocationResult(
            payload=answer.get("result"),
            error=None if answer.get("ok") else answer.get("error"),
            logs=answer.get("logs", ""),
            duration_ms=(time.monotonic() - started) * 1000,
            executed_version=self.code.version,
        )

    def _failed(self, error_type: str, message: str, started: float) -> InvocationResult:
        return InvocationResult(
            error={"errorType": error_type, "errorMessage": message},
            duration_ms=(time.monotonic() - started) * 1000,
            executed_version=self.code.version,
        )

    def _died(self, proc: subprocess.Popen[bytes], request_id: str, started: float) -> InvocationResult:
        try:
            code: int | None = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._kill(proc)
        return self._failed(
            "Runtime.ExitError",
            f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
            started,
        )

    def _kill(self, proc: subprocess.Popen[bytes] | None) -> None:
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, OSError):
            proc.kill()
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()
        if self._proc is proc:
            self._proc = None

    def close(self) -> None:
        """Stop the subprocess now (idempotent).

        An invocation in flight is not waited for: its process is killed and it ends with
        ``Runtime.ExitError``, so retiring a worker whose handler hangs never blocks the caller.
        """
        self._closed = True
        if self._lock.acquire(blocking=False):
            try:
                proc = self._proc
                if proc is not None and proc.stdin is not None:
                    with contextlib.suppress(Exception):
                        proc.stdin.close()
                    with contextlib.suppress(Exception):
                        proc.wait(timeout=2)
                self._kill(proc)
            finally:
                self._lock.release()
        else:
            proc = self._proc
            if proc is not None:  # the invoking thread sees EOF at once and reaps it
                with contextlib.suppress(ProcessLookupError, OSError):
                    proc.kill()


class LambdaPool:
    """Workers for the Lambda ``Invoke`` API, one per function version; thread-safe.

    A worker is replaced (and its process ended) when that version's code, handler, timeout or
    environment changes, e.g. after ``update_function_code`` on ``$LATEST``; at most ``max_workers``
    processes stay warm (least recently used ones are ended, like Lambda reclaiming idle containers).
    """

    def __init__(self, endpoint_url: str | None = None, max_workers: int = 8) -> None:
        self.endpoint_url = endpoint_url
        self.max_workers = max_workers
        self._lock = threading.Lock()
        self._workers: dict[str, LambdaWorker] = {}  # insertion order = least recently used first

    def worker(self, code: LambdaCode, region: str) -> LambdaWorker:
        retired: list[LambdaWorker] = []
        with self._lock:
            found = self._workers.pop(code.function_arn, None)
            if found is None or found.code != code:
                if found is not None:
                    retired.append(found)
                found = LambdaWorker(code, region=region, endpoint_url=self.endpoint_url)
            self._workers[code.function_arn] = found
            while len(self._workers) > self.max_workers:
                retired.append(self._workers.pop(next(iter(self._workers))))
        for worker in retired:
            worker.close()
        return found

    def close(self) -> None:
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.close()
