"""Bedrock job state-change events: the EventBridge rule, the SQS queue policy, and reading the events.

Bedrock publishes "Model Customization Job State Change" events (source ``aws.bedrock``) to the
account's default event bus, on a best-effort basis (UG ``monitoring-eventbridge``): an event can be
late or missing, so the polling path stays the default and event-driven runs re-read the job from
Bedrock instead of trusting the event. The documented sample's ``detail`` carries ``jobName``,
``jobArn``, ``jobStatus`` (the API's status values), ``outputModelArn`` and ``failureMessage``; which
transitions publish an event, and whether open-weight (OpenAI-compatible API) jobs publish any, is
undocumented, so the parser here accepts any documented status and ignores unknown fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.errors import ConfigError

# The start of a Bedrock job name (JOB_NAME_PATTERN in jobs/validation.py: [a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*).
_JOB_NAME_PREFIX = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9+\-.]{0,62}")

EVENT_SOURCE = "aws.bedrock"
DETAIL_TYPE = "Model Customization Job State Change"
JOB_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
DEFAULT_RULE_NAME = "bedrock-rft-job-state-change"
DEFAULT_QUEUE_NAME = "bedrock-rft-job-events"
DEFAULT_STATUSES = ("Completed",)
# The rule's one target; a fixed id makes PutTargets an idempotent upsert.
TARGET_ID = "bedrock-rft-job-events-queue"
# SQS's message size limit: a larger body did not come through SQS and is not read.
MAX_MESSAGE_BYTES = 256 * 1024

RULE_NAME = re.compile(r"[.\-_A-Za-z0-9]{1,64}")  # PutRule.Name
QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")  # CreateQueue.QueueName (standard queues)
JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*")  # CreateModelCustomizationJob.jobName
# Printable ASCII only after the prefix (Bedrock's own pattern is stricter still): a control character,
# NUL or non-ASCII text in a queued message's ARN is not a job's, and never reaches a run's conf.
JOB_ARN = re.compile(
    r"arn:aws(-[a-z0-9-]{1,20})?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-customization-job/[!-~]{1,1000}"
)


class EventError(ValueError):
    """A message is not a Bedrock job state-change event we can act on; the text says why."""


@dataclass(frozen=True)
class EventRoute:
    """What ``bedrock-rft events-setup`` creates: one EventBridge rule -> one SQS queue.

    ``statuses`` are the job statuses the rule forwards (default ``("Completed",)``: the post-training
    DAG acts on completed jobs only); ``job_name_prefix`` optionally narrows the rule to jobs whose
    name starts with it (e.g. ``rft-`` for the names the operators derive).
    """

    rule_name: str = DEFAULT_RULE_NAME
    queue_name: str = DEFAULT_QUEUE_NAME
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    job_name_prefix: str | None = None

    @classmethod
    def build(
        cls,
        *,
        rule_name: str = DEFAULT_RULE_NAME,
        queue_name: str = DEFAULT_QUEUE_NAME,
        statuses: Iterable[str] = DEFAULT_STATUSES,
        job_name_prefix: str | None = None,
    ) -> EventRoute:
        """Validated route; ConfigError naming the field (before any AWS call) otherwise."""
        if not isinstance(rule_name, str) or not RULE_NAME.fullmatch(rule_name):
            raise ConfigError(
                "rule_name", f"{rule_name!r} is not an EventBridge rule name (1-64 of A-Z a-z 0-9 . - _)"
            )
        if not isinstance(queue_name, str) or not QUEUE_NAME.fullmatch(queue_name):
            raise ConfigError(
                "queue_name",
                f"{queue_name!r} is not a standard SQS queue name (1-80 of A-Z a-z 0-9 - _; FIFO queues "
                "are not supported)",
            )
        chosen = tuple(dict.fromkeys(statuses))
        unknown = [s for s in chosen if s not in JOB_STATUSES]
        if not chosen or unknown:
            raise ConfigError(
                "statuses", f"{unknown or 'nothing'} given; choose from {', '.join(JOB_STATUSES)}"
            )
        if job_name_prefix is not None and (
            not isinstance(job_name_prefix, str) or not _JOB_NAME_PREFIX.fullmatch(job_name_prefix)
        ):
            # A prefix no job name can start with ('*', 'rft_', ' rft') makes a rule that never fires.
            raise ConfigError(
                "job_name_prefix",
                f"{job_name_prefix!r} is not the start of a job name: 1-63 characters, a letter or digit "
                "first, then letters, digits, '-', '+' or '.'",
            )
        return cls(rule_name, queue_name, chosen, job_name_prefix or None)

    def event_pattern(self) -> dict[str, Any]:
        """The rule's event pattern (EventBridge pattern syntax) as a dict."""
        detail: dict[str, Any] = {"jobStatus": list(self.statuses)}
        if self.job_name_prefix:
            detail["jobName"] = [{"prefix": self.job_name_prefix}]
        return {"source": [EVENT_SOURCE], "detail-type": [DETAIL_TYPE], "detail": detail}


