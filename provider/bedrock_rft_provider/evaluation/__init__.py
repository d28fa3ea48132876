"""Evaluation, pure (boto3 clients are injected): inference, scoring, statistics, gate and reports."""

from __future__ import annotations

from bedrock_rft_provider.lazy import lazy_exports

# Names are resolved on first use (PEP 562), so importing one submodule — as an operator does when a
# DAG file is parsed — does not pull in numpy and the statistics stack.
_EXPORTS = {
    "GateDecision": "gate",
    "GatePolicy": "gate",
    "Guard": "gate",
    "decide": "gate",
    "ChatCompletionsRunner": "chat_runner",
    "ConverseRunner": "inference",
    "InferenceStats": "inference",
    "evaluate": "pipeline",
    "load_results": "pipeline",
    "EvalRecord": "records",
    "ResponseRecord": "records",
    "load_dataset": "records",
    "load_responses": "records",
    "SampleResult": "scoring",
    "handler_grader": "scoring",
    "lambda_grader": "scoring",
    "load_reward": "scoring",
    "reward_grader": "scoring",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "ChatCompletionsRunner",
    "ConverseRunner",
    "EvalRecord",
    "GateDecision",
    "GatePolicy",
    "Guard",
    "InferenceStats",
    "ResponseRecord",
    "SampleResult",
    "decide",
    "evaluate",
    "handler_grader",
    "lambda_grader",
    "load_dataset",
    "load_responses",
    "load_results",
    "load_reward",
    "reward_grader",
]
