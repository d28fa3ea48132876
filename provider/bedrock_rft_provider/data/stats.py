"""Prompt-length statistics in bounded memory (a histogram of lengths) and the maxPromptLength advice."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Tokens are estimated, not counted: the model's tokenizer is not available offline. About four
#: characters per token is typical for English text with these models; numbers and code tokenize denser.
CHARS_PER_TOKEN = 4.0
TOKEN_ESTIMATE_NOTE = (
    "estimated_tokens = ceil(characters / 4); an estimate, not the model's tokenizer. "
    "Leave headroom: prompts longer than maxPromptLength are silently dropped during training."
)
_PERCENTILES = (50, 90, 99)


def estimate_tokens(chars: int) -> int:
    """Estimated token count for ``chars`` characters of prompt text."""
    return math.ceil(chars / CHARS_PER_TOKEN)


@dataclass
class PromptLengthStats:
    """Accumulates prompt lengths (characters) as a histogram; memory grows with distinct lengths only."""

    histogram: Counter[int] = field(default_factory=Counter)

    def add(self, chars: int) -> None:
        """Record one prompt of ``chars`` characters."""
        self.histogram[chars] += 1

    def add_many(self, chars: Iterable[int]) -> None:
        """Record many prompts (their lengths in characters)."""
        self.histogram.update(chars)

    @property
    def count(self) -> int:
        """Number of prompts recorded."""
        return sum(self.histogram.values())

    def _summary(self, scale: Any) -> dict[str, float | int]:
        total = self.count
        if not total:
            return {"min": 0, "mean": 0.0, "p50": 0, "p90": 0, "p99": 0, "max": 0}
        lengths = sorted(self.histogram)
        mean = sum(scale(length) * n for length, n in self.histogram.items()) / total
        summary: dict[str, float | int] = {"min": scale(lengths[0]), "mean": round(mean, 1)}
        targets = {p: math.ceil(total * p / 100) for p in _PERCENTILES}
        seen = 0
        for length in lengths:
            seen += self.histogram[length]
            for p, target in targets.items():
                if f"p{p}" not in summary and seen >= target:
                    summary[f"p{p}"] = scale(length)
        summary["max"] = scale(lengths[-1])
        return summary

    def over(self, max_prompt_length: int) -> int:
        """How many prompts have more estimated tokens than ``max_prompt_length``."""
        return sum(n for chars, n in self.histogram.items() if estimate_tokens(chars) > max_prompt_length)

    def recommended_max_prompt_length(self) -> int:
        """Smallest multiple of 256 covering the longest prompt's estimate plus 25% headroom."""
        longest = max(self.histogram, default=0)
        return max(256, math.ceil(estimate_tokens(longest) * 1.25 / 256) * 256)

    def to_dict(self, max_prompt_length: int | None = None) -> dict[str, Any]:
        """The report section: characters, estimated tokens, the advice and the would-be-dropped count."""
        return {
            "characters": self._summary(lambda c: c),
            "estimated_tokens": self._summary(estimate_tokens),
            "token_estimate": TOKEN_ESTIMATE_NOTE,
            "recommended_max_prompt_length": self.recommended_max_prompt_length(),
            "max_prompt_length": max_prompt_length,
            "prompts_over_max_prompt_length": None
            if max_prompt_length is None
            else self.over(max_prompt_length),
        }
