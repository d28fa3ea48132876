"""A Lambda worker cannot hang or bloat the sandbox: protocol abuse, retirement in flight, sizes, zips."""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from pathlib import Path

import pytest

from bedrock_rft_provider.sandbox import lambda_package
from bedrock_rft_provider.sandbox.lambda_package import extract_zip, scratch_root
from bedrock_rft_provider.sandbox.lambda_runtime import LambdaPool, LambdaWorker
from bedrock_rft_provider.sandbox.moto_state import LambdaCode
from bedrock_rft_provider.sandbox.protocol import ServiceError
from unit.sandbox.sandbox_helpers import zip_module

SOURCE = r"""
import time
import __main__

def handler(event, context):
    if event == "partial-then-hang":
        __main__.proto.write('{"ok": true, "res')   # half a reply line on the protocol pipe
        __main__.proto.flush()
        time.sleep(600)
    if event == "partial-then-return":
        __main__.proto.write('{"ok": tr')
        __main__.proto.flush()
        return "done"
    if event == "sleep":
        time.sleep(600)
    if event == "big":
        return "x" * (20 * 1024 * 1024)
    if event == "just-under":
        return "y" * (6 * 1024 * 1024 - 100)
    return event
"""


def _code(
    source: str = SOURCE, timeout: float = 2.0, version: str = "1", layers: tuple[bytes, ...] = ()
) -> LambdaCode:
    return LambdaCode(
        function_name="grader",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:grader",
        version=version,
        handler="bedrock_rft_entry.handler",
        runtime="python3.11",
        timeout=timeout,
        memory_size=512,
        code_sha256=version,
        zip_bytes=zip_module(source),
        layers=layers,
    )


@pytest.mark.parametrize("event", ["partial-then-hang", "sleep"])
def test_a_reply_that_never_completes_times_out_at_the_function_timeout(event: str) -> None:
    worker = LambdaWorker(_code(timeout=1.0))
    try:
        started = time.monotonic()
        result = worker.invoke(event)
        elapsed = time.monotonic() - started
        assert result.error is not None and result.error["errorType"] == "Sandbox.Timedout"
        assert elapsed < 120  # the handler sleeps 600 s; the timeout is 1 s (~2 s idle)
        assert worker.invoke("after").payload == "after"  # a fresh process answers the next call
    finally:
        worker.close()


def test_a_corrupted_reply_is_a_function_error_and_the_worker_recovers() -> None:
    worker = LambdaWorker(_code())
    try:
        result = worker.invoke("partial-then-return")
        assert result.error is not None and result.error["errorType"] == "Runtime.ExitError"
        assert "reply channel" in result.error["errorMessage"]
        assert worker.invoke("again").payload == "again"
    finally:
        worker.close()


def test_a_response_over_lambdas_6_mb_limit_is_response_size_too_large() -> None:
    worker = LambdaWorker(_code(timeout=30.0))
    try:
        result = worker.invoke("big")
        assert result.error is not None
        assert result.error["errorType"] == "Function.ResponseSizeTooLarge"
        assert "exceeded maximum allowed payload size (6291556 bytes)" in result.error["errorMessage"]
        assert len(worker.invoke("just-under").payload) == 6 * 1024 * 1024 - 100
    finally:
        worker.close()


