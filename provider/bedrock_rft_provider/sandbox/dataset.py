"""The emulated service-side check of an RFT dataset (what Bedrock's validation stage rejects).

Per-record rules are the provider's own (``bedrock_rft_provider.data.records.validate_record``, from
reference/bedrock-rft-facts.md section 1), so a file the provider accepts is one the sandbox accepts;
so are the service's record-count limits (``MIN_TRAINING_RECORDS`` to ``MAX_TRAINING_RECORDS``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from bedrock_rft_provider.data.records import MAX_TRAINING_RECORDS, MIN_TRAINING_RECORDS, validate_record
from bedrock_rft_provider.rewards.contract import text_of
from bedrock_rft_provider.rewards.jsonl import json_lines
from bedrock_rft_provider.sandbox.families import task_of_record
from bedrock_rft_provider.sandbox.tasks import Task, prompt_key


@dataclass
class Dataset:
    """Parsed records, with the problems the validation stage found (``file:line: message``)."""

    uri: str
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_dataset(uri: str, body: bytes, *, min_records: int = MIN_TRAINING_RECORDS) -> Dataset:
    """Parse and check one JSONL file; every problem is reported, not just the first."""
    dataset = Dataset(uri)
    name = uri.rsplit("/", 1)[-1]
    for number, record in json_lines(body, name, on_error=lambda exc: dataset.problems.append(str(exc))):
        problems = validate_record(record)
        dataset.problems.extend(f"{name}:{number}: {p}" for p in problems)
        if not problems:
            dataset.records.append(record)
    count = len(dataset.records)
    if not dataset.problems and count < min_records:
        dataset.problems.append(
            f"{name} has {count} valid records; reinforcement fine-tuning needs at least {min_records}"
        )
    if count > MAX_TRAINING_RECORDS:
        dataset.problems.append(f"{name} has {count} records; the maximum is {MAX_TRAINING_RECORDS}")
    return dataset


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """The text of the last user turn (``text_of``: a string, or text blocks joined)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return text_of(message.get("content"))
    return ""


def record_task(record: dict[str, Any], distractor: str = "I do not know") -> Task:
    """The policy task of a dataset record: its family's reading of the prompt and reference.

    ``distractor`` is the wrong answer a math-family text task gives (another record's answer).
    """
    task = task_of_record(last_user_text(record["messages"]), record)
    if task.kind == "math" and not task.numeric:
        task = replace(task, distractor=distractor)
    return task


def grader_metadata(record: dict[str, Any]) -> dict[str, Any]:
    """``metadata`` of a grader event: ``reference_answer`` and every other extra top-level field."""
    return {k: v for k, v in record.items() if k != "messages"}


class AnswerIndex:
    """Prompts the sandbox has seen in JSONL datasets in its S3, mapped to their reference answers.

    The simulated model can only be right about prompts whose answer some dataset in the sandbox holds.
    When several datasets hold the same prompt (with different references or tools), the one indexed
    last wins: a dataset written (or rewritten) later is what the model "learned" most recently, and a
    caller that uploads its records and then asks sees its own, whatever else the sandbox holds.
    """

    def __init__(self) -> None:
        self._by_object: dict[str, tuple[str, dict[str, Task]]] = {}
        self._lock = threading.Lock()

    def add_records(self, source: str, version: str, records: list[dict[str, Any]]) -> None:
        tasks: dict[str, Task] = {}
        for record in records:
            if isinstance(record, dict) and isinstance(record.get("messages"), list):
                task = record_task(record)
                if task.answer is not None:
                    tasks[task.key] = task
        with self._lock:
            self._by_object.pop(source, None)  # a rewritten object moves to the newest place
            self._by_object[source] = (version, tasks)

    def lookup(self, prompt_text: str) -> Task | None:
        key = prompt_key(prompt_text)
        with self._lock:
            indexed = list(self._by_object.values())
        for _, tasks in reversed(indexed):  # newest first
            if key in tasks:
                return tasks[key]
        return None

    def refresh_from_s3(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        """Index every ``*.jsonl`` object in the sandbox's S3 that changed since the last refresh."""
        from bedrock_rft_provider.sandbox import moto_state

        for uri, etag, read in moto_state.iter_objects(".jsonl", max_bytes):
            with self._lock:
                known = self._by_object.get(uri)
            if known is not None and known[0] == etag:
                continue
            records = [record for _, record in json_lines(read(), uri, on_error=lambda _: None)]
            self.add_records(uri, etag, records)
