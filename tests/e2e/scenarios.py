"""Scenarios 1-4: the retraining DAG on the real services, and what a dead triggerer, a clear and a
mark-failed do to a deferred RFT task and its paid job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e import aws
from tests.e2e.api import wait_for
from tests.e2e.runs import RunWatch, trigger
from tests.e2e.stack import Stack

DAG_ID = "bedrock_rft_retraining"
DEFERRED_TASKS = ("train", "deploy_tuned")
RUN_TIMEOUT = 1200.0  # a retraining run takes ~1.5-3 min here; the bound only catches a hang
STEP_TIMEOUT = 600.0
WORKERS = {"e2e-worker-1", "e2e-worker-2"}
# Every run must really train (scenarios 2-4 act on a training job), also where the DAG reuses the
# model of a job with the same data and configuration; a DAG without that param ignores the key.
# Every run must also promote on merit alone (scenario 5 evaluates its champion, scenario 6 reads the
# promotion's links): the sandbox's simulated answer lengths follow the job-name seed, which hashes this
# install's random namespace, so the default response-length guard would reject some e2e runs at random.
RUN_CONF: dict[str, Any] = {
    "force_retrain": True,
    "gate_guards": [{"metric": "error_rate", "tolerance": 0.01}],
}


def start_run(stack: Stack, name: str, conf: dict[str, Any] | None = None, *, kind: str = "runs") -> RunWatch:
    """Trigger a retraining run via REST (``conf``: RUN_CONF); the first call also unpauses the DAG.

    Unpausing makes the scheduler create a run for the latest cron interval next to ours (issue 10,
    fault 2); it is marked failed at once so it neither trains nor delays ours (max_active_runs=1).
    The run id is kept under ``stack.state[kind]`` (``runs``: native training runs) for scenario 9.
    """
    watch = trigger(stack.api, DAG_ID, f"e2e-{name}-{stack.run_tag}", conf or RUN_CONF)
    if not stack.state.get("unpaused"):
        stack.api.unpause(DAG_ID)
        stack.state["unpaused"] = True
        scheduled = wait_for("the scheduler's catch-up run", lambda: _scheduled_run(stack), timeout=120)
        stack.api.call("PATCH", f"/dags/{DAG_ID}/dagRuns/{scheduled}", json={"state": "failed"})
    stack.state.setdefault(kind, []).append(watch.run_id)
    return watch


def _scheduled_run(stack: Stack) -> str | None:
    runs = [r for r in stack.api.dag_runs(DAG_ID) if r["run_type"] == "scheduled"]
    return runs[0]["dag_run_id"] if runs else None


def job_name_of(stack: Stack, watch: RunWatch) -> str:
    """The RFT job the run's ``train`` task started (from the link XCom it stores)."""
    link = stack.api.xcom(DAG_ID, watch.run_id, "train", "bedrock_rft_job")
    job = stack.sandbox.client("bedrock").get_model_customization_job(jobIdentifier=link["job_arn"])
    return str(job["jobName"])


def jobs_of_run(stack: Stack, job_name: str) -> list[dict[str, Any]]:
    """Every job of the run: the first try's name, and any ``<name>-a<N>`` a later try started."""
    return [
        j
        for j in aws.rft_jobs(stack.sandbox)
        if j["jobName"] == job_name or j["jobName"].startswith(f"{job_name}-a")
    ]


def trigger_logs(stack: Stack, watch: RunWatch, task_id: str) -> list[Path]:
    """The triggerer's per-trigger logs of a task (``attempt=N.log.trigger.<triggerer job>.log``)."""
    folder = (
        stack.logs / "task-logs" / f"dag_id={watch.dag_id}" / f"run_id={watch.run_id}" / f"task_id={task_id}"
    )
    return sorted(folder.glob("attempt=*.log.trigger.*.log"))


def happy_path(stack: Stack) -> str:
    """1. Triggered via REST, the run succeeds; train and deploy_tuned deferred and resumed on the
    triggerer; tasks ran on both Celery workers. (Scenarios 15 and 16 read its lineage events and the
    notifications it sent to the topic set here.)"""
    topic_arn, queue_url = aws.notification_topic(stack.sandbox)
    stack.state["notifications"] = queue_url
    watch = start_run(stack, "happy", {**RUN_CONF, "notify_topic_arn": topic_arn})
    state = watch.wait_done(RUN_TIMEOUT)
    stack.state["happy_run"] = watch.run_id
    assert state == "success", f"run ended {state}; failed tasks: {watch.failed_tasks()}"
    for task_id in DEFERRED_TASKS:
        assert watch.passed_through(task_id, "deferred"), (
            f"{task_id} never seen deferred: {watch.seen[task_id]}"
        )
        assert trigger_logs(stack, watch, task_id), f"no trigger ran on the triggerer for {task_id}"
        assert watch.seen[task_id][-1] == "success"
    hosts = {ti["hostname"] for ti in stack.api.task_instances(DAG_ID, watch.run_id) if ti.get("hostname")}
    assert hosts >= WORKERS, f"tasks ran only on {sorted(hosts)}"
    jobs = jobs_of_run(stack, job_name_of(stack, watch))
    assert [j["status"] for j in jobs] == ["Completed"], jobs
    return f"success; {', '.join(DEFERRED_TASKS)} went deferred -> success; tasks on {sorted(hosts)}"


