"""The simulated policy: a tiny softmax policy over response styles that RFT can actually move.

SIMULATED, not a language model. For a prompt whose right answer is known the policy picks one action
from its task family's action space (``sandbox/families/``; for math: answer format x right/wrong x
length) and renders a short response from it. Logits are shared across prompts of a family, plus a
fixed per-prompt skill offset on the "right" actions, so some prompts are easy and some hard.
Training updates the shared logits with group-relative advantages (GRPO-style) of rewards that the
user's real reward function computed, so the curve depends only on what that reward function rewards.
"""

from __future__ import annotations

import math
import random
from typing import Any

from bedrock_rft_provider.sandbox.families import ActionSpace, space_for
from bedrock_rft_provider.sandbox.families.math import ACTIONS, CORRECTNESS, FORMATS, LENGTHS
from bedrock_rft_provider.sandbox.tasks import (
    Task,
    numeric_answer,
    prompt_key,
    stable_seed,
    task_for,
    text_answer,
)

__all__ = [
    "ACTIONS",
    "CORRECTNESS",
    "FORMATS",
    "LENGTHS",
    "SimulatedPolicy",
    "Task",
    "canonical_model_family",
    "numeric_answer",
    "prompt_key",
    "render",
    "stable_seed",
    "task_for",
    "text_answer",
    "token_count",
    "truncate",
]
_REGION_PREFIXES = ("us.", "eu.", "apac.", "global.", "jp.", "au.", "ca.")


def canonical_model_family(model_id: str) -> str:
    """``us.amazon.nova-2-lite-v1:0`` and ``amazon.nova-2-lite-v1:0:256k`` share one base policy."""
    model_id = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    for prefix in _REGION_PREFIXES:
        if model_id.startswith(prefix):
            model_id = model_id[len(prefix) :]
    return ":".join(model_id.split(":")[:2])


class SimulatedPolicy:
    """Shared logits per task family plus a per-prompt skill; seeded, copyable, serializable.

    ``logits`` is the math family's vector (the one every policy has); other families' vectors are
    drawn on first use from the same seed, so a base model answers every family the same way in
    every process.
    """

    def __init__(
        self,
        family: str,
        seed: int,
        logits: list[float] | None = None,
        family_logits: dict[str, list[float]] | None = None,
    ) -> None:
        self.family = family
        self.seed = seed
        self._by_kind: dict[str, list[float]] = {k: list(v) for k, v in (family_logits or {}).items()}
        if logits is not None:
            self._by_kind["math"] = list(logits)
        self._logits_of("math")

    @property
    def logits(self) -> list[float]:
        """The math family's logits over ``ACTIONS``."""
        return self._by_kind["math"]

    @logits.setter
    def logits(self, value: list[float]) -> None:
        self._by_kind["math"] = list(value)

    def _logits_of(self, kind: str) -> list[float]:
        space = space_for(kind)
        if space.kind not in self._by_kind:
            # math keeps its historical seed so existing sandbox stories do not change
            parts = ("base-policy", self.family, self.seed) + (() if space.kind == "math" else (space.kind,))
            self._by_kind[space.kind] = space.initial_logits(random.Random(stable_seed(*parts)))
        return self._by_kind[space.kind]

    def copy(self) -> SimulatedPolicy:
        return SimulatedPolicy(self.family, self.seed, family_logits=self._by_kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "seed": self.seed,
            "logits": list(self.logits),
            "family_logits": {k: list(v) for k, v in self._by_kind.items()},
        }

    def skill(self, task: Task) -> float:
        """Fixed per-prompt ease of getting the answer right (some prompts are hard for this model)."""
        return random.Random(stable_seed("skill", self.family, self.seed, task.key)).gauss(0.0, 1.2)

    def actions(self, task: Task) -> tuple[tuple[str, ...], ...]:
        """The labels of the actions this task's family can take (index = action)."""
        return space_for(task.kind).actions

    def probabilities(self, task: Task, temperature: float = 1.0) -> list[float]:
        space: ActionSpace = space_for(task.kind)
        bonus = self.skill(task) if task.answer is not None else -50.0
        scaled = [
            (logit + (bonus if i in space.right else 0.0)) / max(temperature, 0.05)
            for i, logit in enumerate(self._logits_of(task.kind))
        ]
        top = max(scaled)
        weights = [math.exp(v - top) for v in scaled]
        total = sum(weights)
        return [w / total for w in weights]

    def entropy(self, task: Task) -> float:
        return -sum(p * math.log(p) for p in self.probabilities(task) if p > 0)

    def sample(self, task: Task, rng: random.Random, temperature: float = 1.0) -> int:
        probs = self.probabilities(task, temperature)
        return rng.choices(range(len(probs)), weights=probs)[0]

    def greedy(self, task: Task) -> int:
        probs = self.probabilities(task)
        return max(range(len(probs)), key=lambda i: probs[i])

    def update(
        self, groups: list[tuple[Task, list[int], list[float]]], learning_rate: float
    ) -> dict[str, float]:
        """One policy-gradient step from group-relative advantages (reward - group mean) / group std.

        Groups may mix task families; each family's logits move by the gradient of its own groups.
        Returns the step's statistics, computed from the same numbers the step used: ``pg_loss`` (mean
        of -advantage x log-probability over the samples), ``grad_norm`` (L2 norm of the logit
        gradient) and ``advantages_mean`` (0 up to rounding when every group has signal; groups whose
        samples all scored the same contribute no advantage).
        """
        # Simulated learning speed: grows with the square root of learningRate (1e-5 -> 1.5).
        step = min(max(1.5 * math.sqrt(learning_rate / 1e-5), 0.1), 5.0)
        gradients: dict[str, list[float]] = {}
        losses: list[float] = []
        advantages: list[float] = []
        for task, actions, rewards in groups:
            kind = space_for(task.kind).kind
            gradient = gradients.setdefault(kind, [0.0] * len(self._logits_of(kind)))
            mean = sum(rewards) / len(rewards)
            std = math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards))
            if std < 1e-9:
                advantages.extend(0.0 for _ in rewards)
                continue  # every sample scored the same: no signal from this prompt
            probs = self.probabilities(task)
            for action, reward in zip(actions, rewards, strict=False):
                advantage = (reward - mean) / std
                advantages.append(advantage)
                losses.append(-advantage * math.log(max(probs[action], 1e-12)))
                for i, p in enumerate(probs):
                    gradient[i] += advantage * ((1.0 if i == action else 0.0) - p) / len(actions)
        norm_sq = 0.0
        for kind, gradient in gradients.items():
            scaled = [g / len(groups) for g in gradient]
            norm_sq += sum(g * g for g in scaled)
            self._by_kind[kind] = [v + step * g for v, g in zip(self._by_kind[kind], scaled, strict=False)]
        return {
            "pg_loss": sum(losses) / len(losses) if losses else 0.0,
            "grad_norm": math.sqrt(norm_sq),
            "advantages_mean": sum(advantages) / len(advantages) if advantages else 0.0,
        }


def render(task: Task, action: int, rng: random.Random) -> str:
    """The response text for one action on one task (deterministic for a given ``rng`` state)."""
    return space_for(task.kind).render(task, action, rng)


def token_count(text: str) -> int:
    """A rough token estimate (about 1.3 tokens per word), enough for usage and length metrics."""
    return max(1, round(len(text.split()) * 1.3))


def truncate(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """Cut a response at ``max_tokens`` (estimated) as generation would; (text, was_cut)."""
    if max_tokens is None or token_count(text) <= max_tokens:
        return text, False
    return " ".join(text.split()[: max(1, int(max_tokens / 1.3))]), True
