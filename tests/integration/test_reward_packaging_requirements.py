"""Packaging with third-party requirements: manylinux wheels from PyPI, deterministic, importable.

Needs PyPI (the only network this project uses); skipped with that reason when it is unreachable.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bedrock_rft_provider.rewards.packaging import build_reward_package

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REWARD = """
import six

def uses_six(sample):
    return 1.0 if six.PY3 and sample.response == "ok" else 0.0
"""
_RUN = """
import importlib, json, sys
sys.path[:] = [sys.argv[1]] + [p for p in sys.path if "site-packages" not in p and p not in ("", ".")]
handler = importlib.import_module("bedrock_rft_entry").handler
import six
assert six.__file__.startswith(sys.argv[1]), six.__file__
print(json.dumps(handler([{"id": "a", "messages": [{"role": "assistant", "content": "ok"}]}], None)))
"""


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def pypi() -> None:
    if not _pypi_reachable():
        pytest.skip(reason="PyPI (pypi.org:443) is unreachable; requirements cannot be installed")


def test_requirements_are_installed_for_the_lambda_platform_and_ship_in_the_zip(
    pypi: None, tmp_path: Path
) -> None:
    module = tmp_path / "six_reward.py"
    module.write_text(REWARD)
    first = build_reward_package(f"{module}:uses_six", requirements=["six==1.16.0"], architecture="arm64")
    second = build_reward_package(f"{module}:uses_six", requirements=["six==1.16.0"], architecture="arm64")
    assert first.code_sha256 == second.code_sha256
    assert "six.py" in first.files
    assert not any(name.startswith("bin/") or "__pycache__" in name for name in first.files)
    code_dir = tmp_path / "task"
    with zipfile.ZipFile(first.write(tmp_path / "grader.zip")) as archive:
        archive.extractall(code_dir)
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _RUN, str(code_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["aggregate_reward_score"] == 1.0
