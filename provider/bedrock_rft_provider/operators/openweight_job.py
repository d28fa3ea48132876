"""The open-weight backend of ``BedrockRFTJobOperator``: find-or-create, wait (deferred or not), finish.

Kept out of ``rft_job.py`` so the operator stays a dispatcher. Reattachment has no idempotency key to
lean on (none is documented): the training data is uploaded once per training key under a name that
carries it (:func:`jobs.openweight.training_filename`), and a job trained on that file is this key's
job. So any later execution with the same inputs — a retry, a clear, another run — reattaches to a live
or succeeded job instead of creating one; ``force_retrain`` puts the run into the key, so a forced run
trains afresh while its own retries still reattach.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bedrock_rft_provider.errors import JobFailedError
from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook, OpenWeightJob
from bedrock_rft_provider.jobs.backends import OPEN_WEIGHT, region_note
from bedrock_rft_provider.jobs.health import assess_training
from bedrock_rft_provider.jobs.naming import run_fingerprint
from bedrock_rft_provider.jobs.openweight import (
    FAILURE_STATES,
    SUCCESS_STATES,
    TERMINAL_STATES,
    OpenWeightJobSpec,
    open_weight_training_key,
)
from bedrock_rft_provider.jobs.openweight_metrics import metric_point
from bedrock_rft_provider.jobs.spend_guard import WaitGuard
from bedrock_rft_provider.jobs.waiting import WaitLimit
from bedrock_rft_provider.namespace import resolve_namespace
from bedrock_rft_provider.triggers import spend_watch
from bedrock_rft_provider.triggers.kill_reason import user_stopped
from bedrock_rft_provider.triggers.openweight import BedrockOpenWeightJobTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

HOOK_ATTRIBUTE = "_open_weight_job_id"


def build_spec(operator: Any) -> OpenWeightJobSpec:
    """The validated open-weight request from the operator's (rendered) arguments; raises before any call."""
    return OpenWeightJobSpec.build(
        base_model_id=operator.base_model_id,
        training_data_uri=operator.training_data_uri,
        reward_lambda_arn=operator.reward_lambda_arn,
        hyperparameters=operator.hyperparameters,
        validation_data_uri=operator.validation_data_uri,
        namespace=resolve_namespace(operator.namespace),
        backend=operator.backend,
        unsupported={
            "suffix": getattr(operator, "suffix", None),
            "job_name": operator.job_name,
            "custom_model_name": operator.custom_model_name,
            "kms_key_id": operator.kms_key_id,
            "vpc_config": operator.vpc_config,
            "tags": operator.tags,
        },
    )


def hook_for(operator: Any) -> BedrockOpenWeightHook:
    return BedrockOpenWeightHook(
        aws_conn_id=operator.aws_conn_id, region_name=operator.region_name, verify=operator.verify
    )


def execute(operator: Any, context: Context, *, force: bool, limit: WaitLimit) -> dict[str, Any]:
    """Start (or reattach to) the open-weight job and wait for it like the native path does: the same
    checks (``limit``, from :func:`jobs.waiting.wait_limit`) deferred or not."""
    waiter_delay, waiter_max_attempts = int(limit.waiter_delay), limit.waiter_max_attempts
    spec = build_spec(operator)
    guard: WaitGuard = operator.guard()
    hook = hook_for(operator)
    note = region_note(spec.base_model_id, hook.mantle_region)
    if note:
        operator.log.warning("%s", note)
    data: dict[str, bytes] = {}
    hashes = []
    for uri in spec.data_uris():
        data[uri], sha = hook.read_data(uri)
        hashes.append((uri, sha))
    ti = context["ti"]
    run = run_fingerprint(spec.namespace, ti.dag_id, ti.run_id, ti.task_id) if force else None
    key = open_weight_training_key(
        spec,
        data_sha256=hashes,
        grader=operator.hook.grader_identity(spec.reward_lambda_arn),
        run_fingerprint=run,
    )
    operator.log.info(
        "Open-weight RFT: %s%s", key.describe(), " (force_retrain: this run's own)" if run else ""
    )
    found = hook.find_or_create_job(spec, key, data)
    setattr(operator, HOOK_ATTRIBUTE, found.job_id)
    result = {"training_key": key.digest, "reattached": found.reattached}
    if found.status in TERMINAL_STATES or not operator.wait_for_completion:
        return finish(operator, hook, found.job, **result)
    if operator.deferrable:
        operator.log.info("Deferring until fine-tuning job %s finishes", found.job_id)
        operator.defer(
            trigger=BedrockOpenWeightJobTrigger(
                job_id=found.job_id,
                waiter_delay=waiter_delay,
                waiter_max_attempts=waiter_max_attempts,
                stop_on_kill=operator.stop_on_kill,
                aws_conn_id=operator.aws_conn_id,
                region_name=operator.region_name,
                verify=operator.verify,
                spend_guard=guard.to_dict() if guard.active else None,
            ),
            method_name="execute_complete",
            kwargs=result,
            timeout=limit.defer_timeout,
        )
    if guard.active:
        watch = spend_watch.OpenWeightWatch(hook, found.job_id, guard, operator.log)
        check = spend_watch.poll_until_done(watch, waiter_delay, waiter_max_attempts, operator.log)
        if check.outcome == spend_watch.GUARD_STOP:
            assert check.verdict is not None
            raise spend_watch.fail_stopped(context, watch, check.verdict.as_dict(), operator.log)
        return finish(operator, hook, check.job, **result)
    job = wait(operator, hook, found, waiter_delay=waiter_delay, waiter_max_attempts=waiter_max_attempts)
    return finish(operator, hook, job, **result)


