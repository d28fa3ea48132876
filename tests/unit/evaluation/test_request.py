"""The evaluation request: every argument validated and coerced once, and the decisions made on it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.errors import ConfigError, ConfigErrors
from bedrock_rft_provider.evaluation.champion import ChampionVersion
from bedrock_rft_provider.evaluation.request import (
    BASELINE_RESPONSES_FILE,
    RESPONSES_FILE,
    UPLOADED_FILES,
    AnswerSource,
    EvaluationRequest,
    ModelUnderTest,
    training_curve_from,
)
from bedrock_rft_provider.jobs.metrics import parse_metrics_files

REWARD = "bedrock_rft_provider.rewards.builtin:math_answer"
GRADER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:grader:live"
DEPLOYMENT = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/aaaaaaaaaaaa"
WHEN = datetime(2026, 11, 2, 3, 0, tzinfo=timezone.utc)


def build(**overrides: Any) -> EvaluationRequest:
    values: dict[str, Any] = {
        "dataset_uri": "s3://rft-data/test.jsonl",
        "output_uri": "s3://rft-data/eval/run1",
        "reward": REWARD,
        "model_id": DEPLOYMENT,
    }
    values.update(overrides)
    return EvaluationRequest.build(**values)


def fields_in_error(info: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    errors = info.value.errors if isinstance(info.value, ConfigErrors) else [info.value]
    return [e.field for e in errors]


def test_defaults_when_only_the_required_arguments_are_given() -> None:
    request = build()
    assert (request.concurrency, request.samples_per_prompt, request.max_attempts) == (8, 1, 8)
    assert (request.success_threshold, request.request_timeout, request.seed) == (1.0, 120.0, 0)
    assert (request.grader_batch_size, request.grader_concurrency, request.sandbox) == (25, 4, False)
    assert request.inference_config is None and request.baseline_summary_uri is None


def test_rendered_template_strings_become_numbers_and_booleans() -> None:
    request = build(
        concurrency="3",
        samples_per_prompt="4.0",
        success_threshold="0.5",
        request_timeout="30",
        seed="7",
        sandbox="True",
        inference_config='{"maxTokens": 256, "temperature": 0}',
    )
    assert (request.concurrency, request.samples_per_prompt, request.success_threshold) == (3, 4, 0.5)
    assert (request.request_timeout, request.seed, request.sandbox) == (30.0, 7, True)
    assert request.inference_config == {"maxTokens": 256, "temperature": 0}


@pytest.mark.parametrize("value", [None, "", "None", "false", "0", False])
def test_sandbox_unset_or_false_is_false(value: Any) -> None:
    assert build(sandbox=value).sandbox is False


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sandbox": "maybe"}, "sandbox: expected true or false, got 'maybe'"),
        ({"sandbox": "{{ params.sandbox }}"}, "sandbox: expected true or false, got '{{ params.sandbox }}'"),
        ({"concurrency": "many"}, "concurrency: expected a whole number, got 'many'"),
        ({"concurrency": "2.5"}, "concurrency: expected a whole number, got '2.5'"),
        ({"concurrency": 0}, "concurrency: must be at least 1, got 0"),
        ({"samples_per_prompt": "0"}, "samples_per_prompt: must be at least 1, got 0"),
        ({"max_attempts": 0}, "max_attempts: must be at least 1, got 0"),
        ({"grader_batch_size": -1}, "grader_batch_size: must be at least 1, got -1"),
        ({"grader_concurrency": "0"}, "grader_concurrency: must be at least 1, got 0"),
        ({"seed": "x"}, "seed: expected a whole number, got 'x'"),
        ({"success_threshold": "high"}, "success_threshold: expected a number, got 'high'"),
        ({"success_threshold": "nan"}, "success_threshold: expected a number, got 'nan'"),
        ({"request_timeout": 0}, "request_timeout: must be more than 0 seconds, got 0"),
        ({"request_timeout": "soon"}, "request_timeout: expected a number, got 'soon'"),
        ({"inference_config": "maxTokens=5"}, "inference_config: expected a dict such as"),
        ({"inference_config": [1]}, "inference_config: expected a dict such as"),
        ({"dataset_uri": None}, "dataset_uri: is required"),
        ({"output_uri": ""}, "output_uri: is required"),
        ({"model_id": {"arn": DEPLOYMENT}}, "model_id: expected text, got dict"),
        ({"model_id": None, "champion_family": "gsm8k/v2"}, "champion_family: 'gsm8k/v2' must be 1-200"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build(**overrides)
    assert not isinstance(info.value, ConfigErrors)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"reward": None}, "reward / reward_lambda_arn", "give exactly one; got none"),
        (
            {"reward_lambda_arn": GRADER_ARN},
            "reward / reward_lambda_arn",
            "give exactly one; got ['reward', 'reward_lambda_arn']",
        ),
        ({"model_id": None}, "model_id / responses_uri / champion_family", "give exactly one; got none"),
        (
            {"champion_family": "gsm8k"},
            "model_id / responses_uri / champion_family",
            "give exactly one; got ['model_id', 'champion_family']",
        ),
        (
            {"baseline_model_id": "amazon.nova-2-lite-v1:0", "baseline_summary_uri": "s3://b/s.json"},
            "baseline_model_id / baseline_responses_uri / baseline_summary_uri",
            "give at most one; got ['baseline_model_id', 'baseline_summary_uri']",
        ),
        (
            {"champion_fallback_model_id": "amazon.nova-2-lite-v1:0"},
            "champion_fallback_model_id",
            "is only used with champion_family",
        ),
    ],
)
def test_one_of_rules(overrides: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build(**overrides)
    assert str(info.value) == f"{field}: {message}"


def test_an_unset_template_does_not_count_as_given() -> None:
    request = build(responses_uri="None", baseline_model_id="", champion_family=" ")
    assert (
        request.responses_uri is None
        and request.baseline_model_id is None
        and request.champion_family is None
    )


def test_a_bad_value_still_counts_as_given_so_one_of_rules_do_not_pile_on() -> None:
    with pytest.raises(ConfigError) as info:
        build(model_id=42)
    assert fields_in_error(info) == ["model_id"]


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(ConfigErrors) as info:
        build(reward=None, model_id=None, sandbox="maybe", concurrency="0", output_uri=None)
    assert fields_in_error(info) == [
        "output_uri",
        "concurrency",
        "sandbox",
        "reward / reward_lambda_arn",
        "model_id / responses_uri / champion_family",
    ]


def test_an_unknown_argument_is_named() -> None:
    with pytest.raises(ConfigError, match=r"^concurency: is not an evaluation argument$"):
        EvaluationRequest.build(dataset_uri="d", output_uri="o", reward=REWARD, model_id="m", concurency=3)


# -- decisions ---------------------------------------------------------------------------------------
def champion(version: int, **record: Any) -> ChampionVersion:
    return ChampionVersion(version, WHEN, {"model_id": DEPLOYMENT, **record})


def test_model_id_is_the_model_under_test() -> None:
    subject = build().model_under_test(None, WHEN)
    assert subject == ModelUnderTest(DEPLOYMENT) and subject.describe() == f"Evaluating {DEPLOYMENT}"


def test_the_champion_in_force_is_the_model_under_test() -> None:
    request = build(model_id=None, champion_family="gsm8k", champion_fallback_model_id="base")
    subject = request.model_under_test(champion(3), WHEN)
    assert subject.model_id == DEPLOYMENT
    assert subject.champion == {"family": "gsm8k", "version": 3, "as_of": WHEN.isoformat()}
    assert subject.describe() == f"Champion of gsm8k at {WHEN.isoformat()}: version 3, {DEPLOYMENT}"


def test_before_the_first_promotion_the_fallback_is_evaluated() -> None:
    request = build(model_id=None, champion_family="gsm8k", champion_fallback_model_id="base")
    subject = request.model_under_test(None, WHEN)
    assert subject.model_id == "base" and subject.champion is not None and subject.champion["version"] is None
    assert subject.describe().startswith("No champion of gsm8k at 2026-11-02T03:00:00+00:00")


def test_no_champion_and_no_fallback_names_the_family() -> None:
    request = build(model_id=None, champion_family="gsm8k")
    with pytest.raises(ConfigError, match=r"^champion_family: 'gsm8k' had no champion at 2026-11-02T03:00"):
        request.model_under_test(None, WHEN)


def test_a_champion_record_without_a_model_id_is_an_error() -> None:
    request = build(model_id=None, champion_family="gsm8k")
    with pytest.raises(
        ConfigError, match=r"^champion_family: champion version 2 of 'gsm8k' has no model_id$"
    ):
        request.model_under_test(champion(2, model_id=None), WHEN)


def test_answer_sources_live_precomputed_and_baseline() -> None:
    live, baseline = build(baseline_responses_uri="s3://b/base.jsonl").answer_sources(
        ModelUnderTest(DEPLOYMENT)
    )
    assert live == AnswerSource(RESPONSES_FILE, model_id=DEPLOYMENT)
    assert baseline == AnswerSource(BASELINE_RESPONSES_FILE, responses_uri="s3://b/base.jsonl")
    request = build(
        model_id=None, responses_uri="s3://b/r.jsonl", baseline_summary_uri="s3://b/e/summary.json"
    )
    precomputed, none = request.answer_sources(ModelUnderTest(None))
    assert precomputed == AnswerSource(RESPONSES_FILE, responses_uri="s3://b/r.jsonl") and none is None


def test_a_baseline_summary_looks_for_its_sibling_results() -> None:
    assert build(baseline_summary_uri="s3://b/eval/base/summary.json").baseline_results_uri == (
        "s3://b/eval/base/results.jsonl"
    )
    assert (
        build(baseline_summary_uri="/data/eval/summary.json").baseline_results_uri
        == "/data/eval/results.jsonl"
    )
    assert build().baseline_results_uri is None


def test_training_curve_keeps_the_reward_series_of_every_file() -> None:
    curve = training_curve_from(
        parse_metrics_files(
            {
                "s3://b/out/b/step_wise_training_metrics.csv": (
                    "step,critic/rewards/mean,response_length/mean\n2,0.6,90\n"
                ),
                "s3://b/out/a/step_wise_training_metrics.csv": "step,critic/rewards/mean\n1,0.4\n",
            }
        )
    )
    assert curve == {"critic/rewards/mean": [(1.0, 0.4), (2.0, 0.6)]}
    assert training_curve_from(parse_metrics_files({})) is None
    assert training_curve_from(parse_metrics_files({"x/validation_metrics.csv": "step\n"})) is None


def test_output_locations_on_s3_and_on_disk(tmp_path: Path) -> None:
    on_s3 = build(output_uri="s3://rft-data/eval/run1/")
    assert on_s3.output_is_s3 and on_s3.local_output_dir(tmp_path) == tmp_path / "out"
    assert on_s3.output_file_uri(RESPONSES_FILE) == "s3://rft-data/eval/run1/responses.jsonl"
    assert on_s3.report_location() == {"bucket": "rft-data", "key": "eval/run1/report.html"}
    local = build(output_uri=str(tmp_path / "eval"))
    assert not local.output_is_s3 and local.local_output_dir(tmp_path / "work") == tmp_path / "eval"
    assert local.report_location() == {"url": (tmp_path / "eval" / "report.html").resolve().as_uri()}


def test_pipeline_options_carry_the_label_the_champion_and_the_grader_parallelism() -> None:
    request = build(model_id=None, champion_family="gsm8k", reward=None, reward_lambda_arn=GRADER_ARN)
    subject = request.model_under_test(champion(1), WHEN)
    options = request.pipeline_options(subject)
    assert options["model_id"] == DEPLOYMENT and options["grader_workers"] == 4
    assert options["extra"] == {
        "output_uri": "s3://rft-data/eval/run1",
        "dataset_uri": "s3://rft-data/test.jsonl",
        "champion": {"family": "gsm8k", "version": 1, "as_of": WHEN.isoformat()},
    }
    precomputed = build(model_id=None, responses_uri="s3://b/r.jsonl", grader_concurrency=9)
    options = precomputed.pipeline_options(ModelUnderTest(None))
    assert options["model_id"] == "s3://b/r.jsonl" and options["grader_workers"] == 1  # a local reward
    assert "champion" not in options["extra"]


def test_runner_options() -> None:
    options = build(
        concurrency="2", inference_config={"maxTokens": 9}, max_attempts=3, seed=5
    ).runner_options()
    assert options == {
        "concurrency": 2,
        "samples_per_prompt": 1,
        "inference_config": {"maxTokens": 9},
        "max_attempts": 3,
        "seed": 5,
    }


def test_every_file_the_pipeline_writes_is_uploaded_with_summary_last() -> None:
    from bedrock_rft_provider.evaluation.pipeline import WRITTEN_FILES

    assert set(WRITTEN_FILES) <= set(UPLOADED_FILES) and UPLOADED_FILES[-1] == "summary.json"
    assert {RESPONSES_FILE, BASELINE_RESPONSES_FILE} <= set(UPLOADED_FILES)


def test_every_request_field_is_read_by_exactly_one_coercer() -> None:
    from bedrock_rft_provider.evaluation.request_fields import COERCE

    assert list(COERCE) == list(EvaluationRequest.field_names())
