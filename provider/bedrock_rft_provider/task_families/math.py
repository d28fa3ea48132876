"""GSM8K-style math reasoning (RLVR): the provider's original task family."""

from __future__ import annotations

from datetime import date
from typing import Any

from bedrock_rft_provider.task_families.base import TaskFamily


def daily_prompts(day: date, count: int) -> list[dict[str, Any]]:
    """``count`` seeded synthetic word problems for one day, as a production feed would land them."""
    from bedrock_rft_provider.data.gsm8k import to_rft_record
    from bedrock_rft_provider.data.synthetic import generate

    seed = int(day.strftime("%Y%m%d"))
    return [to_rft_record(raw, id_prefix=f"day-{day}") for raw in generate(count, seed)]


RECIPE = TaskFamily(
    name="math",
    title="math reasoning (GSM8K-style word problems, RLVR)",
    retraining_conf={
        "model_family": "gsm8k",
        "dataset_source": "synthetic",
        "dataset_input": "600",
        "reward": "bedrock_rft_provider.rewards.builtin:math_answer",
        "grader_function_name": "bedrock-rft-gsm8k-grader",
    },
    real="seeded synthetic word problems in GSM8K's format, graded by the built-in math_answer reward",
    simulated="the model's answers and the training dynamics",
    daily_prompts=daily_prompts,
)
