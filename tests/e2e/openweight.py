"""Scenario 8: the retraining DAG on the open-weight backend (``openai.gpt-oss-20b``) on the real services.

Triggered through the REST API like a user would, it trains through the sandbox's OpenAI-compatible
API with the train task deferred on the triggerer; a clear while it is deferred reattaches the next try
to the same fine-tuning job (counted through the sandbox's ``/v1/fine_tuning/jobs`` list, as a user's
tooling would see it), and the run ends success with no deployment step.
"""

from __future__ import annotations

from typing import Any

from bedrock_rft_provider.sandbox.server import Sandbox
from tests.e2e import aws, scenarios
from tests.e2e.api import wait_for
from tests.e2e.stack import Stack

MODEL = "openai.gpt-oss-20b"
# Its own champion family, so the native runs' gsm8k champion (scenarios 5, 6, 9) stays theirs, and its
# own (smaller) dataset: datasets are stored per family, and scenario 9 counts a copy as a duplicate.
CONF: dict[str, Any] = {
    **scenarios.RUN_CONF,
    "base_model_id": MODEL,
    "model_family": "gsm8k-open-weight",
    "dataset_input": "400",
}
LIVE = {"validating_files", "queued", "running"}


def fine_tuning_jobs(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """Every fine-tuning job in the sandbox by id, read through the official ``openai`` client."""
    from openai import OpenAI

    client = OpenAI(base_url=sandbox.openai_base_url, api_key=sandbox.api_key)
    return {job.id: job.model_dump(warnings=False) for job in client.fine_tuning.jobs.list(limit=100)}


def open_weight_run(stack: Stack) -> str:
    """8. gpt-oss via REST: train deferred, a clear reattaches to the one job, the run succeeds and
    skips the deployment."""
    before = set(fine_tuning_jobs(stack.sandbox))
    aws.HOLD.hold()  # the job waits in validating_files while the scenario clears its task
    try:
        watch = scenarios.start_run(stack, "open-weight", CONF, kind="open_weight_runs")
        watch.wait_task("train", {"deferred"}, scenarios.STEP_TIMEOUT)
        wait_for(
            "the triggerer to run the open-weight trigger",
            lambda: scenarios.trigger_logs(stack, watch, "train") or None,
            timeout=scenarios.STEP_TIMEOUT,
        )
        new = sorted(set(fine_tuning_jobs(stack.sandbox)) - before)
        assert len(new) == 1, f"{len(new)} fine-tuning jobs started by try 1: {new}"
        job_id = new[0]
        stack.api.clear(scenarios.DAG_ID, watch.run_id, "train")
        watch.wait_task("train", {"deferred"}, scenarios.STEP_TIMEOUT, try_number=2)
        status = fine_tuning_jobs(stack.sandbox)[job_id]["status"]
        assert status in LIVE, f"clearing the task left the job {status}"
    finally:
        aws.HOLD.release()
    state = watch.wait_done(scenarios.RUN_TIMEOUT)
    assert state == "success", f"run ended {state}; failed tasks: {watch.failed_tasks()}"
    jobs = fine_tuning_jobs(stack.sandbox)
    created = {k: v for k, v in jobs.items() if k not in before}
    assert [(k, v["status"], v["model"]) for k, v in created.items()] == [(job_id, "succeeded", MODEL)], (
        created
    )
    result = stack.api.xcom(scenarios.DAG_ID, watch.run_id, "train")
    assert result["backend"] == "open-weight" and result["job_id"] == job_id, result
    assert result["reattached"] is True, result
    assert watch.seen["deploy_tuned"][-1] == "skipped", watch.seen["deploy_tuned"]
    assert watch.seen["evaluate"][-1] == "success", watch.seen["evaluate"]
    return (
        f"try 2 reattached to {job_id} (still {status} when cleared); one fine-tuning job, succeeded "
        f"({result['fine_tuned_model']}); deploy_tuned skipped; run success"
    )
