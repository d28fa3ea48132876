"""Dataset problems located at ``source:line`` and the error that carries them."""

from __future__ import annotations

from dataclasses import dataclass

from bedrock_rft_provider.errors import BedrockRFTError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data: where (``source``, 1-based ``line`` when known) and what."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}" if self.line else f"{self.source}: {self.message}"


class DatasetValidationError(BedrockRFTError, ValueError):
    """The data is invalid; ``problems`` lists the first problems found, ``total`` counts all of them."""

    def __init__(self, problems: list[Problem], total: int | None = None, limit: int = 20) -> None:
        self.problems = problems
        self.total = max(total or 0, len(problems))
        shown = "\n".join(f"  {p}" for p in problems[:limit])
        more = self.total - min(len(problems), limit)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{self.total} problem(s) in the dataset:\n{shown}{tail}")

    def render(self, limit: int = 20) -> list[str]:
        """The first ``limit`` problems as ``source:line: message`` lines."""
        return [str(p) for p in self.problems[:limit]]
