"""How an inference run ended: its statistics, and the errors for a run that could not answer everything.

Split from ``evaluation.runner`` (the loop that produces them); importable from there and from
``evaluation.inference`` as before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bedrock_rft_provider.errors import BedrockRFTError


class InferenceIncompleteError(BedrockRFTError):
    """Some prompts still have no answer after all retries; a re-run resumes from the output file."""


class InferenceAbortedError(BedrockRFTError):
    """A non-retryable error (access, unknown model) made every further request pointless."""


@dataclass
class InferenceStats:
    """What a run did: counts, retries, throttles, tokens and the throughput it achieved."""

    total: int
    already_done: int
    completed: int
    errors: int
    unfinished: int
    retries: int
    throttles: int
    elapsed_s: float
    requests_per_s: float
    final_concurrency_limit: int
    lowest_concurrency_limit: int
    input_tokens: int = 0
    output_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
