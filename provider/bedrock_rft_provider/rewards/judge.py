"""``llm_judge``: RLAIF reward — a Bedrock model grades the response against a rubric (Converse API)."""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from bedrock_rft_provider.rewards.contract import RewardResult, Sample, text_of

RETRYABLE_ERRORS = frozenset(
    {
        "ThrottlingException",
        "TooManyRequestsException",
        "ServiceUnavailableException",
        "ModelNotReadyException",
        "InternalServerException",
        "ModelTimeoutException",
    }
)
_SCORE_FIELD = re.compile(r'"?score"?\s*[:=]\s*(-?\d+(?:\.\d+)?)', re.IGNORECASE)

SYSTEM_PROMPT = """You are a strict grader.
Grade the RESPONSE to the PROMPT against the RUBRIC{reference_hint}.
Reply with one JSON object and nothing else:
{{"score": <number from {low} to {high}>, "reason": "<one sentence>"}}.

RUBRIC:
{rubric}"""


class JudgeOutputError(ValueError):
    """The judge's reply holds no usable score."""


def _json_scores(text: str) -> list[Any]:
    """The ``score`` of every JSON object in ``text`` that has one, in order."""
    decoder = json.JSONDecoder(parse_constant=_not_a_number)
    scores, position = [], text.find("{")
    while position >= 0:
        try:
            value, end = decoder.raw_decode(text, position)
        except ValueError:
            value, end = None, position + 1
        if isinstance(value, dict) and "score" in value:
            scores.append(value["score"])
        else:
            end = position + 1  # an object without a score may still hold one (nested) further in
        position = text.find("{", end)
    return scores


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a score")


def parse_judge_score(text: str, low: float, high: float) -> float:
    """The score in a judge reply (a JSON object, or ``score: N`` in prose), scaled to 0..1.

    The reply is read as hostile: it may quote the graded response, which may itself say
    ``{"score": 10}`` or ``score: 10``. So every score the reply states must agree; a reply stating two
    different scores (JSON objects, or prose ``score:`` fields when it has no JSON score), a score that
    is not a number (``"10/10"``, ``true``, ``NaN``) or one outside ``low..high`` raises
    :class:`JudgeOutputError`.
    """
    values: list[Any] = _json_scores(text) if "{" in text else []
    if not values:
        values = [float(match) for match in _SCORE_FIELD.findall(text)]
        if not values:
            raise JudgeOutputError(f"no score in judge output: {text[:200]!r}")
    if any(not isinstance(v, (int, float)) or isinstance(v, bool) for v in values):
        raise JudgeOutputError(f"judge score is not a number: {text[:200]!r}")
    if len({float(v) for v in values}) > 1:
        raise JudgeOutputError(f"judge output states different scores {values[:5]}: {text[:200]!r}")
    value = values[-1]
    if not low <= value <= high:
        raise JudgeOutputError(f"judge score {value} is outside {low}..{high}")
    return (float(value) - low) / (high - low)


def grade_tool(low: float, high: float) -> dict[str, Any]:
    """A Converse ``toolConfig`` forcing the judge to answer with ``{"score", "reason"}``."""
    schema = {
        "type": "object",
        "properties": {
            "score": {"type": "number", "minimum": low, "maximum": high},
            "reason": {"type": "string"},
        },
        "required": ["score", "reason"],
    }
    spec = {"name": "record_grade", "description": "Record the grade.", "inputSchema": {"json": schema}}
    return {"tools": [{"toolSpec": spec}], "toolChoice": {"tool": {"name": "record_grade"}}}


def reply_text(blocks: Any) -> str:
    """The judge's answer: a tool call's input as JSON when there is one, else the text blocks."""
    if not isinstance(blocks, list):
        return ""
    for block in blocks:
        if isinstance(block, dict) and isinstance(block.get("toolUse"), dict):
            return json.dumps(block["toolUse"].get("input"))
    return text_of(blocks)


