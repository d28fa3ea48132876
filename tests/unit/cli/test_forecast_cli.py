"""``bedrock-rft forecast``: hand-checked numbers from a dataset report and a measured grader run, caps
(exit 1 with what to change), bad settings (exit 1, one line naming the field), usage (2). Bad input
files are in the corpus (test_cli_bad_input_corpus: slots forecast-dataset, forecast-preflight)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unit.cli.test_cli_bad_input_corpus import Outcome, assert_clean_failure, run

Capsys = pytest.CaptureFixture[str]
HP = json.dumps({"epoch_count": 2, "batch_size": 16, "training_sample_per_prompt": 4, "eval_interval": 5})


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A prepare-data output folder: its report.json is what the forecast reads."""
    folder = tmp_path / "data"
    folder.mkdir()
    report = {
        "counts": {"train": 100, "validation": 10, "test": 20},
        "prompt_length": {"estimated_tokens": {"mean": 50.0}},
    }
    (folder / "report.json").write_text(json.dumps(report))
    return folder


@pytest.fixture
def grader_run(tmp_path: Path) -> Path:
    """``test-reward --output``'s shape: 64 samples in 4 batches of 200 ms mean -> 12.5 ms per sample."""
    path = tmp_path / "grader.json"
    path.write_text(
        json.dumps({"n": 64, "latency_ms_per_batch": {"batch_size": 16, "batches": 4, "mean": 200.0}})
    )
    return path


def forecast(capsys: Capsys, *argv: str) -> Outcome:
    return run(["forecast", *argv], capsys)


def test_prints_the_forecast_for_a_dataset_hyperparameters_and_measured_grader(
    dataset: Path, grader_run: Path, capsys: Capsys
) -> None:
    outcome = forecast(
        capsys, "--dataset", str(dataset), "--hyperparameters", HP, "--preflight", str(grader_run),
        "--memory-mb", "1024", "--prices", '{"grader_gb_second": 2, "currency": "EUR"}',
    )  # fmt: skip
    assert outcome.code == 0, outcome
    # 14 steps x 64 + 3 validation passes x 10 = 926 samples; x 0.0125 s x 1 GB = 11.575 GB-s; x 2 EUR.
    assert "graded samples:      926 (896 training + 30 validation)" in outcome.out
    assert "Lambda GB-seconds:   11.57" in outcome.out
    assert "money:               23.15 EUR (grader_gb_second 23.15)" in outcome.out
    assert "evaluation tokens:   2,000 in" in outcome.out


def test_json_output_is_the_forecast_dict(dataset: Path, capsys: Capsys) -> None:
    outcome = forecast(capsys, "--dataset", str(dataset / "report.json"), "--hyperparameters", HP, "--json")
    assert outcome.code == 0
    data = json.loads(outcome.out)
    assert data["grader_invocations"] == 926
    assert data["lambda_gb_seconds"] is None  # no measured grader run given


def test_open_weight_model_uses_its_own_hyperparameters(dataset: Path, capsys: Capsys) -> None:
    outcome = forecast(
        capsys, "--dataset", str(dataset), "--base-model-id", "openai.gpt-oss-20b",
        "--hyperparameters", '{"n_epochs": 1, "batch_size": 10}',
        "--assumptions", '{"samples_per_prompt": 2}', "--json",
    )  # fmt: skip
    assert outcome.code == 0, outcome
    # 10 steps x 10 x 2 = 200 training samples; validation every 10 steps (assumed): 1 pass x 10.
    assert json.loads(outcome.out)["graded_samples"] == 210


def test_over_a_cap_exits_1_saying_what_to_change(dataset: Path, capsys: Capsys) -> None:
    outcome = forecast(
        capsys, "--dataset", str(dataset), "--hyperparameters", HP, "--max-grader-invocations", "500"
    )
    assert outcome.code == 1
    assert "graded samples:      926" in outcome.out  # the forecast is still shown
    assert "max_grader_invocations = 500: the forecast is 926 grader invocations" in outcome.err
    assert "raise max_grader_invocations to at least 926" in outcome.err
    assert "Traceback" not in outcome.err


def test_within_the_caps_says_so(dataset: Path, capsys: Capsys) -> None:
    outcome = forecast(
        capsys, "--dataset", str(dataset), "--hyperparameters", HP, "--max-grader-invocations", "926"
    )
    assert outcome.code == 0 and "within the caps" in outcome.out


@pytest.mark.parametrize(
    ("argv", "cause"),
    [
        (["--hyperparameters", '{"batch_size": 8}'], "hyperparameters.batch_size"),
        (["--max-budget", "10"], "max_budget: needs prices"),
        (["--max-training-hours", "-1"], "max_training_hours"),
        (["--prices", '{"gpu_hour": 3}'], "prices.gpu_hour"),
        (
            ["--assumptions", '{"grader_samples_per_invocation": 0}'],
            "assumptions.grader_samples_per_invocation",
        ),
        (["--base-model-id", "openai.gpt-oss-20b", "--backend", "native"], "backend"),
    ],
)
def test_bad_settings_exit_1_naming_the_field(
    dataset: Path, argv: list[str], cause: str, capsys: Capsys
) -> None:
    outcome = forecast(capsys, "--dataset", str(dataset), *argv)
    assert_clean_failure(outcome, 1, cause.split(":", maxsplit=1)[0], cause)


def test_a_report_without_counts_or_a_missing_file_exits_1(tmp_path: Path, capsys: Capsys) -> None:
    report = tmp_path / "report.json"
    report.write_text('{"format": 1}')
    assert_clean_failure(forecast(capsys, "--dataset", str(report)), 1, str(report), "has no counts.train")
    missing = tmp_path / "absent.json"
    assert_clean_failure(forecast(capsys, "--dataset", str(missing)), 1, str(missing), "cannot read")


def test_hyperparameters_that_are_not_json_are_a_usage_error(dataset: Path, capsys: Capsys) -> None:
    outcome = forecast(capsys, "--dataset", str(dataset), "--hyperparameters", "batch_size=16")
    assert outcome.code == 2
    assert "--hyperparameters" in outcome.err and "Traceback" not in outcome.err
