"""What one inference call gives the runner loop: a reply, or a classified failure; and their bounds.

Model output is data: a reply and its reasoning are stored as text cut at :data:`MAX_REPLY_CHARS`, and
an error's description is cut at :data:`MAX_PROBLEM_CHARS`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Far above any max_tokens a reply can have (about 250k tokens): only a broken or hostile answer is cut.
MAX_REPLY_CHARS = 1_000_000
MAX_PROBLEM_CHARS = 1_000
# Converse's ``usage`` keys: every runner records token counts under these names.
USAGE_KEYS = ("inputTokens", "outputTokens", "totalTokens")


class Outcome(enum.Enum):
    """What a failed call means for the run."""

    THROTTLED = "throttled"  # back off, lower the concurrency limit, retry
    TRANSIENT = "transient"  # back off and retry
    REJECTED = "rejected"  # this prompt cannot be answered: record the error, do not retry
    FATAL = "fatal"  # every further request would fail too: stop the run


@dataclass(frozen=True)
class Failure:
    """A classified error: its outcome and a one-line description for logs and the output file."""

    outcome: Outcome
    problem: str


@dataclass(frozen=True)
class Reply:
    """One answer as every runner records it; ``usage`` uses :data:`USAGE_KEYS`."""

    text: str
    reasoning: str = ""
    usage: Mapping[str, Any] | None = None
    stop_reason: str | None = None


def bounded(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters, and whether it was cut."""
    return (text, False) if len(text) <= limit else (text[:limit], True)


def token_count(value: Any) -> int:
    """A usage count as a non-negative int (0 for anything that is not a finite number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0
    return max(0, int(value))
