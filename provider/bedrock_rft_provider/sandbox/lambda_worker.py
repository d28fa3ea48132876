"""The program one Lambda worker subprocess runs (``python -I -S -c <this file's source>``).

It is run from its source text, never imported by the worker: the subprocess's ``sys.path`` holds only
the standard library, the function's code and layers, and the runtime SDK, so this file imports nothing
but the standard library (the package is importable here only so it is linted and type-checked).

Command line: ``code_dir handler max_response_bytes [search_path ...]``. Requests arrive on stdin, one
JSON object a line (``event``, ``request_id``, ``arn``, ``deadline`` as epoch seconds); each reply is one
JSON line on the original stdout (``ok``, ``result`` or ``error``, ``logs``: the last 4 KiB the handler
printed). The handler's own prints go to stderr, never to the protocol pipe.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

LOG_TAIL_CHARS = 4096
# The protocol pipe (the original stdout), a module global as in the Lambda runtime: a handler that
# reaches it (``__main__.proto``) can corrupt its own reply, which the sandbox must survive.
proto: TextIO | None = None


# The worker's first line on the protocol pipe, once the handler's module is loaded (or failed to load).
READY = '{"ready": true}'


def _watch_parent(parent: int) -> None:
    # The sandbox may die without closing our stdin (SIGKILL while a handler runs): exit with it.
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


class Context:
    """The subset of Lambda's context object handlers use."""

    def __init__(self, req: dict[str, Any]) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = req["arn"]
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = req["request_id"]
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = "sandbox"
        self._deadline = req["deadline"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def load_handler(handler_spec: str) -> tuple[Callable[..., Any] | None, dict[str, Any] | None]:
    """``(handler, None)``, or ``(None, init_error)`` shaped like Lambda's Runtime.* errors."""
    module_name, _, func_name = handler_spec.rpartition(".")
    try:
        if not module_name:
            raise ValueError(f"Bad handler '{handler_spec}': not enough values to unpack (expected 2, got 1)")
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:
        return None, {
            "errorType": "Runtime.ImportModuleError",
            "errorMessage": f"Unable to import module '{module_name}': {exc}",
            "stackTrace": traceback.format_exception(type(exc), exc, exc.__traceback__)[1:],
        }
    handler = getattr(module, func_name, None)
    if handler is None:
        return None, {
            "errorType": "Runtime.HandlerNotFound",
            "errorMessage": f"Handler '{func_name}' missing on module '{module_name}'",
        }
    return handler, None


def invoke(
    handler: Callable[..., Any] | None, init_error: dict[str, Any] | None, req: dict[str, Any]
) -> dict[str, Any]:
    """One request's reply (before size checks): the handler's result or Lambda's error payload."""
    logs = io.StringIO()
    out: dict[str, Any]
    if init_error is not None or handler is None:
        out = {"ok": False, "error": dict(init_error or {}, requestId=req["request_id"])}
    else:
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = logs
        try:
            out = {"ok": True, "result": handler(req["event"], Context(req))}
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)[1:]
            out = {
                "ok": False,
                "error": {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "requestId": req["request_id"],
                    "stackTrace": traceback.format_list(tb),
                },
            }
        finally:
            sys.stdout, sys.stderr = saved
    out["logs"] = logs.getvalue()[-LOG_TAIL_CHARS:]
    return out


def encode_reply(out: dict[str, Any], request_id: str, max_response: int) -> str:
    """The reply line: refused past Lambda's response limit or when the result is not JSON."""
    try:
        text = json.dumps(out)
        size = len(json.dumps(out.get("result")).encode())
        if out["ok"] and size > max_response:
            text = json.dumps(
                {
                    "ok": False,
                    "logs": out["logs"],
                    "error": {
                        "errorMessage": f"Response payload size ({size} bytes) exceeded maximum allowed "
                        f"payload size ({max_response} bytes).",
                        "errorType": "Function.ResponseSizeTooLarge",
                        "requestId": request_id,
                    },
                }
            )
    except (TypeError, ValueError) as exc:
        text = json.dumps(
            {
                "ok": False,
                "logs": out["logs"],
                "error": {
                    "errorMessage": f"Unable to marshal response: {exc}",
                    "errorType": "Runtime.MarshalError",
                    "requestId": request_id,
                },
            }
        )
    return text


def main(argv: list[str], stdin: TextIO) -> None:
    """Serve requests from ``stdin`` until it closes (see the module docstring for ``argv``)."""
    global proto
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    code_dir, handler_spec, max_response = argv[0], argv[1], int(argv[2])
    sys.path[:0] = [code_dir, *argv[3:]]
    if "" in sys.path:
        sys.path.remove("")
    proto = pipe = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the handler's prints (and C extensions' writes to fd 1) go to stderr
    handler, init_error = load_handler(handler_spec)
    pipe.write(READY + "\n")  # the init phase is over: the function timeout runs from the first event
    pipe.flush()
    for line in stdin:
        req = json.loads(line)
        out = invoke(handler, init_error, req)
        pipe.write(encode_reply(out, req["request_id"], max_response) + "\n")
        pipe.flush()


if __name__ == "__main__":
    main(sys.argv[1:], sys.stdin)
