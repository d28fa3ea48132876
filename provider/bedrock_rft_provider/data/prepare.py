"""Prepare an RFT dataset end to end: read, convert, validate, dedupe, split, write (atomically).

Nothing is written when the input is invalid: records stream into a hidden temporary directory next
to the output, which replaces the output folder whole (or is uploaded to S3) only after the whole input
passed (:mod:`bedrock_rft_provider.outputs`). Bounds are checked while streaming: reading stops as soon as
the training split exceeds ``max_records``, and a record over ``max_record_bytes`` is rejected at its line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bedrock_rft_provider.data.blockpath import BlockPath
from bedrock_rft_provider.data.checks import RecordChecker
from bedrock_rft_provider.data.problems import DatasetValidationError, Problem
from bedrock_rft_provider.data.publish import publish_to_s3
from bedrock_rft_provider.data.records import MAX_TRAINING_RECORDS, MIN_TRAINING_RECORDS
from bedrock_rft_provider.data.sources import SourceReader
from bedrock_rft_provider.data.split import SPLITS, block_splitter, check_fractions
from bedrock_rft_provider.data.splitfiles import FILES, SplitWriter, encode_line
from bedrock_rft_provider.data.tabular import ColumnMapping
from bedrock_rft_provider.data.uris import MAX_RECORD_BYTES, is_s3_uri
from bedrock_rft_provider.outputs import OutputError, check_output_dir, staged_dir

REPORT_FORMAT = "bedrock-rft-dataset-report/1"
REPORT_FILE = "report.json"
PROGRESS_EVERY = 5000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class PrepareOptions:
    """Split, bounds and checks; ``min_records``/``max_records`` bound the training split (None: none)."""

    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 0
    min_records: int | None = MIN_TRAINING_RECORDS
    max_records: int | None = MAX_TRAINING_RECORDS
    max_prompt_length: int | None = None
    require_reference_answer: bool = False
    skip_invalid: bool = False  # drop invalid records (listed in the report) instead of failing
    max_record_bytes: int | None = MAX_RECORD_BYTES  # one record as a JSON line; see data.uris

    def check(self) -> list[str]:
        """Problems with the options themselves (empty when valid)."""
        problems = check_fractions(self.val_fraction, self.test_fraction)
        for name in ("min_records", "max_records", "max_prompt_length", "max_record_bytes"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                problems.append(f"{name} = {value!r}; expected a non-negative integer or None")
        if (
            self.min_records is not None
            and self.max_records is not None
            and self.min_records > self.max_records
        ):
            problems.append(f"min_records = {self.min_records} is above max_records = {self.max_records}")
        return problems


@dataclass(frozen=True)
class PreparedDataset:
    """Where the prepared files are, their content hash, counts, the full report, and whether reused."""

    train_uri: str
    validation_uri: str
    test_uri: str
    report_uri: str
    sha256: str
    counts: dict[str, int]
    report: dict[str, Any] = field(repr=False)
    reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A small, JSON-friendly summary (the operator's return value; no full report)."""
        summary = asdict(self)
        summary.pop("report")
        return summary


def record_size_message(size: int, maximum: int) -> str:
    """The problem text for a record over ``max_record_bytes``."""
    return (
        f"record is {size:,} bytes; at most {maximum:,} are allowed (max_record_bytes: a grader Lambda "
        "invocation carries at most 6 MB)"
    )


def count_bound_problems(
    source: str, count: int, minimum: int | None, maximum: int | None, what: str
) -> list[Problem]:
    """Problems when ``count`` records fall outside ``[minimum, maximum]`` (Bedrock: 100-20,000)."""
    if minimum is not None and count < minimum:
        return [
            Problem(
                source, None, f"{what} has {count} records; at least {minimum} are required (min_records)"
            )
        ]
    if maximum is not None and count > maximum:
        return [
            Problem(source, None, f"{what} has {count} records; at most {maximum} are allowed (max_records)")
        ]
    return []


def dataset_sha256(file_digests: dict[str, str]) -> str:
    """The dataset's content hash: sha256 over the split files' names and sha256s."""
    text = "".join(f"{name}:{file_digests[name]}\n" for name in sorted(file_digests))
    return hashlib.sha256(text.encode()).hexdigest()


OWNED_FILES = (*FILES.values(), REPORT_FILE)


@contextmanager
def _staging(output_uri: str) -> Iterator[Path]:
    """A private folder to write into: swapped in whole locally, a temporary folder for S3."""
    if is_s3_uri(output_uri):
        import shutil  # S3 only: a local run does not pay for these imports
        import tempfile

        staging = Path(tempfile.mkdtemp(prefix="bedrock-rft-dataset-"))
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return
    with staged_dir(output_uri, OWNED_FILES) as staging:
        yield staging


def _too_many(source: str, maximum: int, line: int | None) -> Problem:
    where = f" (stopped reading at line {line})" if line else ""
    return Problem(
        source,
        None,
        f"training split has more than {maximum} records; at most {maximum} are allowed (max_records){where}",
    )


