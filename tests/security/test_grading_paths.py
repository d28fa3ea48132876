"""test-reward, evaluate and the evaluation operator grade the way the deployed grader does."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.cli import main
from bedrock_rft_provider.evaluation.scoring import reward_grader
from bedrock_rft_provider.rewards.process import ProcessGrader

from .conftest import grader_sample

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rewards"
HOSTILE = f"{FIXTURES / 'hostile_rewards.py'}"
TESTS = ["assert add(1, 2) == 3", "assert add(2, 2) == 4"]
CODE_TESTS = "bedrock_rft_provider.rewards.builtin:code_tests"
ADD = "```python\ndef add(a, b):\n    return a + b\n```"


def _aws_layout(response: str, sample_id: str) -> dict[str, Any]:
    sample = grader_sample(response, None, sample_id)
    sample["metadata"] = {"test_cases": TESTS}
    return sample


def _write_samples(path: Path, samples: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(s) + "\n" for s in samples))
    return path


def test_a_grader_process_that_dies_loses_only_the_sample_that_killed_it() -> None:
    batch = [grader_sample("ok", "x", "a"), grader_sample("die", "x", "b"), grader_sample("ok", "x", "c")]
    with ProcessGrader(f"{HOSTILE}:exits_on_die") as grader:
        results = grader(batch, None)
        again = grader([grader_sample("ok", "x", "d")], None)
    assert [r["id"] for r in results] == ["a", "b", "c"]
    assert [r["aggregate_reward_score"] for r in results] == [1.0, 0.0, 1.0]
    assert again[0]["aggregate_reward_score"] == 1.0


def test_evaluation_scores_in_a_separate_process() -> None:
    grade = reward_grader(f"{HOSTILE}:grader_pid")
    results = grade([grader_sample("x", "x")])
    pid = next(m["value"] for m in results[0]["metrics_list"] if m["name"] == "grader_pid_value")
    assert pid != os.getpid()


def test_evaluate_cli_survives_a_reward_that_kills_its_process(tmp_path: Path, capsys: Any) -> None:
    dataset = _write_samples(
        tmp_path / "test.jsonl",
        [
            {"id": i, "messages": [{"role": "user", "content": "say ok"}], "reference_answer": "ok"}
            for i in "ab"
        ],
    )
    responses = _write_samples(
        tmp_path / "responses.jsonl", [{"id": "a", "response": "ok"}, {"id": "b", "response": "die"}]
    )
    code = main(
        [
            "evaluate", "--dataset", str(dataset), "--responses", str(responses),
            "--reward", f"{HOSTILE}:exits_on_die", "--output", str(tmp_path / "out"),
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    scores = [
        json.loads(line)["score"] for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    ]
    assert scores == [1.0, 0.0]


def test_test_reward_reads_aws_test_cases_layout(tmp_path: Path, capsys: Any) -> None:
    samples = _write_samples(
        tmp_path / "code.jsonl", [_aws_layout(ADD, "c1"), _aws_layout("def add(a, b): return 0", "c2")]
    )
    code = main(
        [
            "test-reward",
            "--reward",
            "bedrock_rft_provider.rewards.builtin:code_tests",
            "--samples",
            str(samples),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "score: mean 0.5000" in printed


def test_test_reward_fails_when_the_reward_applied_to_no_sample(tmp_path: Path, capsys: Any) -> None:
    sample = grader_sample(ADD, None, "c1")
    sample["metadata"] = {"unit_tests": TESTS}  # a layout code_tests does not read
    samples = _write_samples(tmp_path / "code.jsonl", [sample])
    code = main(
        [
            "test-reward",
            "--reward",
            "bedrock_rft_provider.rewards.builtin:code_tests",
            "--samples",
            str(samples),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "applied to none of the 1 sample(s)" in captured.err
    assert "OK" not in captured.out.splitlines()


def test_adversarial_mode_passes_the_builtin_code_reward(tmp_path: Path, capsys: Any) -> None:
    samples = _write_samples(tmp_path / "code.jsonl", [_aws_layout(ADD, "c1")])
    code = main(
        [
            "test-reward",
            "--reward",
            "bedrock_rft_provider.rewards.builtin:code_tests",
            "--samples",
            str(samples),
            "--adversarial",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "attack always_equal_object: best score 0" in printed
    assert "PAID" not in printed


def test_adversarial_mode_catches_a_naive_code_reward(tmp_path: Path, capsys: Any) -> None:
    samples = _write_samples(tmp_path / "code.jsonl", [_aws_layout(ADD, "c1")])
    code = main(
        [
            "test-reward",
            "--reward",
            f"{HOSTILE}:naive_code_reward",
            "--samples",
            str(samples),
            "--adversarial",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "attack always_equal_object: best score 1 on 1 sample(s): PAID" in captured.out
    assert "pays for" in captured.err


def test_the_readme_adversarial_command(capsys: Any) -> None:
    code = main(
        [
            "test-reward",
            "--reward", "bedrock_rft_provider.rewards.builtin:code_tests",
            "--samples", str(FIXTURES / "code_events.jsonl"),
            "--adversarial",
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "samples: 3  scored: 3  reward errors: 0" in printed
    assert "score: mean 0.6667" in printed
    assert printed.count(": ok") == 11  # every built-in attack, none paid


def test_the_grader_worker_does_not_inherit_airflow_secrets(monkeypatch: Any) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://user:secret@db/prod")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with ProcessGrader(f"{HOSTILE}:environment_probe") as grader:
        metrics = {m["name"]: m["value"] for m in grader([grader_sample("x", "x")], None)[0]["metrics_list"]}
    assert metrics["airflow_vars"] == 0.0
    assert metrics["aws_region_set"] == 1.0


COMPUTED_TESTS = [
    "assert solve([3, 1, 2]) == sorted([3, 1, 2])",
    "xs = [5, 4]\nexpected = sorted(xs)\nassert solve(xs) == expected",
]


@pytest.mark.parametrize("attack", ["patch_trusted_functions", "read_expected_from_caller"])
def test_the_expected_value_attacks_are_paid_by_a_naive_reward_and_not_by_code_tests(
    tmp_path: Path, capsys: Any, attack: str
) -> None:
    sample = grader_sample("```python\ndef solve(xs):\n    return sorted(xs)\n```", None, "c1")
    sample["metadata"] = {"test_cases": COMPUTED_TESTS}
    samples = _write_samples(tmp_path / "code.jsonl", [sample])
    for reward, paid in [(f"{HOSTILE}:naive_code_reward", True), (CODE_TESTS, False)]:
        main(["test-reward", "--reward", reward, "--samples", str(samples), "--adversarial"])
        printed = capsys.readouterr().out
        line = next(x for x in printed.splitlines() if x.startswith(f"attack {attack}:"))
        assert line.endswith("PAID") is paid, line