def wait(
    operator: Any,
    hook: BedrockOpenWeightHook,
    found: OpenWeightJob,
    *,
    waiter_delay: int,
    waiter_max_attempts: int,
) -> dict[str, Any]:
    """Poll until the job ends, logging status changes and metric events; the last description."""
    job, cursor, status = found.job, None, None
    for attempt in range(max(1, waiter_max_attempts)):
        job = hook.retrieve_job(found.job_id)
        events, cursor = hook.events_since(found.job_id, cursor)
        for event in events:
            point = metric_point(event)
            operator.log.info(
                "Fine-tuning job %s %s", found.job_id, point.describe() if point else event["message"]
            )
        if job.get("status") != status:
            status = job.get("status")
            operator.log.info("Fine-tuning job %s is %s", found.job_id, status)
        if status in TERMINAL_STATES or attempt == waiter_max_attempts - 1:
            break
        time.sleep(waiter_delay)
    return job


def execute_complete(
    operator: Any, event: dict[str, Any], context: Context | None = None, **result: Any
) -> dict[str, Any]:
    """Resume after the trigger: read the job once more and finish (raises on failure or timeout, and
    :class:`~triggers.spend_watch.SpendStopError` when the guard stopped it)."""
    job_id = event["job_id"]
    setattr(operator, HOOK_ATTRIBUTE, job_id)
    hook = hook_for(operator)
    if event.get("guard"):
        watch = spend_watch.OpenWeightWatch(hook, job_id, operator.guard(), operator.log)
        raise spend_watch.fail_stopped(context or {}, watch, event["guard"], operator.log)
    return finish(operator, hook, hook.retrieve_job(job_id), **result)


def finish(operator: Any, hook: BedrockOpenWeightHook, job: dict[str, Any], **result: Any) -> dict[str, Any]:
    """The operator's result; JobFailedError with the job's error message when it failed or was cancelled."""
    status = job.get("status")
    if status in FAILURE_STATES:
        message = (job.get("error") or {}).get("message") or "Bedrock gave no error message"
        raise JobFailedError(f"Fine-tuning job {job['id']} ended {status}: {message}")
    if operator.wait_for_completion and status not in SUCCESS_STATES:
        raise JobFailedError(f"Fine-tuning job {job['id']} is still {status} after waiting")
    if status in SUCCESS_STATES:
        report = assess_training(hook.read_training_metrics(job["id"]))
        for line in report.notes + report.findings:
            operator.log.info("training health: %s", line)
        operator.log.info("Fine-tuning job %s succeeded: model %s", job["id"], job.get("fine_tuned_model"))
    return {
        "backend": OPEN_WEIGHT,
        "job_arn": job["id"],
        "job_name": job["id"],
        "job_id": job["id"],
        "custom_model_arn": job.get("fine_tuned_model"),
        "fine_tuned_model": job.get("fine_tuned_model"),
        "status": status,
        "reattached": bool(result.get("reattached")),
        # Without run identity on the job, a retry's reattach and another run's reuse look the same.
        "reused": bool(result.get("reattached")),
        "training_key": result.get("training_key"),
    }


def on_kill(operator: Any) -> None:
    """Cancel the job only when a user marked the task failed (a clear leaves it running)."""
    job_id = getattr(operator, HOOK_ATTRIBUTE, None)
    if not (operator.stop_on_kill and job_id):
        return
    if user_stopped(getattr(operator, "_task_instance", None), job_id, operator.log):
        hook_for(operator).cancel_job(job_id)