def prepare_dataset(
    source: str,
    input_uri: str,
    output_uri: str,
    *,
    options: PrepareOptions | None = None,
    mapping: ColumnMapping | None = None,
    s3_client: Any = None,
    progress: Progress | None = None,
) -> PreparedDataset:
    """Convert, validate, dedupe and split ``input_uri`` into ``output_uri`` (a directory or s3 prefix).

    Raises DatasetValidationError (listing ``source:line: message`` problems) and writes nothing when
    the options or any record are invalid (with ``options.skip_invalid``, invalid records are dropped
    and listed in the report instead; unreadable input still fails). To S3, files land under
    ``<output>/<sha256[:16]>/`` and a rerun on the same data uploads nothing (``reused=True``).
    """
    options = options or PrepareOptions()
    reader = SourceReader(
        source,
        input_uri,
        mapping or ColumnMapping(),
        options.seed,
        s3_client,
        max_line_bytes=options.max_record_bytes,
    )
    option_problems = options.check()
    if option_problems:
        raise DatasetValidationError([Problem("options", None, p) for p in option_problems])
    checker = RecordChecker(reader.display_name, options.require_reference_answer)
    if not is_s3_uri(output_uri):
        check_output_dir(output_uri, OWNED_FILES)  # OutputError before reading a byte of input
    max_bytes, max_train = options.max_record_bytes, options.max_records
    split_many = block_splitter(options.seed, options.val_fraction, options.test_fraction)
    with _staging(output_uri) as staging:
        writer = SplitWriter(staging)
        stopped: Problem | None = None
        if source == "gsm8k":  # whole blocks of plain records are taken in bulk, the rest come as items
            fast = BlockPath(checker, writer, split_many, max_bytes, max_train)
            items = fast.gsm8k_items(reader, progress, PROGRESS_EVERY)
        else:
            items = reader.items()
        try:
            for item in items:
                record = checker.check(item)
                if record is not None:
                    line = encode_line(record, item.strict_json)
                    if max_bytes is not None and len(line) >= max_bytes:  # the LF makes one more byte
                        checker.reject(item.line, record_size_message(len(line) + 1, max_bytes))
                    else:
                        writer.write(split_many((record["id"],))[0], line)
                        if max_train is not None and writer.counts["train"] > max_train:
                            stopped = _too_many(reader.display_name, max_train, item.line)
                            break
                if progress is not None and checker.read % PROGRESS_EVERY == 0:
                    progress(checker.read)
        finally:
            writer.close()
        if progress is not None:
            progress(checker.read)
        findings = checker.findings
        if findings.problem_count and not options.skip_invalid:
            # counts say little while records are invalid: report those alone
            raise DatasetValidationError(findings.problems, findings.problem_count)
        if stopped is not None:
            raise DatasetValidationError([stopped])
        count_problems = count_bound_problems(
            reader.display_name,
            writer.counts["train"],
            options.min_records,
            options.max_records,
            "training split",
        )
        if count_problems:
            raise DatasetValidationError(count_problems)
        digests = writer.file_digests()
        sha = dataset_sha256(digests)
        report = _report(
            reader=reader, options=options, checker=checker, counts=writer.counts, digests=digests, sha=sha
        )
        (staging / REPORT_FILE).write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
        counts = {
            **writer.counts,
            "read": checker.read,
            "duplicates_removed": findings.duplicate_count,
            "invalid_skipped": findings.problem_count,
        }
        if is_s3_uri(output_uri):
            try:
                uris, reused = publish_to_s3(staging, list(OWNED_FILES), output_uri, sha, s3_client)
            except DatasetValidationError:
                raise
            except Exception as exc:  # credentials, permissions, network: name the output and the cause
                raise OutputError(f"{output_uri}: cannot upload ({type(exc).__name__}: {exc})") from exc
        else:
            uris = {name: str(Path(output_uri) / name) for name in OWNED_FILES}
            reused = False
    return PreparedDataset(
        train_uri=uris["train.jsonl"],
        validation_uri=uris["validation.jsonl"],
        test_uri=uris["test.jsonl"],
        report_uri=uris[REPORT_FILE],
        sha256=sha,
        counts=counts,
        report=report,
        reused=reused,
    )


def _report(
    *,
    reader: SourceReader,
    options: PrepareOptions,
    checker: RecordChecker,
    counts: dict[str, int],
    digests: dict[str, str],
    sha: str,
) -> dict[str, Any]:
    findings = checker.findings
    return {
        "format": REPORT_FORMAT,
        "source": {"type": reader.kind, "input": reader.display_name, "fingerprint": reader.fingerprint},
        "options": asdict(options),
        "counts": {
            "read": checker.read,
            "kept": checker.kept,
            **{split: counts[split] for split in SPLITS},
            "duplicates_removed": findings.duplicate_count,
            "invalid": findings.problem_count,
        },
        "dropped": {
            "duplicate_prompt": {"count": findings.duplicate_count, "examples": findings.duplicates},
            "invalid": {
                "count": findings.problem_count,
                "examples": [str(p) for p in findings.problems[:20]],
            },
        },
        "warnings": {"count": findings.warning_count, "examples": findings.warnings},
        "prompt_length": checker.lengths.to_dict(options.max_prompt_length),
        "files": {name: {"records": counts[split], "sha256": digests[name]} for split, name in FILES.items()},
        "sha256": sha,
    }
