"""The evaluation request on the open-weight path: backends per model, the best checkpoint, like with like."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.checkpoints import CheckpointChoice
from bedrock_rft_provider.evaluation.request import BASELINE_RESPONSES_FILE, AnswerSource

from .test_request import DEPLOYMENT, WHEN, build, champion, fields_in_error

BASE = "openai.gpt-oss-20b"
TUNED = f"{BASE}:ft:ftjob-abc"
CHOICE = CheckpointChoice(
    "ftjob-abc", f"{TUNED}:ckpt-step-10", 10, "val_score_rewards_mean", 0.7, "ftckpt-1", 3
)


def test_each_live_model_answers_through_the_api_its_id_names() -> None:
    request = build(model_id=TUNED, baseline_model_id=BASE)
    subject = request.model_under_test(None, WHEN)
    under_test, baseline = request.answer_sources(subject)
    assert under_test.backend == "open-weight" and subject.describe() == f"Evaluating {TUNED} (open-weight)"
    assert baseline == AnswerSource(BASELINE_RESPONSES_FILE, BASE, None, "open-weight")
    extra = request.pipeline_options(subject)["extra"]
    assert (extra["backend"], extra["baseline_backend"]) == ("open-weight", "open-weight")
    assert request.comparison_warning(subject) is None


def test_a_native_evaluation_says_nothing_new() -> None:
    request = build(baseline_model_id="amazon.nova-2-lite-v1:0")
    subject = request.model_under_test(None, WHEN)
    assert subject.backend == "native" and request.answer_sources(subject)[1].backend == "native"  # type: ignore[union-attr]
    assert "backend" not in request.pipeline_options(subject)["extra"]


def test_the_override_names_a_tuned_model_whose_id_hides_its_base() -> None:
    request = build(model_id="my-tuned-model", backend="open_weight", baseline_model_id=BASE)
    assert request.backend == "open-weight"
    assert request.model_under_test(None, WHEN).backend == "open-weight"


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"model_id": BASE, "backend": "native"}, ["backend"]),
        ({"baseline_model_id": TUNED, "baseline_backend": "native"}, ["baseline_backend"]),
        ({"baseline_backend": "banana"}, ["baseline_backend"]),
        ({"model_id": None, "responses_uri": "s3://r/a.jsonl", "backend": "open-weight"}, ["backend"]),
        ({"baseline_backend": "open-weight"}, ["baseline_backend"]),
        (
            {
                "model_id": None,
                "champion_family": "f",
                "champion_fallback_model_id": BASE,
                "backend": "native",
            },
            ["backend"],
        ),
        ({"model_id": None, "best_checkpoint_job_id": "ftjob-abc", "backend": "native"}, ["backend"]),
        ({"best_checkpoint_job_id": "ftjob-abc"}, ["model_id / best_checkpoint_job_id"]),
    ],
)
def test_a_backend_or_source_that_does_not_fit_is_refused_before_any_io(
    overrides: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(ConfigError) as info:
        build(**overrides)
    assert fields_in_error(info) == fields


def test_the_best_checkpoint_stands_in_for_model_id() -> None:
    request = build(model_id=None, best_checkpoint_job_id="ftjob-abc", baseline_model_id=BASE)
    assert request.checkpoint_metric == "val_score_rewards_mean"
    subject = request.model_under_test(None, WHEN, CHOICE)
    assert subject.model_id == CHOICE.model_id and subject.backend == "open-weight"
    assert subject.describe().startswith(
        "Best checkpoint of job ftjob-abc by val_score_rewards_mean: step 10"
    )
    options = request.pipeline_options(subject)
    assert options["model_id"] == CHOICE.model_id and options["extra"]["checkpoint"]["step"] == 10
    assert request.comparison_warning(subject) is None  # a checkpoint against its base model


def test_a_best_checkpoint_evaluation_without_a_choice_is_an_error() -> None:
    request = build(
        model_id=None, best_checkpoint_job_id="ftjob-abc", checkpoint_metric="critic_rewards_mean"
    )
    assert request.checkpoint_metric == "critic_rewards_mean"
    with pytest.raises(ConfigError, match=r"^best_checkpoint_job_id: no checkpoint was chosen"):
        request.model_under_test(None, WHEN)


def test_an_open_weight_champion_answers_through_chat_completions() -> None:
    request = build(model_id=None, champion_family="gsm8k", champion_fallback_model_id=BASE)
    record = champion(2, model_id=TUNED, backend="open-weight", deployment_arn=None)
    assert request.model_under_test(record, WHEN).backend == "open-weight"
    assert request.model_under_test(None, WHEN).backend == "open-weight"  # the base model as fallback
    assert request.model_under_test(champion(1), WHEN).backend == "native"  # a native record


def test_a_baseline_from_another_family_or_api_is_flagged() -> None:
    request = build(model_id=TUNED, baseline_model_id="qwen.qwen3-32b")
    assert "tuned from openai.gpt-oss-20b but the baseline is qwen.qwen3-32b" in str(
        request.comparison_warning(request.model_under_test(None, WHEN))
    )
    request = build(model_id=TUNED, baseline_model_id=DEPLOYMENT)
    warning = request.comparison_warning(request.model_under_test(None, WHEN))
    assert warning is not None and "native backend" in warning
