"""``bedrock-rft evaluate`` on fixture files, checked against hand-computed numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bedrock_rft_provider.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "evaluation"
REWARD = "bedrock_rft_provider.rewards.builtin:math_answer"


def run_cli(tmp_path: Path, *extra: str) -> tuple[int, dict]:
    code = main(
        [
            "evaluate",
            "--dataset", str(FIXTURES / "dataset.jsonl"),
            "--responses", str(FIXTURES / "responses_tuned.jsonl"),
            "--reward", REWARD,
            "--output", str(tmp_path / "out"),
            *extra,
        ]
    )  # fmt: skip
    summary_path = tmp_path / "out" / "summary.json"
    return code, json.loads(summary_path.read_text()) if summary_path.exists() else {}


def test_precomputed_responses_match_hand_computed_accuracy(tmp_path: Path) -> None:
    code, summary = run_cli(tmp_path, "--baseline-responses", str(FIXTURES / "responses_base.jsonl"))
    assert code == 0
    # Tuned answers 9 of 12 right (q01-q04, q06-q10); the base 5 of 12 (q01-q05).
    assert summary["n"] == 12
    assert summary["accuracy"] == pytest.approx(9 / 12)
    assert summary["mean_reward"] == pytest.approx(9 / 12)
    assert summary["baseline"]["accuracy"] == pytest.approx(5 / 12)
    assert summary["delta"] == pytest.approx(4 / 12)
    # Discordant pairs: 5 only tuned right, 1 only base right -> exact McNemar 2*(1+6)/64.
    assert summary["paired"] == {
        "n": 12,
        "test": "mcnemar_exact",
        "wins": 5,
        "losses": 1,
        "ties": 6,
        "unpaired_prompts": 0,
    }
    assert summary["p_value"] == pytest.approx(14 / 64)
    assert summary["ci95"][0] <= summary["mean_reward"] <= summary["ci95"][1]
    assert summary["delta_ci95"][0] <= summary["delta"] <= summary["delta_ci95"][1]
    assert summary["slice_field"] == "category"
    assert summary["slices"]["arithmetic"]["accuracy"] == pytest.approx(5 / 6)
    assert summary["slices"]["word"]["accuracy"] == pytest.approx(4 / 6)
    assert summary["metrics"]["math_answer"] == pytest.approx(9 / 12)
    assert summary["sandbox"] is False

    out = tmp_path / "out"
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in results] == [f"q{i:02d}" for i in range(1, 13)]
    assert sum(r["score"] for r in results) == 9
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2  # reward distribution + per-slice accuracy
    assert "0.7500" in (out / "report.md").read_text()


def test_rerun_rewrites_identical_outputs(tmp_path: Path) -> None:
    run_cli(tmp_path, "--seed", "3")
    first = (tmp_path / "out" / "summary.json").read_bytes()
    run_cli(tmp_path, "--seed", "3")
    assert (tmp_path / "out" / "summary.json").read_bytes() == first


def test_success_threshold_changes_accuracy_only(tmp_path: Path) -> None:
    code, summary = run_cli(tmp_path, "--success-threshold", "0.5")
    assert code == 0 and summary["accuracy"] == pytest.approx(9 / 12) and "baseline" not in summary


def test_missing_response_fails_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    partial = tmp_path / "partial.jsonl"
    partial.write_text(
        "".join((FIXTURES / "responses_tuned.jsonl").read_text().splitlines(keepends=True)[:10])
    )
    code = main(["evaluate", "--dataset", str(FIXTURES / "dataset.jsonl"), "--responses", str(partial),
                 "--reward", REWARD, "--output", str(tmp_path / "out")])  # fmt: skip
    assert code == 1
    assert "2 test record(s) have no response: 'q11', 'q12'" in capsys.readouterr().err
    assert not (tmp_path / "out" / "summary.json").exists()
