"""Prepare an RFT dataset end to end: read, convert, validate, dedupe, split, write (atomically).

Nothing is written when the input is invalid: records stream into a hidden temporary directory next
to the output, which is renamed into place (or uploaded to S3) only after the whole input passed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from bedrock_rft_provider.data.checks import RecordChecker
from bedrock_rft_provider.data.problems import DatasetValidationError, Problem
from bedrock_rft_provider.data.publish import publish_to_s3
from bedrock_rft_provider.data.sources import SourceReader
from bedrock_rft_provider.data.split import SPLITS, assign_split, check_fractions
from bedrock_rft_provider.data.tabular import ColumnMapping
from bedrock_rft_provider.data.uris import is_s3_uri

REPORT_FORMAT = "bedrock-rft-dataset-report/1"
FILES = {"train": "train.jsonl", "validation": "validation.jsonl", "test": "test.jsonl"}
REPORT_FILE = "report.json"
PROGRESS_EVERY = 5000
_encode = json.JSONEncoder().encode

Progress = Callable[[int], None]


@dataclass(frozen=True)
class PrepareOptions:
    """Split, bounds and checks; ``min_records``/``max_records`` bound the training split (None: none)."""

    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 0
    min_records: int | None = 100
    max_records: int | None = 20_000
    max_prompt_length: int | None = None
    require_reference_answer: bool = False
    skip_invalid: bool = False  # drop invalid records (listed in the report) instead of failing

    def check(self) -> list[str]:
        """Problems with the options themselves (empty when valid)."""
        problems = check_fractions(self.val_fraction, self.test_fraction)
        for name in ("min_records", "max_records", "max_prompt_length"):
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


class _SplitWriter:
    """Streams records into the three split files, hashing as it writes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.handles: dict[str, IO[bytes]] = {
            split: open(directory / name, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in close()
            for split, name in FILES.items()
        }
        self.hashes = {split: hashlib.sha256() for split in FILES}
        self.counts = dict.fromkeys(FILES, 0)

    def write(self, split: str, record: dict[str, Any]) -> None:
        line = _encode(record).encode("ascii") + b"\n"  # ASCII: no U+2028 surprises for line splitters
        self.handles[split].write(line)
        self.hashes[split].update(line)
        self.counts[split] += 1

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()

    def file_digests(self) -> dict[str, str]:
        return {FILES[split]: digest.hexdigest() for split, digest in self.hashes.items()}


def dataset_sha256(file_digests: dict[str, str]) -> str:
    """The dataset's content hash: sha256 over the split files' names and sha256s."""
    text = "".join(f"{name}:{file_digests[name]}\n" for name in sorted(file_digests))
    return hashlib.sha256(text.encode()).hexdigest()


def _staging_dir(output_uri: str) -> tuple[Path, list[Path]]:
    """A private directory to write into, and the output's parent folders created for it (newest first)."""
    if is_s3_uri(output_uri):
        return Path(tempfile.mkdtemp(prefix="bedrock-rft-dataset-")), []
    output = Path(output_uri).absolute()
    created = [folder for folder in output.parents if not folder.exists()]
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.parent / f".{output.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    return staging, created


def _move_into_place(staging: Path, output: Path) -> None:
    if not output.exists():
        os.rename(staging, output)
        return
    if not output.is_dir():
        raise DatasetValidationError([Problem(str(output), None, "output exists and is not a directory")])
    for name in [*FILES.values(), REPORT_FILE]:
        os.replace(staging / name, output / name)
    staging.rmdir()


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
    reader = SourceReader(source, input_uri, mapping or ColumnMapping(), options.seed, s3_client)
    option_problems = options.check()
    if option_problems:
        raise DatasetValidationError([Problem("options", None, p) for p in option_problems])
    checker = RecordChecker(reader.display_name, options.require_reference_answer)
    staging, created = _staging_dir(output_uri)
    succeeded = False
    try:
        writer = _SplitWriter(staging)
        try:
            for item in reader.items():
                record = checker.check(item)
                if record is not None:
                    writer.write(
                        assign_split(record["id"], options.seed, options.val_fraction, options.test_fraction),
                        record,
                    )
                if progress is not None and checker.read % PROGRESS_EVERY == 0:
                    progress(checker.read)
        finally:
            writer.close()
        if progress is not None:
            progress(checker.read)
        findings = checker.findings
        count_problems = count_bound_problems(
            reader.display_name,
            writer.counts["train"],
            options.min_records,
            options.max_records,
            "training split",
        )
        if findings.problem_count and not options.skip_invalid:
            # counts say little while records are invalid: report those alone
            raise DatasetValidationError(findings.problems, findings.problem_count)
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
            uris, reused = publish_to_s3(staging, [*FILES.values(), REPORT_FILE], output_uri, sha, s3_client)
        else:
            _move_into_place(staging, Path(output_uri))
            uris = {name: str(Path(output_uri) / name) for name in [*FILES.values(), REPORT_FILE]}
            reused = False
        succeeded = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not succeeded:  # leave no trace of a failed run, not even empty folders
            for folder in created:
                with contextlib.suppress(OSError):
                    folder.rmdir()
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