def test_retiring_a_worker_does_not_wait_for_its_hung_invocation() -> None:
    pool = LambdaPool()
    old = pool.worker(_code(timeout=600.0, version="1"), "us-east-1")
    stuck: dict[str, object] = {}
    thread = threading.Thread(target=lambda: stuck.update(result=old.invoke("sleep")), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while old._proc is None and time.monotonic() < deadline:  # wait until the old code runs
            time.sleep(0.01)
        time.sleep(0.2)
        started = time.monotonic()
        new = pool.worker(
            _code(SOURCE.replace("return event", "return ['v2', event]"), version="2"), "us-east-1"
        )
        assert new.invoke("x").payload == ["v2", "x"]
        assert time.monotonic() - started < 120  # not the 600 s the old handler sleeps
        thread.join(120)
        assert not thread.is_alive()
        assert stuck["result"].error["errorType"] == "Runtime.ExitError"  # type: ignore[attr-defined]
    finally:
        pool.close()


def test_closing_a_worker_mid_invocation_ends_its_process() -> None:
    worker = LambdaWorker(_code(timeout=600.0))
    thread = threading.Thread(target=lambda: worker.invoke("sleep"), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while worker._proc is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc = worker._proc
    assert proc is not None
    started = time.monotonic()
    worker.close()
    assert time.monotonic() - started < 120  # not the 600 s the handler sleeps
    assert proc.wait(timeout=120) is not None
    thread.join(120)
    assert not thread.is_alive()


def _bomb(unzipped: int) -> bytes:
    """A real zip whose one member inflates to ``unzipped`` bytes of zeros (it compresses ~1000:1)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("bedrock_rft_entry.py", "w") as member,
    ):
        chunk, left = b"\0" * (1 << 20), unzipped
        while left > 0:
            member.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
    return buffer.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _scratch_dirs() -> set[str]:
    return {p.name for p in Path(scratch_root()).iterdir()}


@pytest.mark.parametrize(
    ("package", "expected"),
    [
        (_zip({"../escape.py": b"x"}), "outside the function folder"),
        (_zip({"/etc/cron.d/x": b"x"}), "outside the function folder"),
        (_zip({"ok/../../x.py": b"x"}), "outside the function folder"),
        (_zip({"C:/windows/x.py": b"x"}), "outside the function folder"),
        (b"PK\x03\x04 not really a zip", "Could not unzip uploaded file"),
    ],
    ids=["dotdot", "absolute", "nested-dotdot", "drive", "corrupt"],
)
def test_unusable_packages_are_refused_with_lambdas_error_and_leave_no_folder(
    package: bytes, expected: str
) -> None:
    before = _scratch_dirs()
    with pytest.raises(ServiceError) as caught:
        extract_zip(package)
    assert (caught.value.code, caught.value.status) == ("InvalidParameterValueException", 400)
    assert expected in caught.value.message
    assert _scratch_dirs() == before


def test_the_unzipped_size_is_read_from_the_central_directory_without_inflating(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    package = _bomb(lambda_package.MAX_UNZIPPED_BYTES + 1)
    assert len(package) < 2 * 1024 * 1024

    def no_inflating(*args: object, **kwargs: object) -> None:
        raise AssertionError("a member was opened: the size check must read only the central directory")

    # Proven by what is called, not by how long it took (a timing bound depends on the machine's load).
    monkeypatch.setattr(zipfile.ZipFile, "open", no_inflating)
    with pytest.raises(ServiceError, match="Unzipped size must be smaller than 262144000 bytes"):
        lambda_package.check_packages([package])
    assert lambda_package.unzipped_size(package) == lambda_package.MAX_UNZIPPED_BYTES + 1


def test_function_and_layers_together_must_fit_the_unzipped_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambda_package, "MAX_UNZIPPED_BYTES", 4000)
    layer = _zip({"python/helper.py": b"#" * 2500})
    worker = LambdaWorker(_code(SOURCE + "#" * 2000, layers=(layer,)))
    try:
        with pytest.raises(ServiceError, match="Unzipped size must be smaller than 4000 bytes"):
            worker.invoke("x")
        alone = LambdaWorker(_code(SOURCE + "#" * 2000))
        try:
            assert alone.invoke("x").payload == "x"
        finally:
            alone.close()
    finally:
        worker.close()


def test_a_worker_exits_when_its_sandbox_process_dies(tmp_path: Path) -> None:
    """SIGKILL the process that started a worker while its handler runs: the worker goes too."""
    import signal
    import subprocess
    import sys

    pid_file = tmp_path / "worker.pid"
    script = f"""
import threading, time
from bedrock_rft_provider.sandbox.lambda_runtime import LambdaWorker
from bedrock_rft_provider.sandbox.moto_state import LambdaCode
from unit.sandbox.sandbox_helpers import zip_module
source = (
    "import os, time\\ndef handler(e, c):\\n"
    "    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\\n    time.sleep(120)\\n"
)
code = LambdaCode("g", "arn:aws:lambda:us-east-1:123456789012:function:g", "1", "bedrock_rft_entry.handler",
                  "python3.11", 300.0, 128, "x", zip_module(source))
LambdaWorker(code).invoke({{}})
"""
    tests_dir = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests_dir), os.environ.get("PYTHONPATH", "")])}
    parent = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            assert parent.poll() is None, "the parent process ended early"
            time.sleep(0.05)
        worker_pid = int(pid_file.read_text())
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    deadline = time.monotonic() + 30
    while _alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker_pid), "the worker outlived its sandbox process"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_a_slow_cold_start_is_not_part_of_the_function_timeout() -> None:
    """As in Lambda: the init phase (interpreter start, handler import) has its own limit, so a busy
    machine's slow start does not turn into a handler timeout."""
    worker = LambdaWorker(_code("import time\ntime.sleep(1.5)\n" + SOURCE, timeout=1.0))
    try:
        result = worker.invoke("hello")
        assert result.error is None and result.payload == "hello"
    finally:
        worker.close()


def test_an_init_phase_past_its_limit_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from bedrock_rft_provider.sandbox import lambda_runtime

    monkeypatch.setattr(lambda_runtime, "INIT_TIMEOUT_S", 0.5)
    worker = LambdaWorker(_code("import time\ntime.sleep(600)\n" + SOURCE, timeout=60.0))
    try:
        error = worker.invoke("hello").error
        assert error is not None and error["errorType"] == "Sandbox.Timedout"
        assert "init phase did not finish within" in error["errorMessage"]
    finally:
        worker.close()
