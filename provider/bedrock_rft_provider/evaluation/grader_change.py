"""Grader-change backtest: did the deployed grader change what a reward means since the champion was scored?

The champion record keeps the grader it was evaluated with (``grader``: its Lambda version ARN and
``CodeSha256``). When the deployed grader's code hash differs, the champion's stored evaluation
responses are re-scored with the old version and with the new one; if more than
``max_changed_share`` of them move by more than ``score_tolerance``, training against the new grader
would optimise a different objective than the one the champion won on, so the run stops before any
paid training unless the change is declared intended. Pure: the scores come in, a verdict goes out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.defaults import DEFAULT_MAX_CHANGED_SHARE, DEFAULT_SCORE_TOLERANCE

if TYPE_CHECKING:
    from bedrock_rft_provider.evaluation.scoring import SampleResult

EXCERPT_CHARS = 160  # responses are model output: shown only as a bounded, repr-escaped excerpt


@dataclass(frozen=True)
class ScoreChange:
    """One stored response whose score differs between the old and the new grader."""

    id: str
    sample: int
    old: float
    new: float
    response: str = ""

    def describe(self) -> str:
        excerpt = f" response {self.response!r}" if self.response else ""
        return f"id {self.id!r} sample {self.sample}: {self.old:.3g} -> {self.new:.3g}{excerpt}"


@dataclass(frozen=True)
class Backtest:
    """Old vs new grader on the champion's responses; ``blocked`` when they disagree beyond the threshold."""

    n: int
    changed: tuple[ScoreChange, ...]
    max_changed_share: float
    score_tolerance: float
    mean_old: float
    mean_new: float

    @property
    def share(self) -> float:
        return len(self.changed) / self.n if self.n else 0.0

    @property
    def blocked(self) -> bool:
        return self.share > self.max_changed_share

    def message(self, examples: int = 5) -> str:
        """What changed, with up to ``examples`` examples, and what to do about it."""
        head = (
            f"The grader's code changed since the champion was evaluated, and it scores "
            f"{len(self.changed)} of {self.n} of the champion's stored responses differently "
            f"({self.share:.1%} > allowed {self.max_changed_share:.1%}); mean reward "
            f"{self.mean_old:.3f} (old grader) vs {self.mean_new:.3f} (new grader)."
        )
        if not self.blocked:
            head = head.replace(" > allowed ", " <= allowed ")
        lines = [head, *(f"  - {c.describe()}" for c in self.changed[:examples])]
        if len(self.changed) > examples:
            lines.append(f"  - ... and {len(self.changed) - examples} more")
        if self.blocked:
            lines.append(
                "Training against it would optimise a different reward than the champion won on. If the "
                "change is intended, rerun with allow_grader_change=True (DAG param allow_grader_change)."
            )
        return "\n".join(lines)

    def as_dict(self, examples: int = 20) -> dict[str, Any]:
        return {
            "n": self.n,
            "changed": len(self.changed),
            "share": self.share,
            "blocked": self.blocked,
            "max_changed_share": self.max_changed_share,
            "score_tolerance": self.score_tolerance,
            "mean_old": self.mean_old,
            "mean_new": self.mean_new,
            "examples": [c.__dict__ for c in self.changed[:examples]],
        }


def compare(
    old: Sequence[SampleResult],
    new: Sequence[SampleResult],
    *,
    responses: Mapping[tuple[str, int], str | None] | None = None,
    max_changed_share: float = DEFAULT_MAX_CHANGED_SHARE,
    score_tolerance: float = DEFAULT_SCORE_TOLERANCE,
) -> Backtest:
    """Pair the two scorings by (id, sample) and count the responses whose score moved.

    :raises ConfigError: the scorings do not cover the same responses, or a threshold is out of range.
    """
    if not 0 <= max_changed_share <= 1:
        raise ConfigError("max_changed_share", f"{max_changed_share!r} must be between 0 and 1")
    if not score_tolerance >= 0:
        raise ConfigError("score_tolerance", f"{score_tolerance!r} must be 0 or more")
    new_by_key = {(r.id, r.sample): r for r in new}
    if len(new_by_key) != len(old) or any((r.id, r.sample) not in new_by_key for r in old):
        raise ConfigError("responses", "the old and new grader scored different responses")
    responses = responses or {}
    changed = []
    for before in old:
        after = new_by_key[(before.id, before.sample)]
        if abs(after.score - before.score) > score_tolerance:
            text = responses.get((before.id, before.sample)) or ""
            excerpt = text[:EXCERPT_CHARS] + ("..." if len(text) > EXCERPT_CHARS else "")
            changed.append(ScoreChange(before.id, before.sample, before.score, after.score, excerpt))
    n = len(old)
    mean_old = sum(r.score for r in old) / n if n else 0.0
    mean_new = sum(r.score for r in new) / n if n else 0.0
    return Backtest(n, tuple(changed), max_changed_share, score_tolerance, mean_old, mean_new)


def grader_identity(lambda_version_arn: str, code_sha256: str) -> dict[str, str]:
    """What a champion record keeps about the grader it was evaluated with (``record["grader"]``)."""
    return {"lambda_arn": lambda_version_arn, "code_sha256": code_sha256}


def version_arn(configuration: Mapping[str, Any]) -> str:
    """The version-qualified ARN of a ``GetFunctionConfiguration`` answer (an alias resolves to its
    version, which stays invocable after the alias moves on); unqualified for ``$LATEST``."""
    arn = str(configuration.get("FunctionArn") or "")
    version = str(configuration.get("Version") or "$LATEST")
    base = ":".join(arn.split(":")[:7])  # arn:aws:lambda:<region>:<account>:function:<name>
    return base if version == "$LATEST" else f"{base}:{version}"
