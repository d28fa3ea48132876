"""Running a Lambda zip locally: Lambda's isolation, errors, timeout and recovery."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bedrock_rft_provider.sandbox.lambda_runtime import LambdaPool, LambdaWorker
from bedrock_rft_provider.sandbox.moto_state import LambdaCode
from unit.sandbox.sandbox_helpers import zip_module

SOURCE = """
import os, sys
def handler(event, context):
    print("log line")
    if event == "raise":
        raise KeyError("reference_answer")
    if event == "exit":
        os._exit(3)
    if event == "env":
        env = os.environ
        return [env["AWS_LAMBDA_FUNCTION_NAME"], env["MY_SETTING"], context.aws_request_id != ""]
    if event == "import":
        import bedrock_rft_provider
    if event == "sdk":
        import boto3
        return "boto3"
    if event == "unserializable":
        return {1, 2}
    return event
"""


def _code(handler: str = "bedrock_rft_entry.handler", timeout: float = 5.0) -> LambdaCode:
    return LambdaCode(
        function_name="grader",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:grader",
        version="3",
        handler=handler,
        runtime="python3.11",
        timeout=timeout,
        memory_size=512,
        code_sha256="x",
        zip_bytes=zip_module(SOURCE),
        environment={"MY_SETTING": "on"},
    )


@pytest.fixture(scope="module")
def worker() -> Iterator[LambdaWorker]:
    running = LambdaWorker(_code())
    yield running
    running.close()


def test_the_handler_returns_its_value_and_its_logs(worker: LambdaWorker) -> None:
    result = worker.invoke([{"id": "a"}])
    assert result.payload == [{"id": "a"}]
    assert result.error is None
    assert result.logs == "log line\n"
    assert result.executed_version == "3"


def test_the_function_environment_and_context_are_lambdas(worker: LambdaWorker) -> None:
    assert worker.invoke("env").payload == ["grader", "on", True]


def test_only_the_zip_and_the_lambda_runtime_sdk_are_importable(worker: LambdaWorker) -> None:
    failed = worker.invoke("import")
    assert failed.error is not None
    assert failed.error["errorType"] == "ModuleNotFoundError"
    assert worker.invoke("sdk").payload == "boto3"


def test_a_raising_handler_gives_lambdas_error_payload(worker: LambdaWorker) -> None:
    error = worker.invoke("raise").error
    assert error is not None
    assert error["errorType"] == "KeyError"
    assert error["errorMessage"] == "'reference_answer'"
    assert "bedrock_rft_entry.py" in error["stackTrace"][-1]


def test_an_unserializable_result_is_a_marshal_error(worker: LambdaWorker) -> None:
    error = worker.invoke("unserializable").error
    assert error is not None and error["errorType"] == "Runtime.MarshalError"


def test_a_dead_runtime_is_reported_and_replaced(worker: LambdaWorker) -> None:
    error = worker.invoke("exit").error
    assert error is not None and "exit status 3" in error["errorMessage"]
    assert worker.invoke("back").payload == "back"


def test_the_function_timeout_is_enforced() -> None:
    slow = LambdaWorker(_code(timeout=0.5))
    slow.code = LambdaCode(
        **{
            **slow.code.__dict__,
            "zip_bytes": zip_module("import time\ndef handler(e, c):\n    time.sleep(10)\n"),
        }
    )
    try:
        error = slow.invoke({}).error
        assert error is not None
        assert error["errorType"] == "Sandbox.Timedout"
        assert "Task timed out after 0.50 seconds" in error["errorMessage"]
    finally:
        slow.close()


@pytest.mark.parametrize(
    ("handler", "error_type"),
    [
        ("missing_module.handler", "Runtime.ImportModuleError"),
        ("bedrock_rft_entry.nope", "Runtime.HandlerNotFound"),
    ],
)
def test_a_bad_handler_string_fails_every_invocation_like_lambda(handler: str, error_type: str) -> None:
    broken = LambdaWorker(_code(handler=handler))
    try:
        error = broken.invoke({}).error
        assert error is not None and error["errorType"] == error_type
    finally:
        broken.close()


def test_the_pool_keeps_a_bounded_number_of_warm_workers() -> None:
    pool = LambdaPool(max_workers=2)
    codes = [
        LambdaCode(
            **{**_code().__dict__, "function_arn": f"arn:aws:lambda:us-east-1:123456789012:function:g{i}"}
        )
        for i in range(3)
    ]
    try:
        workers = [pool.worker(code, "us-east-1") for code in codes]
        for worker in workers:
            assert worker.invoke([1]).payload == [1]
        assert pool.worker(codes[2], "us-east-1") is workers[2]  # warm
        assert pool.worker(codes[0], "us-east-1") is not workers[0]  # evicted, started afresh
    finally:
        pool.close()
