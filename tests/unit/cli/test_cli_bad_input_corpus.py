"""Every ``bedrock-rft`` command on every bad input: exit code, no traceback, one line naming input and cause.

The cases live in ``bad_inputs/`` (see its README): adding a file there adds it to every command.
Commands run in-process through ``cli.main`` (what the console script calls); anything escaping ``main``
would be a traceback, so it fails the test.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.cli import main

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DATASET = FIXTURES / "evaluation" / "dataset.jsonl"
RESPONSES = FIXTURES / "evaluation" / "responses_tuned.jsonl"
SAMPLES = FIXTURES / "rewards" / "gsm8k_events.jsonl"
FORECAST_REPORT = FIXTURES / "forecast" / "report.json"
REWARD = "bedrock_rft_provider.rewards.builtin:math_answer"


def _prepare(source: str, *mapping: str) -> list[str]:
    return ["prepare-data", "--source", source, "--input", "{input}", *mapping, "--output", "{out}",
            "--min-records", "1"]  # fmt: skip


def _evaluate(dataset: str, responses: str, *extra: str, reward: str = REWARD) -> list[str]:
    return ["evaluate", "--dataset", dataset, "--responses", responses, *extra, "--reward", reward,
            "--output", "{out}"]  # fmt: skip


# Slot name -> command line with {input} (the bad file) and {out} (an output that must not appear).
SLOTS: dict[str, list[str]] = {
    "validate": ["validate-data", "{input}", "--min-records", "1"],
    "prepare-jsonl": _prepare("jsonl"),
    "prepare-gsm8k": _prepare("gsm8k"),
    "prepare-csv": _prepare("csv", "--prompt-field", "question"),
    "prepare-parquet": _prepare("parquet", "--prompt-field", "question"),
    "test-reward": ["test-reward", "--reward", REWARD, "--samples", "{input}"],
    "evaluate-dataset": _evaluate("{input}", str(RESPONSES)),
    "evaluate-responses": _evaluate(str(DATASET), "{input}"),
    "evaluate-baseline": _evaluate(str(DATASET), str(RESPONSES), "--baseline-responses", "{input}"),
    "forecast-dataset": ["forecast", "--dataset", "{input}"],
    "forecast-preflight": ["forecast", "--dataset", str(FORECAST_REPORT), "--preflight", "{input}"],
}
# The same for broken reward modules: {reward} is the module's MODULE:FUNCTION spec.
REWARD_SLOTS: dict[str, list[str]] = {
    "test-reward": ["test-reward", "--reward", "{reward}", "--samples", str(SAMPLES)],
    "evaluate": _evaluate(str(DATASET), str(RESPONSES), reward="{reward}"),
}


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return (self.out + self.err).splitlines()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Outcome:
    """``main(argv)`` as the console script runs it; SystemExit from argparse gives its code."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors only: main() itself returns codes
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def assert_clean_failure(outcome: Outcome, code: int, names: str, cause: str) -> None:
    """The exit code, no traceback, and one line naming both the input and the cause."""
    text = outcome.out + outcome.err
    assert "Traceback" not in text, text
    assert outcome.code == code, text
    assert any(names in line and cause in line for line in outcome.lines), (names, cause, text)


def assert_nothing_written(tmp: Path, out: Path) -> None:
    """No output, no hidden staging folder beside it, no stray files anywhere under ``tmp``."""
    assert not out.exists(), f"{out} was left behind"
    leftovers = [
        p for p in tmp.rglob("*") if p.name.startswith(".") or p.name.endswith((".tmp", ".jsonl.partial"))
    ]
    assert leftovers == [], leftovers


def _expectations(folder: str) -> dict[str, Any]:
    return json.loads((CORPUS / folder / "expect.json").read_text())


DATA_CASES = sorted(p.name for p in (CORPUS / "data").iterdir() if p.name != "expect.json")
SPECIAL_INPUTS = ["<missing file>", "<a folder>"]


