"""The simulated policy: a tiny softmax policy over answer styles that RFT can actually move.

SIMULATED, not a language model. For a prompt whose right answer is known (a number, or a text answer)
the policy picks one action = (answer format, right or wrong answer, length) and renders a short
response from it. Logits are shared across prompts plus a fixed per-prompt skill offset on the "right"
actions, so some prompts are easy and some hard. Training updates the shared logits with group-relative
advantages (GRPO-style) of rewards that the user's real reward function computed, so the curve depends
only on what that reward function rewards.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass
from typing import Any

FORMATS = ("hash", "answer_is", "boxed", "bare", "none")
CORRECTNESS = ("right", "wrong")
LENGTHS = ("short", "medium", "long")
ACTIONS: tuple[tuple[str, str, str], ...] = tuple(
    (fmt, correct, length) for fmt in FORMATS for correct in CORRECTNESS for length in LENGTHS
)
_SENTENCES_PER_LENGTH = {"short": 1, "medium": 3, "long": 7}
_FILLER = (
    "Let me read the problem carefully.",
    "First I list the quantities the question gives.",
    "Next I combine them in the order the problem describes.",
    "I check each operation once more.",
    "The units stay consistent throughout.",
    "Now I compare the result with what the question asks.",
    "Everything is consistent.",
    "So I can state the result.",
)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_REGION_PREFIXES = ("us.", "eu.", "apac.", "global.", "jp.", "au.", "ca.")


def stable_seed(*parts: object) -> int:
    """A process-independent integer seed from any parts (Python's hash() is salted per process)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def canonical_model_family(model_id: str) -> str:
    """``us.amazon.nova-2-lite-v1:0`` and ``amazon.nova-2-lite-v1:0:256k`` share one base policy."""
    model_id = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    for prefix in _REGION_PREFIXES:
        if model_id.startswith(prefix):
            model_id = model_id[len(prefix) :]
    return ":".join(model_id.split(":")[:2])


def prompt_key(text: str) -> str:
    """Normalized prompt text used to recognise a prompt across datasets and requests."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Task:
    """A prompt the policy answers; ``answer`` is None when the sandbox does not know the right answer."""

    key: str
    answer: str | None
    numeric: bool
    distractor: str = "I do not know"


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def numeric_answer(reference: Any) -> str | None:
    """The final number of a reference answer (string, number, or dict), or None for a text answer."""
    if isinstance(reference, bool):
        return None
    if isinstance(reference, (int, float)):
        return _format_number(float(reference))
    if isinstance(reference, dict):
        for key in ("final_answer", "answer", "text", "value", "reference_answer"):
            if key in reference:
                return numeric_answer(reference[key])
        return None
    if isinstance(reference, str):
        text = reference.split("####")[-1] if "####" in reference else reference
        text = text.strip().rstrip(".")
        if "####" in reference or _NUMBER.fullmatch(text.replace("$", "").strip()):
            found = _NUMBER.findall(text)
            if found:
                return _format_number(float(found[-1].replace(",", "")))
    return None


def text_answer(reference: Any) -> str | None:
    """The text of a non-numeric reference answer, or None when there is nothing usable."""
    if isinstance(reference, dict):
        for key in ("final_answer", "answer", "text", "value", "reference_answer"):
            if key in reference:
                return text_answer(reference[key])
        return None
    if isinstance(reference, str) and reference.strip():
        return reference.strip()
    return None


def task_for(prompt_text: str, reference: Any, distractor: str = "I do not know") -> Task:
    """Build a task from a prompt and its ``reference_answer`` in any accepted shape."""
    number = numeric_answer(reference)
    if number is not None:
        return Task(prompt_key(prompt_text), number, True)
    return Task(prompt_key(prompt_text), text_answer(reference), False, distractor)


class SimulatedPolicy:
    """Shared logits over ``ACTIONS`` plus a per-prompt skill; seeded, copyable, serializable."""

    def __init__(self, family: str, seed: int, logits: list[float] | None = None) -> None:
        self.family = family
        self.seed = seed
        self.logits = list(logits) if logits is not None else self._initial_logits()

    def _initial_logits(self) -> list[float]:
        rng = random.Random(stable_seed("base-policy", self.family, self.seed))
        fmt = {"hash": 0.2, "answer_is": 0.5, "boxed": -0.3, "bare": -0.4, "none": 0.1}
        length = {"short": 0.0, "medium": 0.3, "long": 0.1}
        noise = {name: rng.gauss(0.0, 0.25) for name in (*FORMATS, *LENGTHS, *CORRECTNESS)}
        return [
            fmt[f] + noise[f] + length[ln] + noise[ln] + noise[c] + (0.0 if c == "right" else 0.3)
            for f, c, ln in ACTIONS
        ]

    def copy(self) -> SimulatedPolicy:
        return SimulatedPolicy(self.family, self.seed, self.logits)

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "seed": self.seed, "logits": list(self.logits)}

    def skill(self, task: Task) -> float:
        """Fixed per-prompt ease of getting the answer right (some prompts are hard for this model)."""
        return random.Random(stable_seed("skill", self.family, self.seed, task.key)).gauss(0.0, 1.2)

    def probabilities(self, task: Task, temperature: float = 1.0) -> list[float]:
        bonus = self.skill(task) if task.answer is not None else -50.0
        scaled = [
            (logit + (bonus if action[1] == "right" else 0.0)) / max(temperature, 0.05)
            for logit, action in zip(self.logits, ACTIONS, strict=False)
        ]
        top = max(scaled)
        weights = [math.exp(v - top) for v in scaled]
        total = sum(weights)
        return [w / total for w in weights]

    def entropy(self, task: Task) -> float:
        return -sum(p * math.log(p) for p in self.probabilities(task) if p > 0)

    def sample(self, task: Task, rng: random.Random, temperature: float = 1.0) -> int:
        return rng.choices(range(len(ACTIONS)), weights=self.probabilities(task, temperature))[0]

    def greedy(self, task: Task) -> int:
        probs = self.probabilities(task)
        return max(range(len(ACTIONS)), key=lambda i: probs[i])

    def update(
        self, groups: list[tuple[Task, list[int], list[float]]], learning_rate: float
    ) -> dict[str, float]:
        """One policy-gradient step from group-relative advantages (reward - group mean) / group std.

        Returns the step's statistics, computed from the same numbers the step used: ``pg_loss`` (mean
        of -advantage x log-probability over the samples), ``grad_norm`` (L2 norm of the logit
        gradient) and ``advantages_mean`` (0 up to rounding when every group has signal; groups whose
        samples all scored the same contribute no advantage).
        """
        # Simulated learning speed: grows with the square root of learningRate (1e-5 -> 1.5).
        step = min(max(1.5 * math.sqrt(learning_rate / 1e-5), 0.1), 5.0)
        gradient = [0.0] * len(ACTIONS)
        losses: list[float] = []
        advantages: list[float] = []
        for task, actions, rewards in groups:
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
        if groups:
            gradient = [g / len(groups) for g in gradient]
            self.logits = [v + step * g for v, g in zip(self.logits, gradient, strict=False)]
        return {
            "pg_loss": sum(losses) / len(losses) if losses else 0.0,
            "grad_norm": math.sqrt(sum(g * g for g in gradient)),
            "advantages_mean": sum(advantages) / len(advantages) if advantages else 0.0,
        }


def render(task: Task, action: int, rng: random.Random) -> str:
    """The response text for one action on one task (deterministic for a given ``rng`` state)."""
    fmt, correct, length = ACTIONS[action]
    count = _SENTENCES_PER_LENGTH[length]
    start = rng.randrange(len(_FILLER))
    lines = [_FILLER[(start + i) % len(_FILLER)] for i in range(count)]
    answer = _answer_text(task, correct, rng)
    closing = {
        "hash": f"#### {answer}",
        "answer_is": f"The answer is {answer}.",
        "boxed": f"The final answer is \\boxed{{{answer}}}.",
        "bare": answer,
        "none": "I am not certain of the final value.",
    }[fmt]
    return "\n".join([*lines, closing])


def _answer_text(task: Task, correct: str, rng: random.Random) -> str:
    if task.answer is None:
        # Unknown prompt: the simulated model cannot know the answer; it guesses a number.
        return str(random.Random(stable_seed("guess", task.key)).randrange(2, 500))
    if correct == "right":
        return task.answer
    if task.numeric:
        value = float(task.answer)
        wrong = value + rng.choice((-10, -3, -2, -1, 1, 2, 3, 10))
        return _format_number(wrong)
    return task.distractor


def token_count(text: str) -> int:
    """A rough token estimate (about 1.3 tokens per word), enough for usage and length metrics."""
    return max(1, round(len(text.split()) * 1.3))


def truncate(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """Cut a response at ``max_tokens`` (estimated) as generation would; (text, was_cut)."""
    if max_tokens is None or token_count(text) <= max_tokens:
        return text, False
    return " ".join(text.split()[: max(1, int(max_tokens / 1.3))]), True
