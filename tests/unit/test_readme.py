"""The README's examples are real: commands parse, Python runs, make targets exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from moto import mock_aws

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, re.S)
PYTHON = [code for lang, code in BLOCKS if lang == "python"]
SHELL = [code for lang, code in BLOCKS if lang == "bash"]


def _commands(program: str) -> list[list[str]]:
    found = []
    for block in SHELL:
        for raw in block.replace("\\\n", " ").splitlines():
            line = raw.split(" #", 1)[0].strip()
            words = shlex.split(line) if line else []
            while words and "=" in words[0] and not words[0].startswith("-"):
                words = words[1:]  # leading VAR=value assignments
            if words and words[0] == program:
                found.append(words[1:])
    return found


def test_readme_has_examples() -> None:
    assert len(PYTHON) >= 5 and _commands("bedrock-rft") and _commands("make")


@pytest.mark.parametrize("argv", _commands("bedrock-rft"), ids=" ".join)
def test_every_bedrock_rft_command_parses(argv: list[str]) -> None:
    from bedrock_rft_provider.cli import build_parser

    args = build_parser().parse_args(argv)
    assert callable(args.handler)


def test_every_make_target_exists() -> None:
    makefile = (REPO / "Makefile").read_text()
    for argv in _commands("make"):
        assert re.search(rf"^{re.escape(argv[0])}:", makefile, re.M), argv


@pytest.mark.parametrize("code", PYTHON, ids=[c.strip().splitlines()[0][:60] for c in PYTHON])
def test_every_python_example_compiles(code: str) -> None:
    compile(code, "README.md", "exec")


@pytest.mark.parametrize(
    "code", [c for c in PYTHON if "Sandbox(" not in c], ids=lambda c: c.strip().splitlines()[0][:60]
)
def test_python_examples_run(code: str) -> None:
    """DAG definitions build, the notebook example submits its job (to moto); the sandbox one is
    exercised by tests/integration/test_sandbox_cli.py."""
    with mock_aws():
        namespace: dict[str, object] = {}
        exec(compile(code, "README.md", "exec"), namespace)
        if "create_model_customization_job" in code:
            import boto3

            jobs = boto3.client("bedrock", region_name="us-east-1").list_model_customization_jobs()
            assert [j["jobName"] for j in jobs["modelCustomizationJobSummaries"]] == ["gsm8k-rft-1"]
