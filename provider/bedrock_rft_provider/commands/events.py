"""``bedrock-rft events-setup``: route Bedrock job state-change events to an SQS queue (idempotent)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bedrock_rft_provider.jobs.events import (
    DEFAULT_QUEUE_NAME,
    DEFAULT_RULE_NAME,
    DEFAULT_STATUSES,
    JOB_STATUSES,
)


def register(subparsers: Any) -> None:
    """Add the ``events-setup`` subcommand."""
    parser = subparsers.add_parser(
        "events-setup",
        help="create the EventBridge rule + SQS queue that carry RFT job state changes to Airflow",
        description="Create (or confirm) an EventBridge rule matching Bedrock 'Model Customization Job "
        "State Change' events, an SQS queue, a queue policy that lets only that rule send to it, and the "
        "rule's target. Running it again changes nothing. Prints the queue URL for "
        "BEDROCK_RFT_EVENTS_QUEUE_URL (the post-training DAG's asset watcher).",
    )
    parser.add_argument("--rule-name", default=DEFAULT_RULE_NAME, help=f"default {DEFAULT_RULE_NAME}")
    parser.add_argument("--queue-name", default=DEFAULT_QUEUE_NAME, help=f"default {DEFAULT_QUEUE_NAME}")
    parser.add_argument(
        "--status",
        action="append",
        dest="statuses",
        choices=JOB_STATUSES,
        help=f"job status to forward (repeatable; default {' '.join(DEFAULT_STATUSES)})",
    )
    parser.add_argument("--job-name-prefix", help="only jobs whose name starts with this (e.g. rft-)")
    parser.add_argument(
        "--aws-conn-id",
        default="aws_default",
        help="Airflow AWS connection to use (default aws_default; when it is not defined, the default "
        "boto3 credential chain)",
    )
    parser.add_argument("--region", help="AWS region (default: the connection's or the environment's)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 with the route printed; 2 for a bad name; 1 when AWS refuses or cannot be reached."""
    from bedrock_rft_provider.errors import ConfigError
    from bedrock_rft_provider.jobs.events import EventRoute

    prog = "bedrock-rft events-setup"
    try:
        route = EventRoute.build(
            rule_name=args.rule_name,
            queue_name=args.queue_name,
            statuses=args.statuses or DEFAULT_STATUSES,
            job_name_prefix=args.job_name_prefix,
        )
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    from botocore.exceptions import BotoCoreError, ClientError

    from bedrock_rft_provider.hooks.events import BedrockRFTEventsHook

    try:
        made = BedrockRFTEventsHook(aws_conn_id=args.aws_conn_id, region_name=args.region).ensure_route(route)
    except (BotoCoreError, ClientError) as exc:
        print(
            f"{prog}: cannot set up rule {route.rule_name} -> queue {route.queue_name}: {exc}",
            file=sys.stderr,
        )
        return 1
    print(f"rule:   {made.rule_arn}")
    print(f"queue:  {made.queue_arn}")
    print("policy: only events.amazonaws.com, for this rule (aws:SourceArn), may sqs:SendMessage")
    print("changed: " + (", ".join(made.changed) if made.changed else "nothing (already set up)"))
    print(f"export BEDROCK_RFT_EVENTS_QUEUE_URL={made.queue_url}")
    return 0
