"""Scenarios 15-16: what scenario 1's run reported besides its result, read without a run of their own.

15: the OpenLineage events its tasks emitted on the Celery workers (the provider's listener, ``file``
transport into ``<logs>/openlineage.jsonl``, set on every component in stack.py) link the dataset
files to the champion record. 16: the gate decision and the promotion were sent through the DAG's
notifier to the SNS topic scenario 1 set (``notify_topic_arn``), read back from a subscribed SQS queue.
"""

from __future__ import annotations

from typing import Any

from tests.e2e import aws, scenarios
from tests.e2e.api import wait_for
from tests.e2e.stack import LINEAGE_FILE, Stack
from tests.support.lineage_chain import CHAIN_TASKS, check_chain, task_completions

FAMILY = "gsm8k"  # scenario 1's (the DAG's default)
BRIEF_PARTS = ("mean reward delta", "95% CI", "| error_rate |", "Gate: **PROMOTE**", "report.html")


def _happy_run(stack: Stack) -> str:
    run_id = stack.state.get("happy_run")
    assert run_id, "scenario 1 did not run: these scenarios read its run"
    return str(run_id)


def lineage_of_the_happy_run(stack: Stack) -> str:
    """15. Scenario 1's OpenLineage events (emitted by its tasks on the workers): dataset files with
    sha256 -> grader (version, code hash) -> RFT job -> custom model -> deployment -> evaluation
    summary -> champion record, matching the record its promote task wrote (a later scenario may
    promote in the same family since)."""
    run_id = _happy_run(stack)
    path = stack.logs / LINEAGE_FILE

    def chain_complete() -> dict[str, dict[str, Any]] | None:
        found = task_completions(path, run_id) if path.exists() else {}
        return found if set(CHAIN_TASKS) <= set(found) else None

    # A task's COMPLETE event is emitted by the listener right after the task ends (in a fork on the
    # worker): wait until every chain task's event is in the file.
    events = wait_for(
        f"the COMPLETE lineage events of {run_id} in {path}", chain_complete, timeout=scenarios.STEP_TIMEOUT
    )
    champion = stack.api.xcom(scenarios.DAG_ID, run_id, "promote")["record"]
    chain = check_chain(events, champion, FAMILY, region=aws.REGION)
    return f"{len(events)} COMPLETE events of the run; {chain}"


def notifications_of_the_happy_run(stack: Stack) -> str:
    """16. Scenario 1's gate decision and promotion were each sent once to its SNS topic through the
    DAG's notifier, with the evaluation brief as the body (the promotion's naming the new champion)."""
    run_id = _happy_run(stack)
    queue_url = stack.state["notifications"]
    messages = [m for m in aws.notifications(stack.sandbox, queue_url) if run_id in m.get("Message", "")]
    subjects = sorted(m.get("Subject", "") for m in messages)
    gate = [m for m in messages if m.get("Subject", "").startswith(f"Bedrock RFT {FAMILY}: gate decision")]
    promotion = [m for m in messages if m.get("Subject", "").startswith(f"Bedrock RFT {FAMILY}: promotion")]
    assert len(gate) == 1 and len(promotion) == 1, f"expected one gate decision and one promotion: {subjects}"
    for message in (gate[0], promotion[0]):
        for part in BRIEF_PARTS:
            assert part in message["Message"], (
                f"{message['Subject']!r} lacks {part!r}: {message['Message'][:600]}"
            )
    champion = stack.api.xcom(scenarios.DAG_ID, run_id, "promote")["record"]
    assert champion["custom_model_arn"] in promotion[0]["Message"], promotion[0]["Message"][:600]
    return f"{len(messages)} messages for the run: {subjects}; each carries the evaluation brief"
