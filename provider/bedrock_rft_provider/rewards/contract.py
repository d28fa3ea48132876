"""The Bedrock RFT grader contract: parse grader events into samples, render and check grader results.

Bedrock invokes the reward Lambda with a JSON list of samples and expects one result per sample, same
ids, same order (facts §2). Several details are undocumented or contradictory across AWS sources, so
parsing is deliberately lenient: ``reference_answer`` is read from ``metadata`` first, then from the
top level; it may be a string or an object; message content may be a string or a list of text blocks;
the graded turn may have the role ``assistant`` or ``nova_assistant``.

Reasoning is never the answer (one rule for every reward): ``Sample.response`` is the final answer only.
Reasoning content blocks (``{"type": "reasoning" | "thinking" | ...}``, Converse's ``reasoningContent``),
reasoning fields of the graded turn (``reasoning_content``, ``reasoning``) and ``<think>…</think>``
(also ``<thinking>``, ``<reasoning>``) spans are moved to ``Sample.reasoning``. When the text has a
closing tag, the answer is what follows the last one (a chat template may have opened the block in the
prompt); an opening tag that is never closed means the model was still thinking: no answer.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ASSISTANT_ROLES = frozenset({"assistant", "nova_assistant"})
# Keys under which an object-shaped reference answer holds its text, most specific first.
REFERENCE_TEXT_KEYS = ("final_answer", "answer", "text", "reference_answer", "solution", "value", "output")
METRIC_TYPES = frozenset({"Reward", "Metric"})
# Content blocks that carry a model's reasoning rather than its answer (OpenAI-compatible, Anthropic and
# Converse shapes); their text goes to Sample.reasoning.
REASONING_BLOCK_TYPES = frozenset(
    {"reasoning", "reasoning_content", "reasoningContent", "reasoning_text", "thinking", "redacted_thinking"}
)
REASONING_FIELDS = ("reasoning_content", "reasoning")
_THINK_OPEN = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</(?:think|thinking|reasoning)>", re.IGNORECASE)
ERROR_METRIC = "reward_error"


@dataclass(slots=True)
class Sample:
    """One graded sample, parsed from a grader event.

    ``response`` is the final answer of the graded assistant turn, its reasoning removed ("" when there
    is none); ``reasoning`` is that removed reasoning; ``reference`` is the reference answer as given (a
    string or a dict, ``None`` when absent); ``raw`` is the sample exactly as Bedrock sent it.
    """

    id: str
    response: str
    reference: str | dict[str, Any] | None
    metadata: dict[str, Any]
    raw: Any = field(default=None, repr=False, compare=False)
    reasoning: str = ""

    @property
    def prompt_messages(self) -> tuple[dict[str, str], ...]:
        """The prompt turns as ``{"role", "content"}`` with text content (the graded turn excluded)."""
        messages = self.raw.get("messages") if isinstance(self.raw, dict) else None
        parsed: list[dict[str, str]] = []
        if isinstance(messages, (list, tuple)):
            for message in messages:
                if isinstance(message, dict):
                    role = message.get("role")
                    parsed.append(
                        {
                            "role": role if isinstance(role, str) else "",
                            "content": text_of(message.get("content")),
                        }
                    )
        if parsed and parsed[-1]["role"] in ASSISTANT_ROLES:
            parsed.pop()
        return tuple(parsed)

    @property
    def prompt(self) -> str:
        """The text of the last user turn of the prompt ("" when there is none)."""
        for message in reversed(self.prompt_messages):
            if message["role"] == "user":
                return message["content"]
        return ""

    @property
    def reference_text(self) -> str | None:
        """The reference answer as text: the string itself, or the answer held by an object."""
        return reference_text(self.reference)


@dataclass(frozen=True)
class RewardResult:
    """A score with named parts: ``components`` are reported as ``Reward``, ``metrics`` as ``Metric``."""

    score: float
    components: Mapping[str, float] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)


def _is_reasoning_block(block: Any) -> bool:
    return isinstance(block, dict) and (
        block.get("type") in REASONING_BLOCK_TYPES or "reasoningContent" in block
    )


def text_of(content: Any) -> str:
    """Message content as text: a string, a ``{"text": ...}`` block, or a list of blocks.

    The one reading of message content (the evaluation runner and the sandbox import it). Text blocks
    join with no separator, because they are pieces of one message, the way Converse splits a reply;
    reasoning blocks and non-text blocks (images, tool use) are left out; anything else is ``""``.
    """
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        text = content.get("text")
        return text if isinstance(text, str) and not _is_reasoning_block(content) else ""
    if isinstance(content, (list, tuple)):
        return "".join(text_of(block) for block in content if isinstance(block, (dict, str)))
    return ""


def _block_reasoning(block: dict[str, Any]) -> str:
    converse = block.get("reasoningContent")
    if isinstance(converse, dict):  # Converse: {"reasoningContent": {"reasoningText": {"text": ...}}}
        inner = converse.get("reasoningText")
        return text_of(inner) if isinstance(inner, dict) else ""
    for key in ("text", "reasoning", "thinking", "content"):
        value = block.get(key)
        if isinstance(value, str):
            return value
    return ""


def reasoning_of(message: Any) -> str:
    """The reasoning a message carries outside its text: reasoning blocks and reasoning fields."""
    if not isinstance(message, dict):
        return ""
    parts = [message[k] for k in REASONING_FIELDS if isinstance(message.get(k), str)]
    content = message.get("content")
    blocks = content if isinstance(content, (list, tuple)) else [content]
    parts += [_block_reasoning(b) for b in blocks if isinstance(b, dict) and _is_reasoning_block(b)]
    return "\n".join(p for p in parts if p)


def split_reasoning(text: str) -> tuple[str, str]:
    """``(reasoning, answer)`` of a response that may hold ``<think>…</think>`` spans (module doc rule)."""
    if "<" not in text:
        return "", text
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        last = closes[-1]
        reasoning = _THINK_CLOSE.sub("", _THINK_OPEN.sub("", text[: last.start()]))
        return reasoning.strip(), text[last.end() :].strip()
    opened = _THINK_OPEN.search(text)
    if opened:  # never closed: the model ran out of tokens while thinking
        return text[opened.end() :].strip(), text[: opened.start()].strip()
    return "", text


def reference_text(reference: Any) -> str | None:
    """The text of a reference answer given as a string, a number or an object (searched by key)."""
    if reference is None or isinstance(reference, bool):
        return None
    if isinstance(reference, str):
        return reference
    if isinstance(reference, float):
        # Plain decimal text, never an exponent: 1e+20 -> "100000000000000000000" (graders read digits).
        return format(Decimal(repr(reference)), "f") if math.isfinite(reference) else None
    if isinstance(reference, int):
        return str(reference)
    if isinstance(reference, dict):
        for key in REFERENCE_TEXT_KEYS:
            if key in reference:
                found = reference_text(reference[key])
                if found is not None:
                    return found
    return None


def _reference_of(raw: dict[str, Any], metadata: dict[str, Any]) -> str | dict[str, Any] | None:
    for holder in (metadata, raw):
        if "reference_answer" not in holder:
            continue
        value = holder["reference_answer"]
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return reference_text(value)
    return None


def _sample_id(raw: Any, index: int) -> str:
    """The id to echo: a string id as is; a number as its text (a finite one of sane size); any other
    JSON type (object, list, bool, null, a huge or non-finite number) as the sample's position."""
    value = raw.get("id") if isinstance(raw, dict) else None
    if type(value) is str:
        return value
    if type(value) is int and value.bit_length() <= 256:
        return str(value)
    if type(value) is float and math.isfinite(value):
        return repr(value)
    return str(index)