def _error_code(exc: BaseException) -> str:
    # A copy of bedrock_rft_provider.errors.aws_error_code: this module runs inside the grader Lambda and
    # may import nothing else from the package (DESIGN rule 2); tests/unit/test_aws_error_code.py holds
    # the two equal.
    response: Any = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    return str(error.get("Code", "")) if isinstance(error, dict) else ""


def llm_judge(
    model_id: str,
    rubric: str,
    *,
    score_range: tuple[float, float] = (0, 10),
    region_name: str | None = None,
    client: Any = None,
    max_tokens: int = 512,
    max_attempts: int = 6,
    backoff_s: float = 1.0,
    max_workers: int = 8,
    name: str = "llm_judge",
    use_tool: bool = False,
    none_on_failure: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[Sample], RewardResult | None]:
    """A reward that asks ``model_id`` (through Bedrock Converse, temperature 0) to grade against ``rubric``.

    Throttling and transient errors are retried with exponential backoff and jitter (``max_attempts``
    calls in all); an unparseable reply scores 0.0 with ``judge_parse_error`` = 1. The boto3 client is
    created once per Lambda container unless ``client`` is given. The handler scores a batch with
    ``max_workers`` threads. ``use_tool`` forces the score through a Converse tool call (a JSON
    schema the model must fill) for models that support ``toolChoice``; otherwise the model is asked
    for a JSON object in its text. ``none_on_failure`` returns None (not applicable) instead of raising
    once Bedrock errors persist, so a :func:`composite` falls back to its other (verifiable) rewards for
    that sample; an unparseable reply scores 0.0 either way (the graded response shapes the reply).
    """
    low, high = score_range
    if not low < high:
        raise ValueError(f"score_range must be (low, high) with low < high; got {score_range}")
    clients: list[Any] = [client] if client is not None else []
    lock = threading.Lock()

    def bedrock() -> Any:
        with lock:
            if not clients:
                import boto3  # available in the Lambda Python runtime

                clients.append(boto3.client("bedrock-runtime", region_name=region_name))
            return clients[0]

    def converse(sample: Sample) -> tuple[str, int]:
        reference = sample.reference_text
        system = SYSTEM_PROMPT.format(
            reference_hint=" and the REFERENCE answer" if reference else "", low=low, high=high, rubric=rubric
        )
        user = f"PROMPT:\n{sample.prompt}\n\n"
        if reference:
            user += f"REFERENCE:\n{reference}\n\n"
        user += f"RESPONSE:\n{sample.response}"
        for attempt in range(1, max_attempts + 1):
            try:
                reply = bedrock().converse(
                    modelId=model_id,
                    system=[{"text": system}],
                    messages=[{"role": "user", "content": [{"text": user}]}],
                    inferenceConfig={"temperature": 0.0, "maxTokens": max_tokens},
                    **({"toolConfig": grade_tool(low, high)} if use_tool else {}),
                )
            except Exception as exc:
                if _error_code(exc) not in RETRYABLE_ERRORS or attempt == max_attempts:
                    raise
                sleep(backoff_s * 2 ** (attempt - 1) * (0.5 + random.random() / 2))
                continue
            blocks = reply.get("output", {}).get("message", {}).get("content", [])
            return reply_text(blocks), attempt
        raise AssertionError("unreachable")  # pragma: no cover

    def reward(sample: Sample) -> RewardResult | None:
        try:
            text, attempts = converse(sample)
        except Exception:
            if none_on_failure:
                return None
            raise
        retries = float(attempts - 1)
        try:
            score = parse_judge_score(text, low, high)
        except JudgeOutputError:
            # Scored 0 even with none_on_failure: the graded response shapes the reply, and a response
            # that leaves the judge without a verdict must not fall back to a better score without it.
            return RewardResult(0.0, {name: 0.0}, {"judge_parse_error": 1.0, "judge_retries": retries})
        return RewardResult(score, {name: score}, {"judge_parse_error": 0.0, "judge_retries": retries})

    reward.reward_name = name  # type: ignore[attr-defined]
    reward.max_workers = max_workers  # type: ignore[attr-defined]
    return reward
