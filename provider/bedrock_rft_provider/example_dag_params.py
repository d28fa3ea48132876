"""The params the example DAGs share (retraining, event-driven post-training, evaluation backfill).

One place for their defaults, so a DAG that hands a run over to another (``completion=event``) and the
benchmark baseline that mirrors the retraining DAG cannot drift apart. Each call returns fresh
``Param`` objects: a DAG owns (and may resolve) its own.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

DEMO_BUCKET = "bedrock-rft-demo"
DEMO_FAMILY = "gsm8k"
DEMO_REWARD = "bedrock_rft_provider.rewards.builtin:math_answer"
# The gate's own default (``evaluation.gate.DEFAULT_GUARDS``) written as the param's JSON: verbosity
# hacking shows up as response length growth (+25% allowed), and errors must not grow (+0.01).
GATE_GUARDS = (
    {"metric": "response_length.mean", "tolerance": 0.25, "relative": True},
    {"metric": "error_rate", "tolerance": 0.01},
)

# Checked when the run is triggered, not at the quality gate after paid training.
GUARD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["metric", "tolerance"],
    "properties": {
        "metric": {"type": "string", "minLength": 1},
        "tolerance": {"type": "number", "minimum": 0},
        "relative": {"type": "boolean"},
        "higher_is_better": {"type": "boolean"},
    },
    "additionalProperties": False,
}


def gate_params() -> dict[str, Param]:
    """``min_improvement`` (0.02), ``min_eval_samples`` (50), ``gate_guards`` (:data:`GATE_GUARDS`) and
    ``eval_concurrency`` (8 parallel model calls): how a challenger is evaluated and gated."""
    guards: list[dict[str, Any]] = [dict(guard) for guard in GATE_GUARDS]
    return {
        "min_improvement": Param(0.02, type="number"),
        "min_eval_samples": Param(50, type="integer", minimum=1),
        "gate_guards": Param(guards, type="array", items=GUARD_SCHEMA),
        "eval_concurrency": Param(8, type="integer", minimum=1),
    }
