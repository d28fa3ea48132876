"""What the candidate's process can reach: network, secrets, files, other processes, time, memory."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

CANARY = "bedrock-rft-canary-5f1e"


def _run_python(
    source: str, timeout: float = 240, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


# run(code, tests) under the profile named by $PROFILE, in a fresh process (see conftest.run_tests).
PROFILE_SETUP = """
import os
from bedrock_rft_provider.rewards.codeexec import run_code_tests
profile = os.environ["PROFILE"]
kwargs = {}
if profile != "auto":
    from bedrock_rft_provider.rewards import isolation
    layers = isolation.available_layers()
    isolation.available_layers = lambda: {**layers, "namespaces": False}
    kwargs["isolation"] = "basic" if profile == "floor" else "auto"
def run(code, tests):
    return run_code_tests(code, tests, timeout_s=10, **kwargs)
"""


def test_reimported_socket_cannot_reach_the_network(run_tests: Any, profile: str) -> None:
    if profile == "floor":
        pytest.skip(reason="the floor has no network layer; Lambda's own network is the boundary there")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        code = (
            "import sys\n"
            "for name in ('socket', '_socket'):\n    sys.modules.pop(name, None)\n"
            "import socket\n"
            f"def solve():\n    socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
            "    return True\n"
        )
        report = run_tests(code, ["assert solve() == True"])
        server.setblocking(False)
        with pytest.raises(BlockingIOError):  # a completed connection would wait in the backlog
            server.accept()
    assert report.passed == 0


def test_parent_environment_is_unreadable(profile: str) -> None:
    if profile == "floor" and os.geteuid() == 0:
        pytest.skip(reason="as root without Landlock or namespaces, /proc/<ppid>/environ stays readable")
    code = (
        "import os\n"
        "def leak():\n"
        "    found = False\n"
        "    for pid in [str(os.getppid())] + os.listdir('/proc'):\n"
        "        try:\n"
        f"            found = found or b'{CANARY}' in open(f'/proc/{{pid}}/environ', 'rb').read()\n"
        "        except Exception:\n"
        "            pass\n"
        f"    return found or '{CANARY}' in str(os.environ)\n"
    )
    # The grader process gets the secret in its initial environment, as a Lambda gets its credentials.
    proc = _run_python(
        f"{PROFILE_SETUP}\nprint(run({code!r}, ['assert leak() == True']).passed)\n",
        env={**os.environ, "BEDROCK_RFT_CANARY": CANARY, "PROFILE": profile},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0"


def test_system_files_are_unreadable(run_tests: Any, profile: str) -> None:
    if profile == "floor":
        pytest.skip(reason="the floor does not hide world-readable files (documented)")
    code = "def passwd():\n    return open('/etc/passwd').read()\n"
    assert run_tests(code, ["assert 'root:' in passwd()"]).passed == 0


def test_files_outside_the_private_dir_cannot_be_written_or_deleted(
    run_tests: Any, profile: str, tmp_path: Path
) -> None:
    if profile == "floor":
        pytest.skip(reason="the floor relies on file permissions only (documented)")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    planted = tmp_path / "planted.txt"
    code = (
        "import os\n"
        f"try:\n    os.remove({str(victim)!r})\nexcept OSError:\n    pass\n"
        f"try:\n    open({str(planted)!r}, 'w').write('x')\nexcept OSError:\n    pass\n"
    )
    run_tests(code, ["assert True"])
    assert victim.read_text() == "keep me"
    assert not planted.exists()


@pytest.mark.parametrize(
    "launch",
    [
        "import posix\nposix.execv('/bin/sh', ['sh', '-c', 'touch {marker}'])",
        "import posix\nposix.system('touch {marker}')",
        "import sys\nsys.modules.pop('ctypes', None)\nsys.modules.pop('_ctypes', None)\n"
        "import ctypes\nctypes.CDLL(None).system(b'touch {marker}')",
        "import posix\nif posix.fork() == 0:\n    posix.execv('/bin/sh', ['sh', '-c', 'touch {marker}'])",
    ],
    ids=["posix.execv", "posix.system", "ctypes.system", "posix.fork"],
)
def test_no_other_program_can_be_started(run_tests: Any, profile: str, tmp_path: Path, launch: str) -> None:
    if profile == "floor" and os.geteuid() == 0:
        pytest.skip(reason="as root without seccomp, RLIMIT_NPROC does not stop fork (documented)")
    marker = tmp_path / "started"
    tmp_path.chmod(0o777)
    run_tests(launch.format(marker=marker), ["assert True"], timeout_s=5)
    time.sleep(0.2)
    assert not marker.exists()


def test_a_setsid_grandchild_cannot_stretch_the_time_limit(run_tests: Any, profile: str) -> None:
    code = (
        "import os, posix, time\n"
        "try:\n"
        "    if posix.fork() == 0:\n        os.setsid()\n        time.sleep(600)\n        os._exit(0)\n"
        "except OSError:\n    pass\n"
        "time.sleep(600)\n"
    )
    started = time.monotonic()
    report = run_tests(code, ["assert True"], timeout_s=2)
    elapsed = time.monotonic() - started
    assert report.passed == 0
    assert report.timed_out
    assert elapsed < 120, f"a 2 s limit took {elapsed:.1f} s"  # the old runner waited 600 s (grandchild)


FLOOD = (  # every descriptor that may lead to the parent: stdout, and whatever the harness opened
    "import os\nchunk = b'x' * 2**20\nfor _ in range(300):\n    for fd in range(1, 10):\n"
    "        try:\n            os.write(fd, chunk)\n        except OSError:\n            pass\n"
)
KILLER = "import os, posix\nposix.kill(os.getppid(), 9)\ndef add(a, b):\n    return a + b\n"
GOOD = "def add(a, b):\n    return a + b\n"


def test_an_output_flood_is_capped_while_it_is_read() -> None:
    proc = _run_python(
        "import resource, json\n"
        "from bedrock_rft_provider.rewards.codeexec import run_code_tests\n"
        "run_code_tests('def f():\\n    return 1', ['assert f() == 1'])  # warm up: imports, layer probe\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        f"report = run_code_tests({FLOOD!r}, ['assert True'], timeout_s=60)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'passed': report.passed, 'capped': report.output_capped,"
        " 'before_mb': before, 'growth_mb': after - before}))\n"
    )
    assert proc.returncode == 0, proc.stderr
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outcome["growth_mb"] < 64, outcome  # the old runner buffered all 300 MiB
    assert outcome["capped"] is True
    assert outcome["passed"] == 0


def test_killing_the_grader_process_loses_no_sample_of_the_batch() -> None:
    proc = _run_python(
        "import json\n"
        "from bedrock_rft_provider.rewards import make_handler\n"
        "from bedrock_rft_provider.rewards.builtin import code_tests\n"
        "def sample(i, code):\n"
        "    return {'id': str(i), 'messages': [{'role': 'assistant', 'content': code}],\n"
        "            'metadata': {'reference_answer': {'tests': ['assert add(1, 2) == 3']}}}\n"
        f"batch = [sample(0, {GOOD!r}), sample(1, {KILLER!r}), sample(2, {GOOD!r})]\n"
        "print(json.dumps([r['aggregate_reward_score'] for r in make_handler(code_tests)(batch, None)]))\n"
    )
    assert proc.returncode == 0, f"the handler died: exit {proc.returncode}"
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [1.0, 0.0, 1.0]


def test_writing_files_cannot_fill_the_disk(run_tests: Any, profile: str) -> None:
    from bedrock_rft_provider.rewards import isolation

    if profile != "auto" or not isolation.available_layers()["namespaces"]:
        pytest.skip(reason="only the namespace's tmpfs bounds all files together; the floor bounds each file")
    code = (
        "def fill():\n    written = 0\n    try:\n        for i in range(64):\n"
        "            with open(f'f{i}', 'wb') as f:\n                f.write(b'x' * 2**24)\n"
        "            written += 1\n    except OSError:\n        pass\n    return written\n"
    )
    assert run_tests(code, ["assert fill() == 64"]).passed == 0
