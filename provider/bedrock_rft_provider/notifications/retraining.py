"""BedrockRFTNotifier: gate decision, promotion, rollback, job failure and budget stop, sent to SNS.

Use it as a task callback (``on_success_callback`` / ``on_failure_callback``). The message body is
the evaluation brief (``evaluation.brief``), the same text the human approval shows. Without a topic
it sends nothing and logs one line, so a DAG can carry the callbacks whether or not a topic is set.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from airflow.sdk import BaseNotifier

from bedrock_rft_provider.evaluation.brief import evaluation_brief, is_budget_stop, sns_message, subject
from bedrock_rft_provider.evaluation.champion import named_model
from bedrock_rft_provider.templated import is_unset

if TYPE_CHECKING:
    from airflow.sdk import Context

EVENTS = ("gate_decision", "promotion", "rollback", "job_failure")


class BedrockRFTNotifier(BaseNotifier):
    """Send one retraining event through the amazon provider's ``SnsNotifier``.

    :param event: ``gate_decision`` (callback of the quality gate), ``promotion`` (of the promote
        task), ``rollback`` (of ``BedrockRFTRollbackOperator``; for both, a retry or clear that finds
        its promotion or rollback already made sends nothing again) or ``job_failure`` (failure
        callback of the training task; a failure caused by a spend cap is sent as "budget stop").
    :param topic_arn: the SNS topic (templated, e.g. ``"{{ params.notify_topic_arn }}"``); empty or
        None = no notification, one log line instead.
    :param family: the champion family, shown in the subject and heading (templated).
    :param report_uri: where the evaluation ``report.html`` is (templated).
    :param summary_task_id: the task whose return value is the evaluation summary (default ``evaluate``).
    :param gate_task_id: the task that pushed the ``gate_decision`` XCom (default ``quality_gate``).
    :param aws_conn_id: the AWS connection (default ``aws_default``; None = boto3's default credential
        chain). A connection id that is not defined, or one the AWS hook cannot use (an extra that is not a
        JSON object, a region that is not text, an unknown ``assume_role_method``, ...), sends nothing and
        logs one error line naming it.
    :param region_name: optional region override.
    :raises ValueError: an unknown ``event`` (at DAG parse time).
    """

    template_fields = ("topic_arn", "family", "report_uri", "aws_conn_id", "region_name")

    def __init__(
        self,
        *,
        event: str,
        topic_arn: str | None,
        family: str | None = None,
        report_uri: str | None = None,
        summary_task_id: str = "evaluate",
        gate_task_id: str = "quality_gate",
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
    ) -> None:
        super().__init__()
        if event not in EVENTS:
            raise ValueError(f"event {event!r} is not one of {', '.join(EVENTS)}")
        self.event = event
        self.topic_arn = topic_arn
        self.family = family
        self.report_uri = report_uri
        self.summary_task_id = summary_task_id
        self.gate_task_id = gate_task_id
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name

    def compose(self, context: Context) -> tuple[str, str]:
        """``(subject, body)`` of this event's message, from the run's XComs and the task's outcome."""
        ti = context["ti"]
        summary = ti.xcom_pull(task_ids=self.summary_task_id)
        decision = ti.xcom_pull(task_ids=self.gate_task_id, key="gate_decision")
        family = self.family or None
        brief = evaluation_brief(
            summary if isinstance(summary, Mapping) else None,
            decision if isinstance(decision, Mapping) else None,
            report_uri=self.report_uri or None,
            family=family,
        )
        where = f"DAG {ti.dag_id}, run {ti.run_id}, task {ti.task_id}"
        if self.event == "job_failure":
            error = context.get("exception")
            kind = "budget stop" if is_budget_stop(error) else "training job failed"
            return subject(kind, family), f"{where}\n\n{kind}: {error}"
        if self.event == "gate_decision":
            verdict = "promote" if (decision or {}).get("promote") else "reject"
            return subject("gate decision", family, verdict), f"{where}\n\n{brief}"
        result = ti.xcom_pull(task_ids=ti.task_id) or {}
        record = (result.get("record") or {}) if isinstance(result, Mapping) else {}
        served = named_model(record) or "?"
        if self.event == "rollback":
            detail = f"back to version {record.get('rollback_of_version')}"
            return subject("rollback", family, detail), (
                f"{where}\n\nThe champion is {served} again (SSM version {result.get('version')}), "
                f"served by {record.get('deployment_arn') or 'no deployment'}."
            )
        return subject("promotion", family, f"version {result.get('version')}"), (
            f"{where}\n\n{served} is the new champion (SSM version {result.get('version')}), served by "
            f"{record.get('deployment_arn') or 'no deployment'}.\n\n{brief}"
        )

    def notify(self, context: Context) -> None:
        title, body = self.compose(context)
        repeated = getattr(context.get("task"), "already_written", None)
        if self.event in ("promotion", "rollback") and repeated is not None:
            self.log.info(
                "Not sending %r again: an earlier try already wrote it (version %d)", title, repeated
            )
            return
        if is_unset(self.topic_arn):
            self.log.info("No notification topic set (notify_topic_arn): not sending %r", title)
            return
        from airflow.providers.amazon.aws.notifications.sns import SnsNotifier
        from botocore.exceptions import BotoCoreError, ClientError

        unusable = _connection_problem(self.aws_conn_id)
        if unusable:
            # Not the amazon hook's fallback to the worker's own credentials: a named connection that is
            # not there is a misconfiguration, and one line naming it is all the log should get.
            self.log.error("Could not send %r to %s: %s", title, self.topic_arn, unusable)
            return
        try:
            # notify(), not __call__: the body holds evaluation text and must not be rendered as Jinja.
            SnsNotifier(
                aws_conn_id=self.aws_conn_id,
                target_arn=str(self.topic_arn),
                message=sns_message(body),  # within SNS's 256 KiB, printable: else it bounces
                subject=title,
                region_name=self.region_name or None,
            ).notify(context)
        except (BotoCoreError, ClientError) as exc:
            # A message is a courtesy: the task's outcome (a promotion already made) stands.
            self.log.error("Could not send %r to %s: %s", title, self.topic_arn, " ".join(str(exc).split()))
            return
        except (TypeError, ValueError, AttributeError, NotImplementedError) as exc:
            # What the amazon hook and botocore raise on a connection they cannot use (a region that is
            # not text, config_kwargs that is not an object, an unknown assume_role_method, an endpoint
            # they cannot build): a misconfiguration, said in one line like the others, not a traceback.
            problem = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
            self.log.error(
                "Could not send %r to %s: AWS connection %r is not usable (aws_conn_id): %s",
                title,
                self.topic_arn,
                self.aws_conn_id,
                problem,
            )
            return
        self.log.info("Sent %r to %s", title, self.topic_arn)


def _connection_problem(conn_id: str | None) -> str | None:
    """Why the Airflow connection ``conn_id`` cannot be used, or None (also for None: boto3's chain)."""
    if is_unset(conn_id):
        return None
    from airflow.exceptions import AirflowNotFoundException
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowRuntimeError, ErrorType

    try:
        connection = BaseHook.get_connection(str(conn_id))
    except AirflowNotFoundException:
        return f"AWS connection {conn_id!r} is not defined (aws_conn_id)"
    except AirflowRuntimeError as exc:  # what the Task SDK raised instead before apache/airflow#52880
        if exc.error.error == ErrorType.CONNECTION_NOT_FOUND:
            return f"AWS connection {conn_id!r} is not defined (aws_conn_id)"
        return f"AWS connection {conn_id!r} could not be read (aws_conn_id): {exc}"
    if connection.extra:
        # Read before the hook does: Airflow logs a traceback for an extra that is not JSON, then goes
        # on with no extra at all (no endpoint, region or role), which is not what the connection says.
        try:
            extra = json.loads(connection.extra)
        except ValueError:
            extra = None
        if not isinstance(extra, dict):
            return f"AWS connection {conn_id!r} has an extra that is not a JSON object (aws_conn_id)"
    return None
