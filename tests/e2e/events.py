"""Scenario 12: event-driven completion on the real services.

The retraining DAG runs with ``completion=event``: ``train`` only submits the job and the run ends. When
the sandbox job completes, its "Model Customization Job State Change" event goes through the EventBridge
rule ``bedrock-rft events-setup`` made (before the stack started) into the SQS queue; the asset watcher
on the triggerer turns it into an asset event, the scheduler starts an asset-triggered run of the
dispatcher ``bedrock_rft_post_training_events``, which starts the job's own run of
``bedrock_rft_post_training`` (``job__<job name>``) that deploys, evaluates, gates and promotes it. A
duplicate delivery of the same event starts a dispatcher run but no second job run.
It runs last: its promotion changes the gsm8k champion that scenarios 5, 6 and 9 look at.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.e2e import scenarios
from tests.e2e.api import wait_for
from tests.e2e.runs import RunWatch
from tests.e2e.stack import Stack

POST_DAG = "bedrock_rft_post_training"
EVENTS_DAG = "bedrock_rft_post_training_events"
CONF: dict[str, Any] = {**scenarios.RUN_CONF, "completion": "event"}


def _queue_url(stack: Stack) -> str:
    return str(stack.processes.env["BEDROCK_RFT_EVENTS_QUEUE_URL"])


def _runs(stack: Stack, dag_id: str, run_type: str) -> list[dict[str, Any]]:
    return [r for r in stack.api.dag_runs(dag_id) if r["run_type"] == run_type]


def event_driven_completion(stack: Stack) -> str:
    """12. completion=event via REST: the job's completion event starts a dispatcher run, which starts the
    post-training DAG's run for that job that deploys, evaluates and decides; a duplicate event starts
    a dispatcher run again but no second job run."""
    for dag_id in (EVENTS_DAG, POST_DAG):
        wait_for(f"{dag_id} to be parsed", lambda d=dag_id: _known(stack, d), timeout=300)
    # Earlier scenarios' jobs completed into the queue while the dispatcher was paused (its watcher
    # off): start from an empty queue so only this scenario's job is handled.
    stack.sandbox.client("sqs").purge_queue(QueueUrl=_queue_url(stack))
    stack.api.unpause(POST_DAG)
    stack.api.unpause(EVENTS_DAG)
    watch = scenarios.start_run(stack, "events", CONF)
    state = watch.wait_done(scenarios.RUN_TIMEOUT)
    assert state == "success", f"retraining run ended {state}; failed: {watch.failed_tasks()}"
    assert watch.seen["completes_here"][-1] == "success", watch.seen["completes_here"]
    for skipped in ("training_health", "deploy_tuned", "evaluate", "promote"):
        assert watch.seen[skipped][-1] == "skipped", (skipped, watch.seen[skipped])
    job_name = scenarios.job_name_of(stack, watch)

    job_run = RunWatch(stack.api, POST_DAG, f"job__{job_name}")
    wait_for(
        f"the completion event of {job_name} to start its post-training run",
        lambda: _exists(job_run),
        timeout=scenarios.STEP_TIMEOUT,
    )
    state = job_run.wait_done(scenarios.RUN_TIMEOUT)
    assert state == "success", f"post-training run ended {state}; failed: {job_run.failed_tasks()}"
    for task_id in ("completed_job", "deploy_tuned", "evaluate", "quality_gate"):
        assert job_run.seen[task_id][-1] == "success", (task_id, job_run.seen[task_id])
    decision = "promote" if job_run.seen["promote"][-1] == "success" else "reject"
    assert job_run.seen[decision][-1] == "success", dict(job_run.seen)
    handled = stack.api.xcom(POST_DAG, job_run.run_id, "completed_job")
    assert handled["job_name"] == job_name, handled
    dispatchers = _runs(stack, EVENTS_DAG, "asset_triggered")
    assert dispatchers, f"no asset-triggered run of {EVENTS_DAG}"

    # EventBridge delivers at least once: the same event again starts a dispatch run, but no job run.
    # Its dispatch run follows within the watcher's poll, not the next DAG parse (apache/airflow#73032).
    event = _completion_event(stack, job_name)
    sent = time.monotonic()
    stack.sandbox.client("sqs").send_message(QueueUrl=_queue_url(stack), MessageBody=json.dumps(event))
    again = wait_for(
        "the duplicate event's dispatch run",
        lambda: _new_run(stack, {r["dag_run_id"] for r in dispatchers}),
        timeout=scenarios.STEP_TIMEOUT,
    )
    dispatched_after = time.monotonic() - sent
    duplicate = RunWatch(stack.api, EVENTS_DAG, again)
    assert duplicate.wait_done(scenarios.RUN_TIMEOUT) == "success", dict(duplicate.seen)
    assert duplicate.seen["start_job_runs"][-1] == "skipped", dict(duplicate.seen)
    job_runs = [r["dag_run_id"] for r in stack.api.dag_runs(POST_DAG)]
    assert job_runs == [job_run.run_id], job_runs
    return (
        f"retraining ended after submitting {job_name}; its completion event started {job_run.run_id} "
        f"(dispatched by {EVENTS_DAG} {dispatchers[0]['dag_run_id']}), which deployed, evaluated and "
        f"chose {decision}; a duplicate event's dispatch run came {dispatched_after:.0f}s after it was "
        "sent and started no second job run"
    )


def _known(stack: Stack, dag_id: str) -> bool | None:
    try:
        stack.api.get(f"/dags/{dag_id}")
    except Exception:
        return None
    return True


def _exists(watch: RunWatch) -> bool | None:
    try:
        watch.run_state()
    except Exception:
        return None
    return True


def _new_run(stack: Stack, known: set[str]) -> str | None:
    fresh = [
        r["dag_run_id"] for r in _runs(stack, EVENTS_DAG, "asset_triggered") if r["dag_run_id"] not in known
    ]
    return fresh[0] if fresh else None


def _completion_event(stack: Stack, job_name: str) -> dict[str, Any]:
    """The event Bedrock (here the sandbox) published for the job's completion, rebuilt from the job."""
    from bedrock_rft_provider.jobs.events import job_state_change_event
    from tests.e2e import aws

    job = stack.sandbox.client("bedrock").get_model_customization_job(jobIdentifier=job_name)
    return job_state_change_event(job, account=aws.ACCOUNT, region=aws.REGION, event_id="dup", time="t")