def triggerer_restart(stack: Stack) -> str:
    """2. While train is deferred, SIGKILL the triggerer and start another: the task resumes on the
    same job. (The run goes on into scenario 3.)"""
    aws.HOLD.hold()
    watch = start_run(stack, "resilience")
    stack.state["resilience"] = watch
    watch.wait_task("train", {"deferred"}, STEP_TIMEOUT)
    job = job_name_of(stack, watch)
    stack.state["resilience_job"] = job
    wait_for(
        "the first triggerer to pick up the trigger",
        lambda: trigger_logs(stack, watch, "train") or None,
        timeout=STEP_TIMEOUT,
    )
    before = set(trigger_logs(stack, watch, "train"))
    old = next(c for c in stack.processes.started if c.name == "triggerer")
    stack.processes.kill(old)
    stack.start("triggerer#2")
    # The new triggerer adopts the trigger once the dead one's heartbeat is older than
    # [triggerer] triggerer_health_check_threshold; its log for the same attempt is a new file.
    wait_for(
        "the new triggerer to adopt the trigger",
        lambda: (set(trigger_logs(stack, watch, "train")) - before) or None,
        timeout=STEP_TIMEOUT,
    )
    ti = stack.api.task_instance(DAG_ID, watch.run_id, "train")
    assert ti["state"] == "deferred" and ti["try_number"] == 1, ti
    assert aws.job_status(stack.sandbox, job) == "InProgress"
    assert [j["jobName"] for j in jobs_of_run(stack, job)] == [job]
    return f"triggerer {old.process.pid} killed; the new one resumed waiting on {job} (try 1, one job)"


def clear_reattaches(stack: Stack) -> str:
    """3. While train is deferred, clear it: the next try reattaches to the same job, which is not
    stopped; no second job; the run ends success."""
    watch: RunWatch = stack.state["resilience"]
    job: str = stack.state["resilience_job"]
    try:
        stack.api.clear(DAG_ID, watch.run_id, "train")
        watch.wait_task("train", {"deferred"}, STEP_TIMEOUT, try_number=2)
        status = aws.job_status(stack.sandbox, job)
        assert status == "InProgress", f"clearing the task left the job {status}"
    finally:
        aws.HOLD.release()
    state = watch.wait_done(RUN_TIMEOUT)
    assert state == "success", f"run ended {state}; failed tasks: {watch.failed_tasks()}"
    jobs = jobs_of_run(stack, job)
    assert [(j["jobName"], j["status"]) for j in jobs] == [(job, "Completed")], jobs
    result = stack.api.xcom(DAG_ID, watch.run_id, "train")
    assert result["reattached"] is True and result["job_name"] == job, result
    return f"try 2 reattached to {job} (never Stopping); one job, Completed; run success"


def mark_failed_stops(stack: Stack) -> str:
    """4. While train is deferred, mark it failed: the job is stopped (the documented way)."""
    aws.HOLD.hold()
    try:
        watch = start_run(stack, "stop")
        watch.wait_task("train", {"deferred"}, STEP_TIMEOUT)
        job = job_name_of(stack, watch)
        # Airflow calls on_kill only on a trigger a triggerer is running: wait until one is.
        wait_for(
            "the triggerer to run the trigger",
            lambda: trigger_logs(stack, watch, "train") or None,
            timeout=STEP_TIMEOUT,
        )
        stack.api.set_state(DAG_ID, watch.run_id, "train", "failed")
        status = wait_for(
            f"{job} to be stopped",
            lambda: s if (s := aws.job_status(stack.sandbox, job)) in {"Stopping", "Stopped"} else None,
            timeout=STEP_TIMEOUT,
        )
    finally:
        aws.HOLD.release()
    final = wait_for(
        f"{job} to end",
        lambda: s if (s := aws.job_status(stack.sandbox, job)) != "Stopping" else None,
        timeout=STEP_TIMEOUT,
    )
    state = watch.wait_done(RUN_TIMEOUT)
    assert final == "Stopped" and state == "failed", (final, state)
    assert [j["jobName"] for j in jobs_of_run(stack, job)] == [job]
    return f"{job} went {status} -> {final}; run {state}; no other job"
