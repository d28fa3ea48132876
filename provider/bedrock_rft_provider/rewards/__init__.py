"""Reward functions for Bedrock RFT graders: the contract, the handler wrapper and the reward library.

Stdlib-only (boto3 for the LLM judge) and independent of the rest of the package: the packager ships
this subpackage as-is inside the grader Lambda zip. Names resolve on first use (PEP 562), so a module
that needs one submodule (``rewards.jsonl``, ``rewards.packaging``) does not import the handler stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bedrock_rft_provider.rewards.contract import (
        RewardResult,
        Sample,
        check_results,
        grader_sample,
        parse_sample,
    )
    from bedrock_rft_provider.rewards.handler import GraderHandler, RewardFn, as_handler, make_handler

_EXPORTS = {
    "RewardResult": "contract",
    "Sample": "contract",
    "check_results": "contract",
    "grader_sample": "contract",
    "parse_sample": "contract",
    "GraderHandler": "handler",
    "RewardFn": "handler",
    "as_handler": "handler",
    "make_handler": "handler",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    if not name.startswith("__"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as missing:
            if missing.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
