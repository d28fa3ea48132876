"""``bedrock-rft preview-invocation-logs``: the RFT prompts invocation logs would give, before a job.

Exit 0: enough valid prompts and no invalid one; 1: invalid logs, too few/many prompts, or S3 could not
be read; 2: usage (a bad URI or filter, named on one line).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bedrock_rft_provider.commands.data import EXIT_INVALID, EXIT_OK, EXIT_USAGE, _add_bounds, _optional_count

PROBLEMS_SHOWN = 20


def register(subparsers: Any) -> None:
    """Add the ``preview-invocation-logs`` parser."""
    preview = subparsers.add_parser(
        "preview-invocation-logs",
        help="preview and validate the RFT prompts Bedrock invocation logs in S3 would yield",
        description=(
            "Read Bedrock model invocation logs under an S3 prefix, keep those the request-metadata "
            "filters select, and check the prompts they yield with the RFT record rules. "
            "Exit 0 valid, 1 invalid, 2 usage."
        ),
    )
    preview.add_argument("s3_uri", metavar="S3_URI", help="s3:// prefix of the invocation logs")
    preview.add_argument(
        "--filters",
        metavar="JSON",
        help='RequestMetadataFilters, e.g. \'{"equals": {"app": "tutor"}}\' or {"andAll": [...]}',
    )
    preview.add_argument(
        "--equals",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keep logs whose request metadata KEY is VALUE (repeat: all must hold)",
    )
    preview.add_argument("--use-prompt-response", action="store_true", help="Bedrock's usePromptResponse")
    _add_bounds(preview)
    preview.add_argument("--max-prompt-length", type=_optional_count, default=None, metavar="TOKENS")
    preview.add_argument("--json", action="store_true", help="print the preview as one JSON object")
    preview.set_defaults(handler=run_preview)


def _filters(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.filters and args.equals:
        raise ValueError("give --filters or --equals, not both")
    if args.filters:
        try:
            filters = json.loads(args.filters)
        except ValueError as exc:
            raise ValueError(f"--filters is not JSON: {exc}") from None
        if not isinstance(filters, dict):  # dict() would take a list of pairs as an object
            raise ValueError(f"--filters must be a JSON object, got {type(filters).__name__}")
        return filters
    pairs = []
    for item in args.equals:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--equals {item!r}: expected KEY=VALUE")
        pairs.append({"equals": {key: value}})
    if not pairs:
        return None
    return pairs[0] if len(pairs) == 1 else {"andAll": pairs}


def run_preview(args: argparse.Namespace) -> int:
    """Handler of ``preview-invocation-logs``."""
    from botocore.exceptions import BotoCoreError, ClientError

    from bedrock_rft_provider.data.invocation_logs import preview_invocation_logs, s3_log_objects
    from bedrock_rft_provider.data.uris import default_s3_client
    from bedrock_rft_provider.errors import ConfigError
    from bedrock_rft_provider.jobs.invocation_logs import InvocationLogSource

    prog = "bedrock-rft preview-invocation-logs"
    try:
        source = InvocationLogSource.build(args.s3_uri, _filters(args), args.use_prompt_response)
    except (ConfigError, ValueError) as exc:
        print(f"{prog}: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_USAGE
    try:
        preview = preview_invocation_logs(
            source,
            s3_log_objects(default_s3_client(), source.s3_uri),
            min_records=args.min_records,
            max_records=args.max_records,
            max_prompt_length=args.max_prompt_length,
            max_record_bytes=args.max_record_bytes,
        )
    except (BotoCoreError, ClientError) as exc:
        print(f"{prog}: cannot read {source.s3_uri}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if args.json:
        print(json.dumps(preview.to_dict(), indent=2))
        return EXIT_OK if preview.ok else EXIT_INVALID
    for problem in preview.problems[:PROBLEMS_SHOWN]:
        print(problem)
    if preview.problem_count > PROBLEMS_SHOWN:
        print(f"... and {preview.problem_count - PROBLEMS_SHOWN} more problem(s)")
    for warning in preview.warnings:
        print(f"warning: {warning}")
    for example in preview.examples:
        print(f"example {example['id']}: {example['prompt']!r}")
    skipped = ", ".join(f"{n} {why}" for why, n in preview.skipped.items()) or "none"
    status = "valid" if preview.ok else f"INVALID ({preview.problem_count} problem(s))"
    tokens = preview.prompt_length.get("estimated_tokens") or {}
    print(
        f"{source.s3_uri}: {status}; {preview.objects} object(s), {preview.logs} log(s), "
        f"{preview.matched} selected by the filters, {preview.prompts} valid prompt(s); skipped: {skipped}; "
        f"prompt length p50 {tokens.get('p50')} / max {tokens.get('max')} estimated tokens"
    )
    return EXIT_OK if preview.ok else EXIT_INVALID
