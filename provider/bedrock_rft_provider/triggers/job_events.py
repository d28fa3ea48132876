"""The asset watcher on the job-events queue: a DAG scheduled on its asset runs when a job completes.

``bedrock-rft events-setup`` routes Bedrock's job state-change events into an SQS queue; here
``MessageQueueTrigger`` (apache-airflow-providers-common-messaging, ``scheme="sqs"``, served by the
amazon provider's ``SqsSensorTrigger``) watches that queue on the triggerer and, for each batch of
messages, emits an asset event whose ``extra["payload"]["message_batch"]`` holds the SQS messages.
:func:`job_state_changes` reads them back from a run's ``triggering_asset_events``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from bedrock_rft_provider.errors import BedrockRFTError

if TYPE_CHECKING:
    from bedrock_rft_provider.jobs.events import JobStateChange

QUEUE_URL_ENV = "BEDROCK_RFT_EVENTS_QUEUE_URL"
ASSET_NAME = "bedrock-rft-job-state-changes"
MESSAGING_PACKAGE = "apache-airflow-providers-common-messaging"
# The job tag that says who post-trains a job: HANDOVER_EVENTS (its completion event, through the
# dispatcher) or HANDOVER_IN_RUN (the run that submitted it waits for it and goes on itself; a dispatched
# run skips such a job). Jobs without the tag (started outside these DAGs) are dispatched.
HANDOVER_TAG = "bedrock-rft-post-training"
HANDOVER_EVENTS = "events"
HANDOVER_IN_RUN = "in-run"
# A post-training run's ``job`` param (JSON Schema ``pattern``, checked when the run is triggered): a job
# ARN as the dispatcher passes it (``jobs.events.JOB_ARN``) or a job name (``jobs.events.JOB_NAME``,
# at most 63 characters). The lookahead refuses whitespace anywhere, a trailing newline included
# (which ``$`` alone lets through); it and ``[\s\S]`` read the same in Python and in the UI's JavaScript.
JOB_PARAM_PATTERN = (
    r"^(?![\s\S]*\s)(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-customization-job/.{1,1000}"
    r"|[a-zA-Z0-9][a-zA-Z0-9+.-]{0,62})$"
)


def events_configured() -> bool:
    """Whether this component sees ``BEDROCK_RFT_EVENTS_QUEUE_URL``, i.e. the event path is set up."""
    return bool(os.environ.get(QUEUE_URL_ENV))


class EventsUnavailableError(BedrockRFTError):
    """The event-driven path cannot be set up here; the message says which piece is missing."""


def job_events_trigger(
    queue_url: str,
    *,
    aws_conn_id: str | None = "aws_default",
    region_name: str | None = None,
    poll_seconds: int = 30,
) -> Any:
    """A ``MessageQueueTrigger`` on ``queue_url`` (SQS scheme); EventsUnavailableError without the provider.

    ``poll_seconds`` is the pause between empty ReceiveMessage long polls (each waits up to 20 s), so
    a completion reaches Airflow within about ``poll_seconds + 20`` seconds.
    """
    if not queue_url.startswith(("https://", "http://")):
        raise EventsUnavailableError(f"queue_url {queue_url[:100]!r} is not an SQS queue URL")
    try:
        from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger
    except ImportError as exc:
        raise EventsUnavailableError(
            f"event-driven completion needs {MESSAGING_PACKAGE} (pip install {MESSAGING_PACKAGE}); "
            f"the polling path (BedrockRFTJobOperator) works without it ({exc})"
        ) from None
    return MessageQueueTrigger(
        scheme="sqs",
        sqs_queue=queue_url,
        aws_conn_id=aws_conn_id,
        region_name=region_name,
        max_messages=10,
        wait_time_seconds=20,
        waiter_delay=poll_seconds,
    )


def job_events_asset(
    queue_url: str | None = None,
    *,
    aws_conn_id: str | None = "aws_default",
    region_name: str | None = None,
    poll_seconds: int = 30,
    name: str = ASSET_NAME,
) -> Any:
    """The asset that receives an event per batch of job state-change messages on the queue.

    ``queue_url`` defaults to the ``BEDROCK_RFT_EVENTS_QUEUE_URL`` environment variable (what
    ``bedrock-rft events-setup`` prints). Raises EventsUnavailableError when neither is set or the
    common-messaging provider is missing; a DAG catches it and falls back to manual runs. Several DAGs
    may be scheduled on this asset: one watcher reads the queue and each of them gets every event
    (two differently named assets on one queue would split its messages between them).
    """
    from airflow.sdk import Asset, AssetWatcher

    url = queue_url or os.environ.get(QUEUE_URL_ENV, "")
    if not url:
        raise EventsUnavailableError(
            f"no job-events queue: set {QUEUE_URL_ENV} to the queue URL `bedrock-rft events-setup` printed"
        )
    trigger = job_events_trigger(
        url, aws_conn_id=aws_conn_id, region_name=region_name, poll_seconds=poll_seconds
    )
    return Asset(name=name, watchers=[AssetWatcher(name=f"{name}-sqs", trigger=trigger)])


def job_state_changes(
    asset_events: Iterable[Any], *, account_id: str | None = None, region: str | None = None
) -> tuple[list[JobStateChange], list[str]]:
    """The job state changes carried by asset events (a run's ``triggering_asset_events`` values,
    flattened), and one line per message that is not one (it is logged and skipped, never trusted).

    ``account_id`` / ``region`` (the Airflow connection's, see :func:`connection_scope`; None = unknown,
    not checked) drop events of jobs elsewhere, each with a line (:func:`jobs_in_scope`).
    """
    # The event parser is needed when a run reads its events, not when a DAG file is parsed.
    from bedrock_rft_provider.jobs.events import state_changes

    bodies: list[Any] = []
    problems: list[str] = []
    for event in asset_events:
        extra = getattr(event, "extra", None)
        if extra is None and isinstance(event, Mapping):
            extra = event.get("extra")
        payload = extra.get("payload") if isinstance(extra, Mapping) else None
        batch = payload.get("message_batch") if isinstance(payload, Mapping) else None
        if not isinstance(batch, list):
            problems.append("an asset event without a message batch (not from the job-events watcher)")
            continue
        bodies.extend(m.get("Body") if isinstance(m, Mapping) else m for m in batch)
    changes, bad = state_changes(bodies)
    changes, foreign = jobs_in_scope(changes, account_id=account_id, region=region)
    return changes, problems + bad + foreign


def job_arn_scope(job_arn: str) -> tuple[str, str]:
    """``(account id, region)`` of a job ARN ``arn:<partition>:bedrock:<region>:<account>:...``."""
    parts = job_arn.split(":", 5)
    return parts[4], parts[3]


def jobs_in_scope(
    changes: Iterable[JobStateChange], *, account_id: str | None, region: str | None
) -> tuple[list[JobStateChange], list[str]]:
    """The changes whose job ARN is in ``account_id`` and ``region``, and one line per change dropped.

    A job of another account or region cannot be described through the connection: its run would fail
    at ``describe_job`` and use up the job's ``job__<name>`` run id. None for either means unknown: that
    part is not checked. Pure: the caller logs the lines.
    """
    kept: list[JobStateChange] = []
    dropped: list[str] = []
    for change in changes:
        job_account, job_region = job_arn_scope(change.job_arn)
        wrong = [
            f"{what} {got}, not the connection's {expected}"
            for what, got, expected in (("account", job_account, account_id), ("region", job_region, region))
            if expected is not None and got != expected
        ]
        if wrong:
            dropped.append(f"job {change.job_name} ({change.job_arn}) is in {' and '.join(wrong)}: skipped")
        else:
            kept.append(change)
    return kept, dropped


def connection_scope(aws_conn_id: str | None = "aws_default") -> dict[str, str | None]:
    """``{"account_id": ..., "region": ...}`` of an Airflow AWS connection, for :func:`job_state_changes`:
    the region its Bedrock client uses and the account STS GetCallerIdentity names (needs no IAM grant).
    """
    from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook

    hook = BedrockRFTHook(aws_conn_id=aws_conn_id)
    return {"account_id": hook.account_id or None, "region": hook.conn_region_name or None}
