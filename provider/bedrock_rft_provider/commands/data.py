"""``bedrock-rft validate-data`` and ``bedrock-rft prepare-data`` (exit 0 valid, 1 invalid data, 2 usage)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from bedrock_rft_provider.data.source_kinds import SOURCES

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
STATIC_SOURCES = tuple(name for name in SOURCES if not name.startswith("hf:"))
PROGRESS_SECONDS = 2.0


def _source(value: str) -> str:
    if value in STATIC_SOURCES or (value.startswith("hf:") and len(value) > 3):
        return value
    raise argparse.ArgumentTypeError(
        f"{value!r}; expected one of {', '.join(STATIC_SOURCES)} or hf:NAME[:split]"
    )


def _optional_count(value: str) -> int | None:
    if value.lower() in ("none", "off"):
        return None
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer (or 'none')") from None
    if count < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return count


def _fraction(value: str) -> float:
    try:
        fraction = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= fraction < 1.0:
        raise argparse.ArgumentTypeError(f"{value} is outside [0, 1)")
    return fraction


def register(subparsers: Any) -> None:
    """Add the ``validate-data`` and ``prepare-data`` parsers."""
    validate = subparsers.add_parser(
        "validate-data",
        help="check an RFT JSONL file (prints PATH:LINE: message per problem)",
        description="Check an RFT JSONL file against Bedrock's rules. Exit 0 valid, 1 invalid, 2 usage.",
    )
    validate.add_argument("path", metavar="PATH", help="RFT JSONL file, local path or s3:// URI")
    _add_bounds(validate)
    validate.add_argument("--max-prompt-length", type=_optional_count, default=None, metavar="TOKENS")
    validate.add_argument(
        "--require-reference-answer", action="store_true", help="missing reference_answer is an error"
    )
    validate.set_defaults(handler=run_validate)

    prepare = subparsers.add_parser(
        "prepare-data",
        help="convert, validate, dedupe and split a dataset into train/validation/test JSONL + report.json",
        description="Convert, validate, dedupe and split a dataset. Exit 0 written, 1 invalid data (nothing "
        "written), 2 usage. For --source synthetic, moderation or synthetic-tools, --input is the number of "
        "records to generate; for --source humaneval, how many of HumanEval's 164 code problems to use "
        "('all' for every one); for --source hf:NAME[:split], --input is the dataset config name "
        "('-' for none).",
    )
    prepare.add_argument(
        "--source",
        required=True,
        type=_source,
        help="gsm8k, jsonl, csv, parquet, synthetic, humaneval, moderation, synthetic-tools, hf:NAME",
    )
    prepare.add_argument("--input", required=True, dest="input_uri", metavar="PATH_OR_URI")
    prepare.add_argument("--output", required=True, dest="output_uri", metavar="DIR_OR_S3")
    prepare.add_argument("--val-fraction", type=_fraction, default=0.1, metavar="F")
    prepare.add_argument("--test-fraction", type=_fraction, default=0.1, metavar="F")
    prepare.add_argument("--seed", type=int, default=0, metavar="N")
    _add_bounds(prepare)
    prepare.add_argument("--max-prompt-length", type=_optional_count, default=None, metavar="TOKENS")
    prepare.add_argument(
        "--require-reference-answer", action="store_true", help="missing reference_answer is an error"
    )
    prepare.add_argument(
        "--skip-invalid",
        action="store_true",
        help="drop invalid records (listed in report.json) instead of failing",
    )
    mapping = prepare.add_argument_group("column mapping (csv, parquet, hf)")
    mapping.add_argument("--prompt-field", metavar="COLUMN", help="column holding the user message")
    mapping.add_argument("--prompt-template", metavar="TEXT", help="str.format template over columns")
    mapping.add_argument("--system-prompt", metavar="TEXT", help="system message added to every prompt")
    mapping.add_argument("--reference-answer-field", metavar="COLUMN")
    mapping.add_argument("--id-field", metavar="COLUMN")
    mapping.add_argument(
        "--metadata-fields", metavar="A,B", help="columns kept as grader metadata (default: all unmapped)"
    )
    prepare.set_defaults(handler=run_prepare)


def _add_bounds(parser: argparse.ArgumentParser) -> None:
    from bedrock_rft_provider.data.records import MAX_TRAINING_RECORDS, MIN_TRAINING_RECORDS
    from bedrock_rft_provider.data.uris import MAX_RECORD_BYTES

    parser.add_argument(
        "--min-records",
        type=_optional_count,
        default=MIN_TRAINING_RECORDS,
        metavar="N",
        help=f"default {MIN_TRAINING_RECORDS}",
    )
    parser.add_argument(
        "--max-records",
        type=_optional_count,
        default=MAX_TRAINING_RECORDS,
        metavar="N",
        help=f"default {MAX_TRAINING_RECORDS}",
    )
    parser.add_argument(
        "--max-record-bytes",
        type=_optional_count,
        default=MAX_RECORD_BYTES,
        metavar="N",
        help=f"largest record (one JSON line) accepted; default {MAX_RECORD_BYTES} (the 6 MB Lambda payload)",
    )


def _progress(verb: str) -> Callable[[int], None]:
    started = last = time.monotonic()

    def report(count: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_SECONDS:
            last = now
            rate = count / max(now - started, 1e-9)
            print(f"{verb}: {count:,} records ({rate:,.0f}/s)", file=sys.stderr, flush=True)

    return report


def run_validate(args: argparse.Namespace) -> int:
    """Handler of ``validate-data``."""
    from bedrock_rft_provider.data.validate import validate_file

    report = validate_file(
        args.path,
        min_records=args.min_records,
        max_records=args.max_records,
        require_reference_answer=args.require_reference_answer,
        max_prompt_length=args.max_prompt_length,
        progress=_progress("validate-data"),
        max_record_bytes=args.max_record_bytes,
    )
    for problem in report.problems:
        print(problem)
    if report.problem_count > len(report.problems):
        print(f"... and {report.problem_count - len(report.problems)} more problem(s)")
    for warning in report.warnings:
        print(f"warning: {warning}")
    lengths = report.prompt_length
    tokens = lengths["estimated_tokens"]
    status = "valid" if report.ok else f"INVALID ({report.problem_count} problem(s))"
    print(
        f"{report.source}: {status}; {report.read} line(s), {report.valid} valid record(s), "
        f"{report.warning_count} warning(s); prompt length p50 {tokens['p50']} / max {tokens['max']} "
        f"estimated tokens; recommended maxPromptLength {lengths['recommended_max_prompt_length']}"
        + (
            f"; {lengths['prompts_over_max_prompt_length']} prompt(s) over maxPromptLength "
            f"{lengths['max_prompt_length']} would be silently dropped"
            if lengths["max_prompt_length"] is not None
            else ""
        )
    )
    return EXIT_OK if report.ok else EXIT_INVALID


def run_prepare(args: argparse.Namespace) -> int:
    """Handler of ``prepare-data``."""
    from bedrock_rft_provider.data import (
        ColumnMapping,
        DatasetValidationError,
        PrepareOptions,
        prepare_dataset,
    )
    from bedrock_rft_provider.outputs import OutputError

    options = PrepareOptions(
        val_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        seed=args.seed,
        min_records=args.min_records,
        max_records=args.max_records,
        max_prompt_length=args.max_prompt_length,
        require_reference_answer=args.require_reference_answer,
        skip_invalid=args.skip_invalid,
        max_record_bytes=args.max_record_bytes,
    )
    mapping = ColumnMapping(
        prompt_field=args.prompt_field,
        prompt_template=args.prompt_template,
        system_prompt=args.system_prompt,
        reference_answer_field=args.reference_answer_field,
        id_field=args.id_field,
        metadata_fields=tuple(f.strip() for f in args.metadata_fields.split(","))
        if args.metadata_fields
        else None,
    )
    usage = options.check()
    if args.source in ("csv", "parquet") and mapping.is_empty:
        usage.append(f"--source {args.source} needs --prompt-field or --prompt-template")
    if usage:
        for message in usage:
            print(f"bedrock-rft prepare-data: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = prepare_dataset(
            args.source,
            args.input_uri,
            args.output_uri,
            options=options,
            mapping=mapping,
            progress=_progress("prepare-data"),
        )
    except DatasetValidationError as exc:
        for line in exc.render(limit=len(exc.problems)):
            print(line)
        if exc.total > len(exc.problems):
            print(f"... and {exc.total - len(exc.problems)} more problem(s)")
        print(f"{args.input_uri}: INVALID ({exc.total} problem(s)); nothing was written")
        return EXIT_INVALID
    except OutputError as exc:
        print(f"bedrock-rft prepare-data: {exc}; nothing was written", file=sys.stderr)
        return EXIT_INVALID
    counts = result.counts
    lengths = result.report["prompt_length"]
    print(
        f"{args.input_uri}: {counts['read']} read, {counts['duplicates_removed']} duplicate prompt(s) "
        f"removed, {counts['invalid_skipped']} invalid skipped; "
        f"train {counts['train']}, validation {counts['validation']}, test {counts['test']}"
    )
    print(f"recommended maxPromptLength {lengths['recommended_max_prompt_length']} (estimated tokens)")
    print(f"sha256 {result.sha256}" + (" (already uploaded; nothing to do)" if result.reused else ""))
    for uri in (result.train_uri, result.validation_uri, result.test_uri, result.report_uri):
        print(uri)
    return EXIT_OK
