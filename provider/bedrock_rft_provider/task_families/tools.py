"""Tool calling (RLVR, BFCL-style): pick the right function and fill in its arguments."""

from __future__ import annotations

from datetime import date
from typing import Any

from bedrock_rft_provider.task_families.base import TaskFamily


def daily_prompts(day: date, count: int) -> list[dict[str, Any]]:
    """``count`` seeded tool-calling requests for one day, as a production feed would land them."""
    from bedrock_rft_provider.data.toolcalls import generate

    seed = int(day.strftime("%Y%m%d"))
    return [{**record, "id": f"day-{day}-{record['id']}"} for record in generate(count, seed)]


RECIPE = TaskFamily(
    name="tools",
    title="tool calling (function name + arguments, BFCL-style partial credit, RLVR)",
    retraining_conf={
        "model_family": "tools",
        "dataset_source": "synthetic-tools",
        # 800 requests: the test split (~8%) stays above the gate's default min_eval_samples of 50.
        "dataset_input": "800",
        "reward": "bedrock_rft_provider.rewards.builtin:tool_call_match",
        "grader_function_name": "bedrock-rft-tools-grader",
    },
    real=(
        "seeded tool-calling requests over six functions (records with OpenAI-format tools, labels right "
        "by construction), graded by the built-in tool_call_match reward; tools offered through Converse "
        "toolConfig, calls read from toolUse blocks"
    ),
    simulated="the model's calls (right, wrong function, missing/extra/wrong-typed argument, "
    "malformed JSON, prose) and the training dynamics",
    daily_prompts=daily_prompts,
)