def parse_sample(raw: Any, index: int = 0) -> Sample:
    """Parse one grader sample; never raises (a malformed sample yields an empty response)."""
    if type(raw) is dict:  # the shape Bedrock sends, read with no further checks; else the general path
        messages, metadata, sample_id = raw.get("messages"), raw.get("metadata"), raw.get("id")
        last = messages[-1] if type(messages) is list and messages else None
        if type(last) is dict and type(metadata) is dict and type(sample_id) is str:
            role, content = last.get("role"), last.get("content")
            if (
                type(content) is str
                and "<" not in content
                and type(role) is str
                and role in ASSISTANT_ROLES
                and "reasoning_content" not in last
                and "reasoning" not in last
            ):
                return Sample(sample_id, content, _reference_of(raw, metadata), metadata, raw)
    sample_id = _sample_id(raw, index)
    if not isinstance(raw, dict):
        return Sample(sample_id, "", None, {}, raw)
    metadata = raw.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    messages = raw.get("messages")
    response = reasoning = ""
    if isinstance(messages, (list, tuple)):
        last = messages[-1] if messages else None
        if not isinstance(last, dict):
            last = next((m for m in reversed(messages) if isinstance(m, dict)), None)
        if last is not None:
            role = last.get("role")
            if isinstance(role, str) and role in ASSISTANT_ROLES:
                content = last.get("content")
                tagged, response = split_reasoning(text_of(content))
                if type(content) is str and "reasoning_content" not in last and "reasoning" not in last:
                    reasoning = tagged  # the common shape: plain text, no reasoning fields or blocks
                else:
                    reasoning = "\n".join(p for p in (reasoning_of(last), tagged) if p)
    return Sample(sample_id, response, _reference_of(raw, metadata), metadata, raw, reasoning)


