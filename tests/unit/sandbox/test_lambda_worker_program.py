"""The Lambda worker program (``sandbox/lambda_worker.py``) as a module: stdlib-only, and its pieces."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from bedrock_rft_provider.sandbox import lambda_worker
from bedrock_rft_provider.sandbox.lambda_package import MAX_INVOKE_RESPONSE_BYTES
from bedrock_rft_provider.sandbox.lambda_runtime import _WORKER_SOURCE


def test_the_worker_imports_only_the_standard_library() -> None:
    """It runs under ``python -I -S`` with only the stdlib, the function's code and the SDK on sys.path."""
    tree = ast.parse(Path(lambda_worker.__file__).read_text(encoding="utf-8"))
    imported = {
        (alias.name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported - set(sys.stdlib_module_names) - {"__future__"} == set()


def test_the_runtime_runs_this_module_source() -> None:
    assert Path(lambda_worker.__file__).read_text(encoding="utf-8") == _WORKER_SOURCE
    assert 'if __name__ == "__main__":' in _WORKER_SOURCE


@pytest.mark.parametrize(
    ("spec", "error_type", "message"),
    [
        ("nodot", "Runtime.ImportModuleError", "Bad handler 'nodot'"),
        ("no_such_module_xyz.handler", "Runtime.ImportModuleError", "Unable to import module"),
        ("json.no_such_function", "Runtime.HandlerNotFound", "Handler 'no_such_function' missing"),
    ],
)
def test_a_bad_handler_is_an_init_error(spec: str, error_type: str, message: str) -> None:
    handler, error = lambda_worker.load_handler(spec)
    assert handler is None and error is not None
    assert error["errorType"] == error_type and message in error["errorMessage"]
    reply = lambda_worker.invoke(handler, error, {"request_id": "r1", "event": {}})
    assert reply["ok"] is False and reply["error"]["requestId"] == "r1"


def _request(event: object) -> dict[str, object]:
    return {"request_id": "r2", "event": event, "arn": "arn:aws:lambda:us-east-1:1:function:f", "deadline": 0}


def test_a_reply_over_the_response_limit_is_refused() -> None:
    out = lambda_worker.invoke(lambda event, context: "x" * 50, None, _request({}))
    assert json.loads(lambda_worker.encode_reply(out, "r2", 1000))["ok"] is True
    refused = json.loads(lambda_worker.encode_reply(out, "r2", 10))
    assert refused["error"]["errorType"] == "Function.ResponseSizeTooLarge"


def test_an_unserializable_result_is_a_marshal_error() -> None:
    out = lambda_worker.invoke(lambda event, context: {1, 2}, None, _request({}))
    reply = json.loads(lambda_worker.encode_reply(out, "r2", MAX_INVOKE_RESPONSE_BYTES))
    assert reply["error"]["errorType"] == "Runtime.MarshalError"


def test_a_handler_error_and_its_prints_come_back() -> None:
    def handler(event: object, context: lambda_worker.Context) -> None:
        print("hello from", context.aws_request_id)
        raise KeyError("boom")

    out = lambda_worker.invoke(handler, None, _request({}))
    assert out["ok"] is False and out["error"]["errorType"] == "KeyError"
    assert out["logs"] == "hello from r2\n"
