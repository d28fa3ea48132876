"""Run a Lambda function's uploaded zip locally, with the isolation Lambda gives.

Each worker is one long-lived ``python -I -S`` subprocess whose ``sys.path`` holds only the standard
library, the extracted zip, the function's layers, and the AWS SDK (boto3/botocore, which the Lambda
Python runtime provides). The interpreter is the sandbox's own, whatever the function's ``Runtime``.
Nothing else installed next to the sandbox is importable, so a zip that forgot a module fails here as it
would in Lambda. Events go in on stdin and results come back on stdout, one JSON line each; the
function's handler string and timeout are honoured, and a worker that dies or times out is replaced.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bedrock_rft_provider.sandbox.moto_state import LambdaCode

# Packages the AWS Lambda Python runtime ships; everything else must come from the zip.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024

_WORKER_SOURCE = r"""
import importlib, io, json, os, sys, time, traceback
code_dir, handler_spec = sys.argv[1], sys.argv[2]
sys.path[:0] = [code_dir] + sys.argv[3:]
if "" in sys.path:
    sys.path.remove("")
proto = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)

class Context:
    def __init__(self, req):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = req["arn"]
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = req["request_id"]
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = "sandbox"
        self._deadline = req["deadline"]
    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))

init_error = None
handler = None
module_name, _, func_name = handler_spec.rpartition(".")
try:
    if not module_name:
        raise ValueError("Bad handler '%s': not enough values to unpack (expected 2, got 1)" % handler_spec)
    module = importlib.import_module(module_name.replace("/", "."))
    handler = getattr(module, func_name, None)
    if handler is None:
        init_error = {"errorType": "Runtime.HandlerNotFound",
                      "errorMessage": "Handler '%s' missing on module '%s'" % (func_name, module_name)}
except Exception as exc:
    init_error = {"errorType": "Runtime.ImportModuleError",
                  "errorMessage": "Unable to import module '%s': %s" % (module_name, exc),
                  "stackTrace": traceback.format_exception(type(exc), exc, exc.__traceback__)[1:]}

for line in sys.stdin:
    req = json.loads(line)
    logs = io.StringIO()
    out = None
    if init_error is not None:
        out = {"ok": False, "error": dict(init_error, requestId=req["request_id"])}
    else:
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = logs
        try:
            out = {"ok": True, "result": handler(req["event"], Context(req))}
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)[1:]
            out = {"ok": False, "error": {"errorMessage": str(exc), "errorType": type(exc).__name__,
                                          "requestId": req["request_id"],
                                          "stackTrace": traceback.format_list(tb)}}
        finally:
            sys.stdout, sys.stderr = saved
    out["logs"] = logs.getvalue()[-4096:]
    try:
        text = json.dumps(out)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"ok": False, "logs": out["logs"], "error": {
            "errorMessage": "Unable to marshal response: %s" % exc, "errorType": "Runtime.MarshalError",
            "requestId": req["request_id"]}})
    proto.write(text + "\n")
    proto.flush()
"""

_shared_lock = threading.Lock()
_shared_dirs: dict[str, Path] = {}


def _scratch_root() -> Path:
    with _shared_lock:
        root = _shared_dirs.get("root")
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="bedrock-rft-sandbox-lambda-"))
            atexit.register(shutil.rmtree, root, True)
            _shared_dirs["root"] = root
        return root


def runtime_sdk_dir() -> Path:
    """A directory exposing only the SDK packages of the Lambda Python runtime (symlinks)."""
    root = _scratch_root()
    target = root / "runtime-sdk"
    with _shared_lock:
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


def extract_zip(zip_bytes: bytes) -> Path:
    """Extract a deployment package once per content hash; refuses paths that escape the folder."""
    digest = hashlib.sha256(zip_bytes).hexdigest()[:16]
    root = _scratch_root()
    target = root / f"code-{digest}"
    with _shared_lock:
        if target.exists():
            return target
        staging = Path(tempfile.mkdtemp(dir=root))
        with zipfile.ZipFile(_bytes_io(zip_bytes)) as archive:
            for member in archive.infolist():
                destination = (staging / member.filename).resolve()
                if not str(destination).startswith(str(staging.resolve())):
                    raise ValueError(f"zip member {member.filename!r} escapes the package folder")
            archive.extractall(staging)
        staging.rename(target)
        return target


def _bytes_io(data: bytes) -> IO[bytes]:
    import io

    return io.BytesIO(data)


@dataclass
class InvocationResult:
    """What one invocation produced: the handler's return value or Lambda's error payload."""

    payload: Any = None
    error: dict[str, Any] | None = None
    logs: str = ""
    duration_ms: float = 0.0
    executed_version: str = "$LATEST"
    extra: dict[str, Any] = field(default_factory=dict)

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
        """Run the handler on ``event``; never raises for handler problems (they come back as ``error``)."""
        request_id = str(uuid.uuid4())
        line = json.dumps(
            {
                "event": event,
                "request_id": request_id,
                "arn": invoked_arn or self.code.function_arn,
                "deadline": time.time() + self.code.timeout,
            }
        )
        with self._lock:
            started = time.monotonic()
            proc = self._ensure_started()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(line.encode() + b"\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                return self._died(request_id, started)
            ready, _, _ = select.select([proc.stdout], [], [], self.code.timeout)
            if not ready:
                self._kill()
                return InvocationResult(
                    error={
                        "errorType": "Sandbox.Timedout",
                        "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                        f"{self.code.timeout:.2f} seconds",
                    },
                    duration_ms=(time.monotonic() - started) * 1000,
                    executed_version=self.code.version,
                )
            reply = proc.stdout.readline()
            if not reply:
                return self._died(request_id, started)
            answer = json.loads(reply)
            if self._closed:  # retired while this caller still held it: do not leave a process behind
                self._kill()
        return InvocationResult(
            payload=answer.get("result"),
            error=None if answer.get("ok") else answer.get("error"),
            logs=answer.get("logs", ""),
            duration_ms=(time.monotonic() - started) * 1000,
            executed_version=self.code.version,
        )

    def _died(self, request_id: str, started: float) -> InvocationResult:
        code = self._proc.wait(timeout=5) if self._proc is not None else None
        self._proc = None
        return InvocationResult(
            error={
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                f"exit status {code}",
            },
            duration_ms=(time.monotonic() - started) * 1000,
            executed_version=self.code.version,
        )

    def _kill(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            with contextlib.suppress(Exception):
                self._proc.wait(timeout=5)
            for stream in (self._proc.stdin, self._proc.stdout):
                with contextlib.suppress(Exception):
                    if stream is not None:
                        stream.close()
            self._proc = None

    def close(self) -> None:
        """Stop the subprocess (idempotent)."""
        with self._lock:
            self._closed = True
            if self._proc is not None and self._proc.stdin is not None:
                with contextlib.suppress(Exception):
                    self._proc.stdin.close()
                with contextlib.suppress(Exception):
                    self._proc.wait(timeout=2)
            self._kill()


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
