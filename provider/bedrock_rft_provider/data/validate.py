"""Validate an RFT JSONL file as Bedrock would receive it (``bedrock-rft validate-data``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.data.checks import RecordChecker
from bedrock_rft_provider.data.prepare import PROGRESS_EVERY, Progress, count_bound_problems
from bedrock_rft_provider.data.problems import DatasetValidationError, Problem
from bedrock_rft_provider.data.records import MAX_TRAINING_RECORDS, MIN_TRAINING_RECORDS
from bedrock_rft_provider.data.sources import SourceReader
from bedrock_rft_provider.data.uris import MAX_RECORD_BYTES


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating one file: problems (first 1000, plus the total), warnings, statistics."""

    source: str
    read: int
    valid: int
    problems: list[Problem]
    problem_count: int
    duplicate_prompts: int
    warnings: list[str]
    warning_count: int
    prompt_length: dict[str, Any]

    @property
    def ok(self) -> bool:
        """True when the file can be submitted as is."""
        return self.problem_count == 0


def validate_file(
    uri: str,
    *,
    min_records: int | None = MIN_TRAINING_RECORDS,
    max_records: int | None = MAX_TRAINING_RECORDS,
    require_reference_answer: bool = False,
    max_prompt_length: int | None = None,
    s3_client: Any = None,
    progress: Progress | None = None,
    max_record_bytes: int | None = MAX_RECORD_BYTES,
) -> ValidationReport:
    """Check every line of an RFT JSONL file (local or ``s3://``), streaming; never raises on bad data.

    Duplicate prompts and missing ids are warnings here (``prepare-data`` removes / assigns them).
    A UTF-8 BOM is a problem here (the file is checked as Bedrock will read it). Bounds are checked
    while streaming: a line over ``max_record_bytes`` is reported without being read into memory, and
    reading stops once more than ``max_records`` valid records were seen.
    """
    reader = SourceReader(
        "jsonl", uri, s3_client=s3_client, accept_bom=False, max_line_bytes=max_record_bytes
    )
    checker = RecordChecker(
        reader.display_name, require_reference_answer, drop_duplicate_prompts=False, warn_missing_id=True
    )
    stopped: list[Problem] = []
    try:
        for item in reader.items():
            checker.check(item)
            if progress is not None and checker.read % PROGRESS_EVERY == 0:
                progress(checker.read)
            if max_records is not None and checker.kept > max_records:
                stopped.append(
                    Problem(
                        reader.display_name,
                        None,
                        f"file has more than {max_records} records; at most {max_records} are allowed "
                        f"(max_records; stopped reading at line {item.line})",
                    )
                )
                break
    except DatasetValidationError as exc:  # unreadable input
        for problem in exc.problems:
            checker.findings.problem(problem.line, problem.message)
    findings = checker.findings
    if findings.duplicate_count:
        findings.warn(None, f"{findings.duplicate_count} duplicate prompt(s); prepare-data removes them")
    bounds = stopped or (
        []
        if findings.problem_count
        else count_bound_problems(reader.display_name, checker.kept, min_records, max_records, "file")
    )
    return ValidationReport(
        source=reader.display_name,
        read=checker.read,
        valid=checker.kept,
        problems=findings.problems + bounds,
        problem_count=findings.problem_count + len(bounds),
        duplicate_prompts=findings.duplicate_count,
        warnings=findings.warnings,
        warning_count=findings.warning_count,
        prompt_length=checker.lengths.to_dict(max_prompt_length),
    )
