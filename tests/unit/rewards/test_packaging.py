"""Packaging: deterministic grader zips that import and run with nothing but their own contents."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.rewards import packaging
from bedrock_rft_provider.rewards.packaging import (
    HANDLER,
    PackageError,
    PackageTooLargeError,
    build_reward_package,
    check_size,
    code_sha256,
)

EVENT = [
    {
        "id": "a",
        "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "#### 18"}],
        "metadata": {"reference_answer": "18"},
    },
    {
        "id": "b",
        "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "#### 17"}],
        "reference_answer": {"final_answer": "18"},
    },
]

# Runs in a fresh interpreter with no site-packages: sys.path is the stdlib plus the code directory,
# the way the sandbox (and Lambda's /var/task) runs the deployed handler string.
_INVOKE = """
import importlib, json, sys
code_dir, handler_string = sys.argv[1], sys.argv[2]
sys.path[:] = [code_dir] + [p for p in sys.path if "site-packages" not in p and p not in ("", ".")]
module_name, function_name = handler_string.rsplit(".", 1)
handler = getattr(importlib.import_module(module_name), function_name)
import bedrock_rft_provider
assert bedrock_rft_provider.__file__.startswith(code_dir), bedrock_rft_provider.__file__
print(json.dumps(handler(json.loads(sys.stdin.read()), None)))
"""


def _invoke(code_dir: Path, handler: str, event: Any) -> Any:
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _INVOKE, str(code_dir), handler],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def _extract(zip_bytes: bytes, target: Path) -> Path:
    zip_path = target / "grader.zip"
    zip_path.write_bytes(zip_bytes)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target / "task")
    return target / "task"


def test_build_is_deterministic(reward_fixtures: Path) -> None:
    first = build_reward_package("acme_rewards.scoring:gsm8k")
    second = build_reward_package("acme_rewards.scoring:gsm8k")
    assert first.zip_bytes == second.zip_bytes
    assert first.code_sha256 == second.code_sha256 == code_sha256(first.zip_bytes)
    with zipfile.ZipFile(io.BytesIO(first.zip_bytes)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_different_reward_gives_different_hash(reward_fixtures: Path) -> None:
    gsm8k = build_reward_package("acme_rewards.scoring:gsm8k")
    builtin = build_reward_package("bedrock_rft_provider.rewards.builtin:math_answer")
    assert gsm8k.code_sha256 != builtin.code_sha256


def test_package_contents(reward_fixtures: Path) -> None:
    package = build_reward_package("acme_rewards.scoring:gsm8k")
    assert package.handler == HANDLER == "bedrock_rft_entry.handler"
    assert {"bedrock_rft_entry.py", "acme_rewards/helpers.py", "acme_rewards/scoring.py"} <= set(
        package.files
    )
    assert "bedrock_rft_provider/rewards/handler.py" in package.files
    runtime = Path(packaging.__file__).parent
    assert {f"bedrock_rft_provider/rewards/{p.name}" for p in runtime.glob("*.py")} <= set(package.files)
    assert not any("__pycache__" in name for name in package.files)
    outside_rewards = [
        n for n in package.files if n.startswith("bedrock_rft_provider/") and "/rewards/" not in n
    ]
    assert outside_rewards == ["bedrock_rft_provider/__init__.py"]
    with zipfile.ZipFile(io.BytesIO(package.zip_bytes)) as archive:
        stub = archive.read("bedrock_rft_provider/__init__.py").decode()
    assert "Stub" in stub and "__version__" not in stub


@pytest.mark.parametrize(
    ("reward", "expected"),
    [
        ("acme_rewards.scoring:gsm8k", [1.0, 0.25]),  # wrong answer, right format
        ("bedrock_rft_provider.rewards.builtin:math_answer", [1.0, 0.0]),
        ("{fixtures}/single_file_reward.py:last_line_match", [0.0, 0.0]),
    ],
)
def test_zip_runs_in_a_fresh_process_with_only_its_contents(
    reward: str, expected: list[float], reward_fixtures: Path, tmp_path: Path
) -> None:
    package = build_reward_package(reward.format(fixtures=reward_fixtures))
    results = _invoke(_extract(package.zip_bytes, tmp_path), package.handler, EVENT)
    assert [r["id"] for r in results] == ["a", "b"]
    assert [r["aggregate_reward_score"] for r in results] == expected


def test_zip_imports_straight_from_the_archive(reward_fixtures: Path, tmp_path: Path) -> None:
    package = build_reward_package("acme_rewards.scoring:gsm8k")
    zip_path = package.write(tmp_path / "grader.zip")
    results = _invoke(zip_path, package.handler, EVENT)
    assert [r["aggregate_reward_score"] for r in results] == [1.0, 0.25]


@pytest.mark.parametrize(
    ("reward", "message"),
    [
        ("acme_rewards.scoring:missing", "defines no top-level 'missing'"),
        ("bedrock_rft_provider.jobs.spec:thing", "only bedrock_rft_provider.rewards ships"),
        ("no_such_pkg_abc.mod:f", "cannot locate module|is not a Python source module"),
        ("nowhere/reward.py:f", "does not exist"),
        ("acme_rewards.scoring", "expected MODULE:FUNCTION"),
    ],
)
def test_bad_reward_is_rejected_before_building(reward: str, message: str, reward_fixtures: Path) -> None:
    with pytest.raises((PackageError, ValueError), match=message):
        build_reward_package(reward)


def test_unknown_architecture_is_rejected() -> None:
    with pytest.raises(PackageError, match="architecture is 'sparc'"):
        build_reward_package("bedrock_rft_provider.rewards.builtin:math_answer", architecture="sparc")


def test_size_limits_raise_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"numpy/core.so": b"\0" * 3000, "acme/x.py": b"x = 1\n"}
    monkeypatch.setattr(packaging, "MAX_UNZIPPED_BYTES", 2000)
    with pytest.raises(
        PackageTooLargeError, match=r"MB unzipped; Lambda accepts at most .* Largest parts: numpy"
    ):
        check_size(files, b"small")
    monkeypatch.setattr(packaging, "MAX_ZIPPED_BYTES", 10)
    with pytest.raises(PackageTooLargeError, match="MB zipped"):
        check_size(files, b"x" * 11)


def test_requirements_failure_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class Failed:
        returncode = 1
        stderr = "ERROR: No matching distribution found for nosuchpackage"

    monkeypatch.setattr(packaging.subprocess, "run", lambda *a, **k: Failed())
    with pytest.raises(PackageError, match=r"could not be installed for python3\.11 on arm64"):
        build_reward_package(
            "bedrock_rft_provider.rewards.builtin:math_answer",
            requirements=["nosuchpackage"],
            architecture="arm64",
        )


def test_hidden_files_and_bytecode_stay_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "secret_rewards"
    (package / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("def reward(sample):\n    return 1.0\n")
    (package / "rubric.json").write_text("{}")
    (package / ".env").write_text("API_KEY=secret")
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    monkeypatch.syspath_prepend(str(tmp_path))
    files = build_reward_package("secret_rewards:reward").files
    assert {"secret_rewards/__init__.py", "secret_rewards/rubric.json"} <= set(files)
    assert not any(".env" in name or name.endswith(".pyc") for name in files)
