"""Test-set records and model responses as the evaluation reads them from JSONL files."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.rewards.jsonl import JsonLineError, json_lines, read_json_lines

log = logging.getLogger(__name__)

# Top-level dataset fields that are not handed to the grader as metadata.
_PROMPT_FIELDS = frozenset({"id", "messages", "reference_answer", "tools"})


@dataclass(frozen=True)
class EvalRecord:
    """One prompt of the test set: what the model answers and what the grader checks against."""

    id: str
    messages: list[dict[str, Any]]
    reference_answer: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tools: list[dict[str, Any]] | None = None  # OpenAI function specs offered to the model


@dataclass(frozen=True)
class ResponseRecord:
    """One model answer for sample ``sample`` of prompt ``id``; ``error`` is set when none was produced."""

    id: str
    sample: int
    response: str | None
    error: str | None = None
    latency_ms: float | None = None
    reasoning: str | None = None  # the model's separate reasoning: shown to the grader, never scored

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.sample)


class MissingResponsesError(ConfigError):
    """Some test-set prompts have no response to score."""


def json_lines_of(path: str | Path) -> Iterator[tuple[int, Any]]:
    """``(line, value)`` of a JSONL file (``rewards.jsonl`` rules); ConfigError naming ``path:line``
    for bytes that are not UTF-8 JSON, or naming ``path`` when it cannot be read."""
    try:
        yield from read_json_lines(path)
    except JsonLineError as exc:
        raise ConfigError(exc.where, exc.message) from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read ({exc.strerror or exc})") from None


def stable_record_id(messages: Any) -> str:
    """A content hash used as the id of a record that has none, so that re-runs join on the same key."""
    digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode("utf-8")).hexdigest()
    return f"sha256-{digest[:16]}"


def load_dataset(path: str | Path) -> list[EvalRecord]:
    """Read an RFT-format JSONL test set; errors name ``file:line``."""
    path = Path(path)
    records: list[EvalRecord] = []
    seen: dict[str, int] = {}
    for line_no, obj in json_lines_of(path):
        where = f"{path}:{line_no}"
        if not isinstance(obj, dict):
            raise ConfigError(where, "expected a JSON object")
        messages = obj.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ConfigError(where, "messages must be a non-empty list of {role, content}")
        raw_id = obj.get("id")
        record_id = str(raw_id) if raw_id not in (None, "") else stable_record_id(messages)
        if record_id in seen:
            raise ConfigError(where, f"duplicate id {record_id!r} (first seen on line {seen[record_id]})")
        seen[record_id] = line_no
        metadata = {k: v for k, v in obj.items() if k not in _PROMPT_FIELDS}
        tools = obj.get("tools") if isinstance(obj.get("tools"), list) else None
        records.append(EvalRecord(record_id, messages, obj.get("reference_answer"), metadata, tools))
    if not records:
        raise ConfigError(str(path), "the test set has no records")
    return records


def parse_response(obj: Any, where: str) -> ResponseRecord:
    """Turn one decoded JSONL line into a :class:`ResponseRecord`."""
    if not isinstance(obj, dict):
        raise ConfigError(where, "expected a JSON object with id and response")
    if obj.get("id") in (None, ""):
        raise ConfigError(where, "id is missing")
    response = obj.get("response")
    error = obj.get("error")
    if response is not None and not isinstance(response, str):
        raise ConfigError(where, f"response must be a string, got {type(response).__name__}")
    if response is None and not error:
        raise ConfigError(where, "response is missing (and no error is recorded)")
    sample = obj.get("sample", 0)
    if not isinstance(sample, int) or isinstance(sample, bool) or sample < 0:
        raise ConfigError(where, f"sample must be a non-negative integer, got {sample!r}")
    latency = obj.get("latency_ms")
    if latency is not None and (
        not isinstance(latency, (int, float)) or isinstance(latency, bool) or not math.isfinite(latency)
    ):
        raise ConfigError(where, f"latency_ms must be a finite number, got {latency!r}")
    reasoning = next((obj[k] for k in ("reasoning_content", "reasoning") if obj.get(k) is not None), None)
    if reasoning is not None and not isinstance(reasoning, str):
        raise ConfigError(where, f"reasoning must be a string, got {type(reasoning).__name__}")
    return ResponseRecord(
        str(obj["id"]),
        sample,
        response,
        str(error) if error else None,
        float(latency) if latency else None,
        reasoning,
    )


def load_responses(path: str | Path) -> list[ResponseRecord]:
    """Read ``{"id", "response"[, "sample"]}`` lines; a duplicate (id, sample) is an error."""
    path = Path(path)
    responses: list[ResponseRecord] = []
    seen: dict[tuple[str, int], int] = {}
    for line_no, obj in json_lines_of(path):
        record = parse_response(obj, f"{path}:{line_no}")
        if record.key in seen:
            raise ConfigError(
                f"{path}:{line_no}",
                f"duplicate response for id {record.id!r} sample {record.sample} "
                f"(first on line {seen[record.key]})",
            )
        seen[record.key] = line_no
        responses.append(record)
    return responses


def join_responses(
    records: Iterable[EvalRecord], responses: Iterable[ResponseRecord], *, source: str = "responses"
) -> tuple[list[tuple[EvalRecord, ResponseRecord]], int]:
    """Pair every record with its responses; returns the pairs and the count of unmatched responses.

    Every record needs at least one response: a silent gap would inflate or deflate the score.
    """
    by_id: dict[str, list[ResponseRecord]] = {}
    for response in responses:
        by_id.setdefault(response.id, []).append(response)
    pairs: list[tuple[EvalRecord, ResponseRecord]] = []
    missing: list[str] = []
    record_ids: set[str] = set()
    for record in records:
        record_ids.add(record.id)
        found = sorted(by_id.get(record.id, []), key=lambda r: r.sample)
        if not found:
            missing.append(record.id)
        pairs.extend((record, response) for response in found)
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise MissingResponsesError(source, f"{len(missing)} test record(s) have no response: {shown}{more}")
    unmatched = sum(len(v) for k, v in by_id.items() if k not in record_ids)
    return pairs, unmatched


def finished_keys(path: Path, model_id: str | None = None) -> set[tuple[str, int]]:
    """Keys already answered in ``path``; a line cut short by a killed process is dropped.

    Answers recorded for another ``model_id`` are never mixed in: the file is emptied instead.
    """
    if not path.exists():
        return set()
    raw = path.read_bytes()
    good_end = raw.rfind(b"\n") + 1
    if good_end < len(raw):
        with path.open("r+b") as handle:
            handle.truncate(good_end)
    try:
        answered = [
            (obj, (str(obj["id"]), int(obj.get("sample", 0))))
            for _, obj in json_lines(raw[:good_end], str(path))
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(str(path), f"cannot resume: a line is not a response record ({exc})") from exc
    done: set[tuple[str, int]] = set()
    for obj, key in answered:
        if model_id is not None and obj.get("model", model_id) != model_id:
            log.warning("%s holds answers of %s, not %s: starting afresh", path, obj["model"], model_id)
            path.write_bytes(b"")
            return set()
        done.add(key)
    return done
