"""Choosing an open-weight job's best checkpoint by a validation metric (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.checkpoints import best_checkpoint

JOB = "ftjob-abc"


def checkpoint(step: int, **metrics: Any) -> dict[str, Any]:
    """A checkpoint as ``BedrockOpenWeightHook.checkpoints`` returns it (the SDK's type, dumped)."""
    return FineTuningJobCheckpoint.model_validate(
        {
            "id": f"ftckpt-{step}",
            "created_at": 1_764_400_000 + step,
            "fine_tuned_model_checkpoint": f"openai.gpt-oss-20b:ft:{JOB}:ckpt-step-{step}",
            "fine_tuning_job_id": JOB,
            "metrics": {"step": step, **metrics},
            "object": "fine_tuning.job.checkpoint",
            "step_number": step,
        }
    ).model_dump(warnings=False)


def test_the_highest_validation_reward_wins() -> None:
    found = best_checkpoint(
        JOB,
        [
            checkpoint(5, val_score_rewards_mean=0.4, critic_rewards_mean=0.9),
            checkpoint(10, val_score_rewards_mean=0.7, critic_rewards_mean=0.5),
            checkpoint(15, val_score_rewards_mean=0.6, critic_rewards_mean=0.95),
        ],
    )
    assert (found.step, found.value, found.compared) == (10, 0.7, 3)
    assert (
        found.model_id == f"openai.gpt-oss-20b:ft:{JOB}:ckpt-step-10" and found.checkpoint_id == "ftckpt-10"
    )


def test_a_tie_goes_to_the_latest_step_whatever_the_listing_order() -> None:
    listed = [
        checkpoint(20, val_score_rewards_mean=0.7),
        checkpoint(5, val_score_rewards_mean=0.7),
        checkpoint(10, val_score_rewards_mean=0.7),
    ]
    assert best_checkpoint(JOB, listed).step == 20
    assert best_checkpoint(JOB, reversed(listed)).step == 20


def test_the_metric_may_be_named_by_its_training_curve_name() -> None:
    found = best_checkpoint(
        JOB,
        [checkpoint(5, val_score_rewards_mean=0.9), checkpoint(10, val_score_rewards_mean=0.2)],
        metric="val-score/rewards/mean@1",
    )
    assert found.step == 5 and found.metric == "val-score/rewards/mean@1"


def test_another_metric_can_be_chosen() -> None:
    found = best_checkpoint(
        JOB,
        [checkpoint(5, critic_rewards_mean=0.9), checkpoint(10, critic_rewards_mean=0.2)],
        metric="critic_rewards_mean",
    )
    assert found.step == 5


def test_checkpoints_without_the_metric_are_left_out_and_listed() -> None:
    found = best_checkpoint(
        JOB,
        [
            checkpoint(5, critic_rewards_mean=0.9),
            checkpoint(10, val_score_rewards_mean=0.3),
            checkpoint(15, val_score_rewards_mean=float("nan")),
            checkpoint(20, val_score_rewards_mean=True),
        ],
    )
    assert found.step == 10 and found.steps_without_metric == (5, 15, 20)
    assert "steps 5, 15, 20 report no val_score_rewards_mean" in found.describe()


def test_no_checkpoint_reporting_the_metric_is_a_clear_error() -> None:
    with pytest.raises(ConfigError) as info:
        best_checkpoint(JOB, [checkpoint(5, critic_rewards_mean=0.9), checkpoint(10, actor_entropy=0.3)])
    assert str(info.value).startswith(
        "checkpoint_metric: no checkpoint of job ftjob-abc reports 'val_score_rewards_mean' "
        "(they report: actor_entropy, critic_rewards_mean, step)"
    )


@pytest.mark.parametrize(
    "checkpoints",
    [[], [{"step_number": 5, "metrics": {"val_score_rewards_mean": 1.0}}]],
    ids=["none", "no-model-id"],
)
def test_a_job_without_usable_checkpoints_is_a_clear_error(checkpoints: list[dict[str, Any]]) -> None:
    with pytest.raises(
        ConfigError, match=r"^best_checkpoint_job_id: fine-tuning job ftjob-abc has no checkpoints"
    ):
        best_checkpoint(JOB, checkpoints)
