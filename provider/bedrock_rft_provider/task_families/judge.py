"""Content moderation graded by an LLM judge (RLAIF), with a verifiable label check and judge calibration."""

from __future__ import annotations

from datetime import date
from typing import Any

from bedrock_rft_provider.task_families.base import TaskFamily

JUDGE_MODEL_ID = "us.amazon.nova-pro-v1:0"


def daily_prompts(day: date, count: int) -> list[dict[str, Any]]:
    """``count`` seeded moderation posts for one day, as a production feed would land them."""
    from bedrock_rft_provider.data.moderation import generate

    seed = int(day.strftime("%Y%m%d"))
    return [{**record, "id": f"day-{day}-{n:05d}"} for n, record in enumerate(generate(count, seed))]


RECIPE = TaskFamily(
    name="judge",
    title="content moderation graded by an LLM judge (RLAIF) beside a verifiable label check",
    retraining_conf={
        "model_family": "moderation",
        "dataset_source": "moderation",
        "dataset_input": "600",
        "reward": "bedrock_rft_provider.rewards.moderation:moderation_reward",
        "grader_function_name": "bedrock-rft-moderation-grader",
        # The judge model the grader Lambda calls; its role needs bedrock:InvokeModel on it only.
        "grader_environment": {"BEDROCK_RFT_JUDGE_MODEL_ID": JUDGE_MODEL_ID},
        "judge_component": "policy_judge",
        "judge_min_agreement": 0.8,
        # A judge is noisy: ideals may score up to its composite weight below the top in the preflight.
        "preflight_ideal_tolerance": 0.4,
        # Evaluate and gate on the human labels (verifiable, no judge calls), not on the judge.
        "evaluation_reward": "bedrock_rft_provider.rewards.moderation:label_match",
    },
    real=(
        "seeded, labelled moderation posts (generated, labels right by construction), the label_match "
        "reward, the judge's rubric, retries and parsing, and the calibration against the labels"
    ),
    simulated="the model's answers, the LLM judge's verdicts (SIMULATED judge) and the training dynamics",
    daily_prompts=daily_prompts,
    evaluation_conf={"reward": "bedrock_rft_provider.rewards.moderation:label_match"},
)
