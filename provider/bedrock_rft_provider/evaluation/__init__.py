"""Evaluation, pure (boto3 clients are injected): inference, scoring, statistics, gate and reports."""

from __future__ import annotations

from bedrock_rft_provider.evaluation.gate import GateDecision, GatePolicy, Guard, decide
from bedrock_rft_provider.evaluation.inference import ConverseRunner, InferenceStats
from bedrock_rft_provider.evaluation.pipeline import evaluate, load_results
from bedrock_rft_provider.evaluation.records import EvalRecord, ResponseRecord, load_dataset, load_responses
from bedrock_rft_provider.evaluation.scoring import (
    SampleResult,
    handler_grader,
    lambda_grader,
    load_reward,
    reward_grader,
)

__all__ = [
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
