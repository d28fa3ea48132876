"""The streaming record checker shared by validation and preparation: rules, duplicates, ids, lengths."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from bedrock_rft_provider.data.keyset import KeySet
from bedrock_rft_provider.data.problems import Problem
from bedrock_rft_provider.data.records import content_id, prompt_key_and_chars, prompt_text, validate_record
from bedrock_rft_provider.data.sources import SourceItem
from bedrock_rft_provider.data.stats import PromptLengthStats

EXAMPLE_LIMIT = 20
PROBLEM_LIMIT = 1000


@dataclass
class Findings:
    """What a pass over the data found: problems (capped, with the total), drops, warnings."""

    source: str
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    duplicates: list[str] = field(default_factory=list)
    duplicate_count: int = 0
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0

    def problem(self, line: int | None, message: str) -> None:
        """Record a problem (only the first PROBLEM_LIMIT are kept; all are counted)."""
        self.problem_count += 1
        if len(self.problems) < PROBLEM_LIMIT:
            self.problems.append(Problem(self.source, line, message))

    def warn(self, line: int | None, message: str) -> None:
        """Record a warning (not fatal)."""
        self.warning_count += 1
        if len(self.warnings) < EXAMPLE_LIMIT:
            self.warnings.append(str(Problem(self.source, line, message)))

    def duplicate(self, line: int | None, record_id: str) -> None:
        """Record a removed duplicate prompt."""
        self.duplicate_count += 1
        if len(self.duplicates) < EXAMPLE_LIMIT:
            self.duplicates.append(
                str(Problem(self.source, line, f'prompt of "{record_id}" repeats an earlier one'))
            )


@dataclass
class RecordChecker:
    """Checks records one at a time; per-record memory is two 64-bit digests in compact KeySets."""

    source: str
    require_reference_answer: bool = False
    drop_duplicate_prompts: bool = True
    warn_missing_id: bool = False
    findings: Findings = field(init=False)
    lengths: PromptLengthStats = field(default_factory=PromptLengthStats)
    read: int = 0
    kept: int = 0
    _prompts: KeySet = field(default_factory=KeySet, repr=False)
    _ids: KeySet = field(default_factory=KeySet, repr=False)

    def __post_init__(self) -> None:
        self.findings = Findings(self.source)

    def reject(self, line: int | None, message: str) -> None:
        """Turn a record :meth:`check` kept into a problem (e.g. too large once encoded)."""
        self.kept -= 1
        self.findings.problem(line, message)

    def accept_block(self, ids: list[str], prompts: list[str]) -> bool:
        """Count in a block of records already known valid, each one user message ``prompts[i]`` with
        id ``ids[i]``, as :meth:`check` would: True, or False with nothing changed when a prompt or an
        id repeats (then :meth:`check` them one at a time, to report each at its line)."""
        prompt_keys = list(map(hash, zip(repeat("user"), prompts)))  # as prompt_key_and_chars
        if not self._prompts.add_all(prompt_keys):
            return False
        if not self._ids.add_all(list(map(hash, ids))):
            self._prompts.discard_all(prompt_keys)
            return False
        self.lengths.add_many(map(len, prompts))
        self.read += len(ids)
        self.kept += len(ids)
        return True

    def check(self, item: SourceItem) -> dict[str, Any] | None:
        """The record to keep (with an id assigned when missing), or None (problem or duplicate)."""
        self.read += 1
        record = item.record
        if item.error is not None or record is None:
            self.findings.problem(item.line, item.error or "no record")
            return None
        errors = validate_record(record, self.require_reference_answer, unicode_ok=item.strict_json)
        if errors:
            for message in errors:
                self.findings.problem(item.line, message)
            return None
        messages = record["messages"]  # a valid record is a dict with a valid messages list
        record_id = record.get("id")  # a str when present: validate_record rejects anything else
        if record_id is None:
            if self.warn_missing_id:
                self.findings.warn(item.line, "id is missing; give every record a stable id")
            record_id = content_id(prompt_text(messages))
            record = {"id": record_id, **record}
        if not self.require_reference_answer and "reference_answer" not in record:
            self.findings.warn(item.line, "reference_answer is missing; a verifiable grader needs one")
        prompt_key, chars = prompt_key_and_chars(messages)
        if not self._prompts.add(prompt_key):
            self.findings.duplicate(item.line, record_id)
            if self.drop_duplicate_prompts:
                return None
        if not self._ids.add(hash(record_id)):
            self.findings.problem(
                item.line, f'id "{record_id}" is used by an earlier record; ids must be unique'
            )
            return None
        self.lengths.add(chars)
        self.kept += 1
        return record
