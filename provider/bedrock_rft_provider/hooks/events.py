"""BedrockRFTEventsHook: route Bedrock job state-change events (EventBridge rule) into an SQS queue."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from airflow.providers.amazon.aws.hooks.eventbridge import EventBridgeHook
from airflow.providers.amazon.aws.hooks.sqs import SqsHook
from botocore.exceptions import ClientError

from bedrock_rft_provider.errors import aws_error_code
from bedrock_rft_provider.jobs.events import TARGET_ID, EventRoute, queue_policy

RULE_DESCRIPTION = "bedrock-rft: Bedrock model customization job state changes -> SQS (Airflow asset watcher)"


@dataclass(frozen=True)
class RouteSetup:
    """What :meth:`BedrockRFTEventsHook.ensure_route` found or made; ``changed`` lists what it wrote."""

    rule_name: str
    rule_arn: str
    queue_url: str
    queue_arn: str
    changed: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_name": self.rule_name,
            "rule_arn": self.rule_arn,
            "queue_url": self.queue_url,
            "queue_arn": self.queue_arn,
            "changed": list(self.changed),
        }


class BedrockRFTEventsHook(SqsHook):
    """Create, idempotently, the EventBridge rule, the SQS queue, its policy and the rule's target.

    Same connection arguments as every AWS hook (``aws_conn_id``, ``region_name``, ...). The caller needs
    ``events:PutRule``, ``events:DescribeRule``, ``events:PutTargets``, ``events:ListTargetsByRule``,
    ``sqs:CreateQueue``, ``sqs:GetQueueAttributes`` and ``sqs:SetQueueAttributes``; Airflow's triggerer
    then needs ``sqs:ReceiveMessage`` and ``sqs:DeleteMessage`` on the queue.
    """

    @property
    def events(self) -> Any:
        return EventBridgeHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify, config=self.config
        ).conn

    def ensure_route(self, route: EventRoute) -> RouteSetup:
        """Make the rule -> queue route exist exactly as ``route`` says; running it again changes nothing.

        The queue is dedicated to these events: its resource policy is replaced by the one statement
        that lets ``events.amazonaws.com`` send on behalf of this rule only. Raises ``ClientError``
        (with AWS's message) when the caller may not create or change a piece.
        """
        changed: list[str] = []
        sqs, events = self.conn, self.events
        queue_url = self._queue(sqs, route.queue_name, changed)
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn", "Policy"])[
            "Attributes"
        ]
        queue_arn = attributes["QueueArn"]
        pattern = route.event_pattern()
        rule_arn = self._rule(events, route.rule_name, pattern, changed)
        policy = queue_policy(queue_arn, rule_arn)
        if _json_or_none(attributes.get("Policy")) != policy:
            sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
            changed.append(f"queue policy of {route.queue_name}")
        targets = events.list_targets_by_rule(Rule=route.rule_name).get("Targets", [])
        if not any(t.get("Id") == TARGET_ID and t.get("Arn") == queue_arn for t in targets):
            events.put_targets(Rule=route.rule_name, Targets=[{"Id": TARGET_ID, "Arn": queue_arn}])
            changed.append(f"target {TARGET_ID} of rule {route.rule_name}")
        for stale in (t for t in targets if t.get("Id") != TARGET_ID):
            self.log.warning(
                "Rule %s also sends to %s (target %s, not ours): left as it is",
                route.rule_name,
                stale.get("Arn"),
                stale.get("Id"),
            )
        return RouteSetup(route.rule_name, rule_arn, queue_url, queue_arn, tuple(changed))

    @staticmethod
    def _queue(sqs: Any, name: str, changed: list[str]) -> str:
        try:
            return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
        except ClientError as exc:
            # JSON-protocol SQS answers QueueDoesNotExist; the query-compatible code names NonExistentQueue.
            if not aws_error_code(exc).endswith(("NonExistentQueue", "QueueDoesNotExist")):
                raise
        changed.append(f"queue {name}")
        return str(sqs.create_queue(QueueName=name)["QueueUrl"])

    @staticmethod
    def _rule(events: Any, name: str, pattern: dict[str, Any], changed: list[str]) -> str:
        try:
            current = events.describe_rule(Name=name)
        except ClientError as exc:
            if aws_error_code(exc) != "ResourceNotFoundException":
                raise
            current = None
        if (
            current is not None
            and _json_or_none(current.get("EventPattern")) == pattern
            and current.get("State") == "ENABLED"
        ):
            return str(current["Arn"])
        arn = events.put_rule(
            Name=name, EventPattern=json.dumps(pattern), State="ENABLED", Description=RULE_DESCRIPTION
        )["RuleArn"]
        changed.append(f"rule {name}" if current is None else f"rule {name} (pattern/state updated)")
        return str(arn)


def _json_or_none(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) and text else None
    except ValueError:
        return None
