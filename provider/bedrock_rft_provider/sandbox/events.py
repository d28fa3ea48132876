"""Job state-change events, as Bedrock publishes them, delivered into moto's EventBridge -> SQS.

On every status change of a native job the control plane calls :func:`publish`: the event (the
documented shape, ``jobs/events.py``) goes to each enabled rule on the default bus whose pattern
matches, and to each SQS target of that rule **only if the queue's policy lets EventBridge send on
behalf of that rule** — as on AWS, where a queue without that grant silently drops the event (moto
itself skips the check). Open-weight (OpenAI-compatible API) jobs publish nothing: no EventBridge
events are documented for them.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

from bedrock_rft_provider.jobs.events import job_state_change_event
from bedrock_rft_provider.sandbox import moto_state
from bedrock_rft_provider.sandbox.protocol import ACCOUNT_ID

log = logging.getLogger(__name__)
EVENTS_PRINCIPAL = "events.amazonaws.com"


def publish(job: Mapping[str, Any], region: str) -> int:
    """Deliver the state-change event of ``job`` (a GetModelCustomizationJob response); returns how
    many queues received it. Never raises: events are best effort on AWS too."""
    try:
        event = job_state_change_event(
            job,
            account=ACCOUNT_ID,
            region=region,
            event_id=str(uuid.uuid4()),
            time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )
        delivered = 0
        for target in moto_state.matching_queue_targets(event, region):
            if not allows_send(target.policy, queue_arn=target.queue_arn, source_arn=target.rule_arn):
                log.warning(
                    "sandbox: event for job %s not delivered to queue %s: its policy does not let "
                    "events.amazonaws.com send on behalf of rule %s (AWS drops it the same way)",
                    job.get("jobName"),
                    target.queue_name,
                    target.rule_arn,
                )
                continue
            moto_state.send_to_queue(target.queue_name, json.dumps(event), region)
            delivered += 1
        return delivered
    except Exception:  # a sandbox bug must not fail the job it reports on
        log.exception("sandbox: could not publish the state-change event of job %s", job.get("jobName"))
        return 0


def allows_send(policy: str | None, *, queue_arn: str, source_arn: str) -> bool:
    """Whether a queue policy lets EventBridge (for rule ``source_arn``) call sqs:SendMessage.

    Allow needs a statement for the ``events.amazonaws.com`` service principal, the action and the
    queue; conditions other than ``ArnEquals``/``ArnLike``/``StringEquals``/``StringLike`` on
    ``aws:SourceArn`` make a statement not apply (the sandbox cannot evaluate them). Deny wins.
    """
    if not policy:
        return False
    try:
        statements = json.loads(policy).get("Statement", [])
    except (ValueError, AttributeError):
        return False
    if isinstance(statements, dict):
        statements = [statements]
    applies = [s for s in statements if isinstance(s, dict) and _applies(s, queue_arn, source_arn)]
    return any(s.get("Effect") == "Allow" for s in applies) and not any(
        s.get("Effect") == "Deny" for s in applies
    )


def _applies(statement: dict[str, Any], queue_arn: str, source_arn: str) -> bool:
    principal = statement.get("Principal")
    services = principal.get("Service") if isinstance(principal, dict) else principal
    if not (principal == "*" or EVENTS_PRINCIPAL in _strings(services)):
        return False
    if not any(
        fnmatch.fnmatchcase("sqs:SendMessage".lower(), a.lower()) for a in _strings(statement.get("Action"))
    ):
        return False
    if not any(fnmatch.fnmatchcase(queue_arn, r) for r in _strings(statement.get("Resource"))):
        return False
    for operator, checks in (statement.get("Condition") or {}).items():
        if operator not in ("ArnEquals", "ArnLike", "StringEquals", "StringLike") or not isinstance(
            checks, dict
        ):
            return False
        for key, values in checks.items():
            if key.lower() != "aws:sourcearn":
                return False
            like = operator.endswith("Like")
            if not any(
                fnmatch.fnmatchcase(source_arn, v) if like else source_arn == v for v in _strings(values)
            ):
                return False
    return True


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