def grader_sample(
    sample_id: str,
    prompt_messages: Sequence[Mapping[str, Any]],
    response: str,
    reference: Any = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A grader sample shaped the way Bedrock sends it (facts §2): the prompt plus the model's turn.

    ``reference`` goes under ``metadata.reference_answer`` (where the documentation puts it), next to
    the record's other fields in ``metadata``.
    """
    meta = dict(metadata or {})
    if reference is not None:
        meta["reference_answer"] = reference
    return {
        "id": sample_id,
        "messages": [*(dict(m) for m in prompt_messages), {"role": "assistant", "content": response}],
        "metadata": meta,
    }


def samples_of(event: Any) -> list[Any]:
    """The list of raw samples in a grader event (a list; also tolerates a wrapper object or JSON text)."""
    if isinstance(event, (str, bytes, bytearray)):
        try:
            event = json.loads(event)
        except (ValueError, RecursionError):  # RecursionError: JSON text nested too deeply
            return []
    if isinstance(event, list):
        return event
    if isinstance(event, dict):
        for key in ("samples", "batch", "records", "Records"):
            if isinstance(event.get(key), list):
                return list(event[key])
        if "messages" in event or "id" in event:
            return [event]
    return []


def finite_number(value: Any) -> bool:
    """True for an int or float (not bool) that is finite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_results(samples: Sequence[Any], results: Any) -> list[str]:
    """Contract problems of a grader's ``results`` for the given input samples ([] when it is valid)."""
    if not isinstance(results, list):
        return [f"grader returned {type(results).__name__}; expected a list with one result per sample"]
    problems: list[str] = []
    if len(results) != len(samples):
        problems.append(f"grader returned {len(results)} results for {len(samples)} samples")
    for index, (sample, result) in enumerate(zip(samples, results, strict=False)):
        expected_id = _sample_id(sample, index)
        where = f"result[{index}] (id {expected_id!r})"
        if not isinstance(result, Mapping):
            problems.append(f"{where}: is {type(result).__name__}; expected an object")
            continue
        if result.get("id") != expected_id:
            problems.append(f"{where}: id is {result.get('id')!r}; expected {expected_id!r} (same order)")
        if not finite_number(result.get("aggregate_reward_score")):
            problems.append(
                f"{where}: aggregate_reward_score is {result.get('aggregate_reward_score')!r}; "
                "expected a finite number"
            )
        metrics = result.get("metrics_list", [])
        if not isinstance(metrics, list):
            problems.append(f"{where}: metrics_list is {type(metrics).__name__}; expected a list")
            continue
        for position, metric in enumerate(metrics):
            if not (
                isinstance(metric, Mapping)
                and isinstance(metric.get("name"), str)
                and finite_number(metric.get("value"))
                and metric.get("type") in METRIC_TYPES
            ):
                problems.append(
                    f"{where}: metrics_list[{position}] is {metric!r}; expected "
                    '{"name": str, "value": finite number, "type": "Reward" | "Metric"}'
                )
    return problems