def queue_policy(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """The queue's resource policy: only EventBridge, on behalf of exactly ``rule_arn``, may send to it.

    Nothing else is granted: Airflow reads and deletes messages with its own identity policy.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BedrockRFTJobEventsFromRule",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }


@dataclass(frozen=True)
class JobStateChange:
    """One checked job state-change event; a hint: the authoritative state is GetModelCustomizationJob."""

    job_arn: str
    job_name: str
    status: str
    output_model_arn: str | None
    failure_message: str | None
    time: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_arn": self.job_arn,
            "job_name": self.job_name,
            "status": self.status,
            "output_model_arn": self.output_model_arn,
            "failure_message": self.failure_message,
            "time": self.time,
        }


def parse_job_state_change(body: str | bytes | Mapping[str, Any]) -> JobStateChange:
    """Read an SQS message body (or the decoded event) as a job state-change event.

    Anyone allowed to write to the queue chooses its bytes, so the body is bounded, decoded strictly
    and every field used is type- and pattern-checked; raises EventError naming what is wrong.
    """
    event = _decode(body)
    if event.get("source") != EVENT_SOURCE or event.get("detail-type") != DETAIL_TYPE:
        raise EventError(
            f"not a Bedrock job state-change event (source {str(event.get('source'))[:60]!r}, "
            f"detail-type {str(event.get('detail-type'))[:60]!r})"
        )
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise EventError("event.detail is missing or not an object")
    job_arn = _field(detail, "jobArn", JOB_ARN)
    job_name = _field(detail, "jobName", JOB_NAME, limit=63)
    raw_status = detail.get("jobStatus")
    status = next(
        (s for s in JOB_STATUSES if isinstance(raw_status, str) and s.lower() == raw_status.lower()), None
    )
    if status is None:
        raise EventError(f"event.detail.jobStatus {str(raw_status)[:40]!r} is not one of {JOB_STATUSES}")
    return JobStateChange(
        job_arn=job_arn,
        job_name=job_name,
        status=status,
        output_model_arn=_optional_text(detail, "outputModelArn", 2048),
        failure_message=_optional_text(detail, "failureMessage", 2048),
        time=_optional_text(event, "time", 64),
    )


def job_state_change_event(
    job: Mapping[str, Any], *, account: str, region: str, event_id: str, time: str
) -> dict[str, Any]:
    """The event Bedrock publishes for ``job`` (a GetModelCustomizationJob response), in the
    documented sample's shape; the sandbox emits it on every status change."""
    detail: dict[str, Any] = {
        "version": "0.0",
        "jobName": job["jobName"],
        "jobArn": job["jobArn"],
        "jobStatus": job["status"],
        "roleArn": job.get("roleArn"),
        "baseModelArn": job.get("baseModelArn"),
        "outputModelName": job.get("outputModelName"),
    }
    for key in ("outputModelArn", "failureMessage"):
        if job.get(key):
            detail[key] = job[key]
    return {
        "version": "0",
        "id": event_id,
        "detail-type": DETAIL_TYPE,
        "source": EVENT_SOURCE,
        "account": account,
        "time": time,
        "region": region,
        "resources": [job["jobArn"]],
        "detail": {k: v for k, v in detail.items() if v is not None},
    }


def state_changes(
    bodies: Sequence[str | bytes | Mapping[str, Any]],
) -> tuple[list[JobStateChange], list[str]]:
    """Parse many message bodies: the events that read, and one reason per body that did not."""
    changes, problems = [], []
    for index, body in enumerate(bodies):
        try:
            changes.append(parse_job_state_change(body))
        except EventError as exc:
            problems.append(f"message {index}: {exc}")
    return changes, problems


def _decode(body: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(body, Mapping):
        return dict(body)
    if not isinstance(body, (str, bytes)):
        raise EventError(f"message body is a {type(body).__name__}, not text")
    # surrogatepass: a str body may hold lone surrogates (from JSON escapes); count them, don't raise
    size = len(body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body)
    if size > MAX_MESSAGE_BYTES:
        raise EventError(f"message body is {size} bytes, above SQS's {MAX_MESSAGE_BYTES}")
    try:
        event = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise EventError(f"message body is not JSON: {str(exc)[:100]}") from None
    if not isinstance(event, dict):
        raise EventError("message body is not a JSON object")
    return event


def _field(detail: Mapping[str, Any], name: str, pattern: re.Pattern[str], limit: int = 1011) -> str:
    value = detail.get(name)
    if not isinstance(value, str) or len(value) > limit or not pattern.fullmatch(value):
        raise EventError(f"event.detail.{name} {str(value)[:80]!r} is missing or malformed")
    return value


def _optional_text(source: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = source.get(name)
    return value[:limit] if isinstance(value, str) and value else None