def test_every_data_case_has_an_expectation() -> None:
    assert sorted(_expectations("data")) == sorted([*DATA_CASES, *SPECIAL_INPUTS])


@pytest.mark.parametrize("slot", sorted(SLOTS))
@pytest.mark.parametrize("case", [*DATA_CASES, *SPECIAL_INPUTS])
def test_bad_input_file(case: str, slot: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expect = _expectations("data")[case]
    if case == "<missing file>":
        path = tmp_path / "absent.jsonl"
    elif case == "<a folder>":
        path = tmp_path / "folder.jsonl"
        path.mkdir()
    else:
        path = CORPUS / "data" / case
    out = tmp_path / "out" / "result"
    argv = [arg.format(input=path, out=out) for arg in SLOTS[slot]]
    outcome = run(argv, capsys)
    assert_clean_failure(outcome, 1, str(path), expect.get(slot, expect["default"]))
    assert_nothing_written(tmp_path, out)
    assert not (tmp_path / "out").exists()  # not even the parent folder the run would have created


REWARD_CASES = sorted(p.name for p in (CORPUS / "rewards").glob("*.py"))


def test_every_reward_case_has_an_expectation() -> None:
    assert sorted(_expectations("rewards")) == REWARD_CASES


@pytest.mark.parametrize("slot", sorted(REWARD_SLOTS))
@pytest.mark.parametrize("case", REWARD_CASES)
def test_broken_reward(case: str, slot: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expect = _expectations("rewards")[case]
    spec = f"{CORPUS / 'rewards' / case}:reward"
    out = tmp_path / "out"
    outcome = run([arg.format(reward=spec, out=out) for arg in REWARD_SLOTS[slot]], capsys)
    expected = expect.get(slot, expect["default"])
    assert_clean_failure(outcome, expected["exit"], expected.get("names", case), expected["cause"])
    if outcome.code != 0:
        assert_nothing_written(tmp_path, out)


ARGV_CASES = json.loads((CORPUS / "argv.json").read_text())


@pytest.mark.parametrize("case", ARGV_CASES, ids=[c["name"] for c in ARGV_CASES])
def test_bad_command_line(
    case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if case.get("env"):
        import boto3

        # A real CLI starts with no boto3 session; one an earlier test left in this worker has its
        # credentials resolved already, and would outlive the environment this case sets.
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    for name, value in case.get("env", {}).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value.format(tmp=tmp_path))
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("not a folder\n")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine\n")
    out = tmp_path / "out"
    values = {"tmp": tmp_path, "file": a_file, "foreign": foreign, "out": out, "dataset": DATASET,
              "responses": RESPONSES, "samples": SAMPLES}  # fmt: skip
    argv = [arg.format(**values) for arg in case["argv"]]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    outcome = run(argv, capsys)
    assert_clean_failure(outcome, case["exit"], case.get("names", "").format(**values), case["cause"])
    assert_nothing_written(tmp_path, out)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing touched
    assert (foreign / "notes.txt").read_text() == "mine\n"


def test_reward_exit_code_never_becomes_the_cli_exit_code(capfd: pytest.CaptureFixture[str]) -> None:
    # The reward runs in a worker process (ProcessGrader): its per-sample error reaches the real stderr.
    spec = f"{CORPUS / 'rewards' / 'exits_when_called.py'}:reward"
    outcome = run(["test-reward", "--reward", spec, "--samples", str(SAMPLES)], capfd)
    assert outcome.code == 1 and "SystemExit: 3" in outcome.err and "Traceback" not in outcome.err


def test_corpus_runs_each_command() -> None:
    argvs = [*SLOTS.values(), *REWARD_SLOTS.values(), *(c["argv"] for c in ARGV_CASES)]
    commands = {argv[0] for argv in argvs if argv}
    assert commands >= {"validate-data", "prepare-data", "test-reward", "evaluate", "iam-policy", "sandbox"}
    assert os.path.isdir(CORPUS / "data")
