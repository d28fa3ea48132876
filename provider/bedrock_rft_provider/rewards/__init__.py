"""Reward functions for Bedrock RFT graders: the contract, the handler wrapper and the reward library.

Stdlib-only (boto3 for the LLM judge) and independent of the rest of the package: the packager ships
this subpackage as-is inside the grader Lambda zip.
"""

from __future__ import annotations

from bedrock_rft_provider.rewards.contract import (
    RewardResult,
    Sample,
    check_results,
    grader_sample,
    parse_sample,
)
from bedrock_rft_provider.rewards.handler import GraderHandler, RewardFn, as_handler, make_handler

__all__ = [
    "GraderHandler",
    "RewardFn",
    "RewardResult",
    "Sample",
    "as_handler",
    "check_results",
    "grader_sample",
    "make_handler",
    "parse_sample",
]
