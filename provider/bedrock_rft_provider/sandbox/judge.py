"""The SIMULATED LLM judge: answers ``llm_judge``'s Converse requests from the reference it is shown.

Not a language model. A judge request (the system prompt of ``rewards/judge.py``, a user turn of
``PROMPT: ... REFERENCE: ... RESPONSE: ...``) gets a verdict derived from the reference: for a
moderation reference (``allow | flag | remove``) whether the response states exactly that label (the
same parser the verifiable reward uses), for a number whether the response's final answer equals it,
otherwise whether the normalized texts are equal. Without a REFERENCE in the request, the reference
the sandbox knows for the judged prompt (a dataset in its S3) is used. The judge then *agrees with
that verdict* with probability ``judge_accuracy`` (a sandbox knob, default 0.95), seeded per (judge
model, prompt, response) so a retry gets the same verdict and a calibration can fail when the knob is
low. A right moderation label without a justification scores 7 of 10, with one 10; a wrong verdict 0
to 2 (scaled to the requested score range). Replies say they are simulated.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

from bedrock_rft_provider.rewards.builtin import normalize_answer
from bedrock_rft_provider.rewards.contract import text_of
from bedrock_rft_provider.rewards.judge import SYSTEM_PROMPT
from bedrock_rft_provider.rewards.moderation import LABELS, parse_label
from bedrock_rft_provider.rewards.numeric import extract_answer, parse_reference, same_number
from bedrock_rft_provider.sandbox.tasks import Task, stable_seed

JUDGE_LABEL = "bedrock-rft sandbox: simulated judge verdict"
# Models the simulated judge answers besides the sandbox's base models (common judge choices).
JUDGE_MODELS = (
    "amazon.nova-pro-v1:0",
    "us.amazon.nova-pro-v1:0",
    "amazon.nova-lite-v1:0",
    "us.amazon.nova-lite-v1:0",
)
_SYSTEM_HEAD = SYSTEM_PROMPT.split("\n", 1)[0]
_RANGE = re.compile(r"number from (-?\d+(?:\.\d+)?) to (-?\d+(?:\.\d+)?)")
_PROMPT, _REFERENCE, _RESPONSE = "PROMPT:\n", "\n\nREFERENCE:\n", "\n\nRESPONSE:\n"


def is_judge_request(body: dict[str, Any]) -> bool:
    """Whether a Converse body is an ``llm_judge`` grading request."""
    return _SYSTEM_HEAD in _system_text(body) and _user_text(body).startswith(_PROMPT)


def _system_text(body: dict[str, Any]) -> str:
    system = body.get("system")
    return text_of(system) if isinstance(system, list) else ""


def _user_text(body: dict[str, Any]) -> str:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return ""
    return text_of(messages[-1].get("content"))


def split_request(text: str) -> tuple[str, str | None, str]:
    """(prompt, reference or None, response) of a judge request's user text.

    The prompt and reference come from the dataset; the response is the model's (hostile) text, so it
    is everything after the first RESPONSE marker that follows them, whatever markers it holds itself.
    """
    body = text[len(_PROMPT) :]
    response_at = body.find(_RESPONSE)
    if response_at < 0:
        return body, None, ""
    head, response = body[:response_at], body[response_at + len(_RESPONSE) :]
    prompt, found, reference = head.partition(_REFERENCE)
    return prompt, (reference if found else None), response


def verdict(reference: str, response: str) -> tuple[bool, str]:
    """Whether ``response`` is right about ``reference``, and why (one sentence)."""
    label = reference.strip().casefold()
    if label in LABELS:
        stated = parse_label(response)
        if stated == label:
            return True, f"states the reference label {label}"
        return False, f"states {stated or 'no single label'}, the reference is {label}"
    number = parse_reference(reference)
    if number is not None:
        found = extract_answer(response).number
        right = found is not None and same_number(found, number)
        return (
            right,
            "final answer matches the reference" if right else "final answer differs from the reference",
        )
    right = normalize_answer(response) == normalize_answer(reference)
    return right, "matches the reference" if right else "differs from the reference"


def _has_justification(response: str) -> bool:
    lines = [line for line in response.strip().split("\n") if line.strip()]
    return len(lines) > 1 or len(response.split()) > 4


class SimulatedJudge:
    """Answers judge requests for ``Runtime.converse`` (see the module docstring)."""

    def __init__(self, accuracy: float, seed: int, lookup: Callable[[str], Task | None]) -> None:
        self.accuracy = accuracy
        self.seed = seed
        self.lookup = lookup

    def grade(self, model_id: str, body: dict[str, Any]) -> tuple[float, str]:
        """(score in the requested range, reason) for one judge request."""
        low, high = 0.0, 10.0
        found = _RANGE.search(_system_text(body))
        if found:
            low, high = float(found.group(1)), float(found.group(2))
        prompt, reference, response = split_request(_user_text(body))
        if reference is None:
            task = self.lookup(prompt)
            reference = task.answer if task is not None else None
        if reference is None:
            return low, "(simulated judge) no reference is known for this prompt, so nothing can be verified"
        right, why = verdict(reference, response)
        rng = random.Random(stable_seed("judge", self.seed, model_id, prompt, response))
        agrees = rng.random() < self.accuracy
        if not agrees:
            right, why = not right, f"misjudged ({why})"
        if right:
            full = reference.strip().casefold() not in LABELS or _has_justification(response)
            share = 1.0 if full else 0.7
        else:
            share = rng.choice((0.0, 0.1, 0.2))
        return low + share * (high - low), f"(simulated judge) the response {why}."

    def converse(self, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A Converse response holding the verdict: a ``record_grade`` tool call when the request
        forces that tool, else a JSON object in text."""
        score, reason = self.grade(model_id, body)
        grade = {"score": round(score, 3), "reason": reason}
        tool = ((body.get("toolConfig") or {}).get("toolChoice") or {}).get("tool") or {}
        if tool.get("name"):
            use = {
                "toolUseId": f"tooluse_sandbox_{stable_seed(reason, score) % 10**10}",
                "name": tool["name"],
            }
            content: list[dict[str, Any]] = [{"toolUse": {**use, "input": grade}}]
            stop = "tool_use"
        else:
            content, stop = [{"text": json.dumps(grade)}], "end_turn"
        n_in = max(1, len(_user_text(body).split()))
        n_out = max(1, len(reason.split()) + 4)
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": {"inputTokens": n_in, "outputTokens": n_out, "totalTokens": n_in + n_out},
            "metrics": {"latencyMs": 1},
            "additionalModelResponseFields": {"sandbox": JUDGE_LABEL},
        }
