"""``bedrock-rft validate-data`` / ``prepare-data``: output and exit codes (0 ok, 1 invalid, 2 usage)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bedrock_rft_provider.cli import main
from tests.unit.data.helpers import rft_record, write_jsonl


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse usage errors
        return int(exit_.code or 0)


def test_validate_data_valid_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", [rft_record(i) for i in range(100)])
    assert _run(["validate-data", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: valid; 100 line(s), 100 valid record(s)" in out
    assert "recommended maxPromptLength 256" in out


def test_validate_data_prints_path_line_per_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [rft_record(i) for i in range(3)] + [
        '{"messages": [{"role": "robot", "content": "x"}, {"role": "user", "content": "y"}]}',
        "{",
    ]
    path = write_jsonl(tmp_path / "train.jsonl", records)
    assert _run(["validate-data", str(path), "--min-records", "1"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f'{path}:4: messages[0].role is "robot"; expected one of system, user, assistant'
    assert lines[1].startswith(f"{path}:5: invalid JSON")
    assert lines[-1].startswith(f"{path}: INVALID (2 problem(s))")


def test_validate_data_record_bounds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", [rft_record(i) for i in range(5)])
    assert _run(["validate-data", str(path)]) == 1
    assert f"{path}: file has 5 records; at least 100 are required" in capsys.readouterr().out
    assert _run(["validate-data", str(path), "--min-records", "1", "--max-records", "4"]) == 1
    assert _run(["validate-data", str(path), "--min-records", "5", "--max-records", "none"]) == 0


def test_validate_data_counts_prompts_over_max_prompt_length(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long_prompt = rft_record(1, messages=[{"role": "user", "content": "y" * 4000}])
    path = write_jsonl(tmp_path / "train.jsonl", [long_prompt, rft_record(2)])
    assert _run(["validate-data", str(path), "--min-records", "1", "--max-prompt-length", "512"]) == 0
    assert "1 prompt(s) over maxPromptLength 512 would be silently dropped" in capsys.readouterr().out


def test_validate_data_usage_errors_exit_2(tmp_path: Path) -> None:
    assert _run(["validate-data"]) == 2
    assert _run(["validate-data", str(tmp_path / "x.jsonl"), "--min-records", "many"]) == 2


def test_validate_data_missing_file_is_invalid_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["validate-data", str(tmp_path / "absent.jsonl")]) == 1
    assert "cannot read input" in capsys.readouterr().out


def test_prepare_data_synthetic_writes_all_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = _run(
        ["prepare-data", "--source", "synthetic", "--input", "200", "--output", str(out), "--seed", "1"]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "report.json",
        "test.jsonl",
        "train.jsonl",
        "validation.jsonl",
    ]
    report = json.loads((out / "report.json").read_text())
    assert report["counts"]["read"] == 200
    assert str(out / "train.jsonl") in capsys.readouterr().out
    assert _run(["validate-data", str(out / "train.jsonl"), "--require-reference-answer"]) == 0


def test_prepare_data_invalid_input_exits_1_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [rft_record(1), "{"])
    out = tmp_path / "out"
    assert _run(["prepare-data", "--source", "jsonl", "--input", str(path), "--output", str(out)]) == 1
    captured = capsys.readouterr().out
    assert f"{path}:2: invalid JSON" in captured
    assert "nothing was written" in captured
    assert not out.exists()


@pytest.mark.parametrize(
    "extra",
    [
        ["--source", "xml"],
        ["--source", "jsonl", "--val-fraction", "1.5"],
        ["--source", "jsonl", "--val-fraction", "0.6", "--test-fraction", "0.5"],
        ["--source", "csv"],  # csv without a prompt mapping
        ["--source", "jsonl", "--seed", "abc"],
    ],
)
def test_prepare_data_usage_errors_exit_2(tmp_path: Path, extra: list[str]) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [rft_record(1)])
    out = tmp_path / "out"
    assert _run(["prepare-data", "--input", str(path), "--output", str(out), *extra]) == 2
    assert not out.exists()


def test_prepare_data_csv_mapping_options(fixtures_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = [
        "prepare-data",
        "--source",
        "csv",
        "--input",
        str(fixtures_dir / "questions.csv"),
        "--output",
        str(out),
    ]
    argv += ["--prompt-template", "{question}", "--reference-answer-field", "answer", "--id-field", "qid"]
    argv += ["--metadata-fields", "topic", "--system-prompt", "Be exact.", "--min-records", "1"]
    argv += ["--val-fraction", "0", "--test-fraction", "0"]
    assert _run(argv) == 0
    first = json.loads((out / "train.jsonl").read_text().splitlines()[0])
    assert first == {
        "id": "q1",
        "messages": [
            {"role": "system", "content": "Be exact."},
            {"role": "user", "content": "What is 12 + 30?"},
        ],
        "reference_answer": "42",
        "topic": "addition",
    }


def test_console_script_exit_codes(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", ["{"])
    script = [sys.executable, "-m", "bedrock_rft_provider.cli"]
    bad = subprocess.run(
        [*script, "validate-data", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    usage = subprocess.run([*script, "prepare-data"], capture_output=True, text=True, timeout=60, check=False)
    assert (bad.returncode, usage.returncode) == (1, 2)
    assert f"{path}:1: invalid JSON" in bad.stdout


def test_long_runs_report_progress_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bedrock_rft_provider.commands import data as data_command

    monkeypatch.setattr(data_command, "PROGRESS_SECONDS", 0.0)
    path = write_jsonl(tmp_path / "train.jsonl", [rft_record(i) for i in range(10_001)])
    assert _run(["validate-data", str(path), "--max-records", "none"]) == 0
    err = capsys.readouterr().err
    assert "validate-data: 5,000 records" in err and "validate-data: 10,000 records" in err


def test_prepare_data_skip_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [rft_record(1), rft_record(2), "{"])
    argv = ["prepare-data", "--source", "jsonl", "--input", str(path), "--output", str(tmp_path / "out")]
    assert _run([*argv, "--min-records", "1"]) == 1
    assert _run([*argv, "--min-records", "1", "--skip-invalid"]) == 0
    assert "1 invalid skipped" in capsys.readouterr().out


def test_readme_dataset_examples_run(
    fixtures_dir: Path, tmp_path: Path, gsm8k_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commands of the README's dataset section, verbatim apart from the working directory."""
    (tmp_path / "questions.csv").write_bytes((fixtures_dir / "questions.csv").read_bytes())
    monkeypatch.chdir(tmp_path)
    gsm8k_train = str(gsm8k_dir / "train.jsonl")
    examples = [
        f"prepare-data --source gsm8k --input {gsm8k_train} --output demo-output/gsm8k",
        "prepare-data --source synthetic --input 500 --seed 7 --output demo-output/synthetic",
        "prepare-data --source csv --input questions.csv --output demo-output/csv --prompt-field question "
        "--reference-answer-field answer --id-field qid --min-records 1",
        "validate-data demo-output/synthetic/train.jsonl",
        "validate-data demo-output/gsm8k/train.jsonl --max-prompt-length 4096",
    ]
    for example in examples:
        assert _run(example.split()) == 0, example
