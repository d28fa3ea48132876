"""The native backend of ``BedrockRFTJobOperator`` (``CreateModelCustomizationJob``, Nova): the job
request, data-level reuse or start-or-reattach, and the guarded wait of a task that does not defer.

Beside ``openweight_job.py``, so the operator keeps only the Airflow story: check, dispatch to a backend,
defer or wait, finish. Loaded when a task runs, never when a DAG file is parsed.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from bedrock_rft_provider.jobs.submission_checks import NATIVE_SPEC_ARGS, native_job_spec, reuse_key
from bedrock_rft_provider.jobs.training_key import key_tags
from bedrock_rft_provider.namespace import resolve_namespace
from bedrock_rft_provider.operators.invocation_logs import preview_before_training
from bedrock_rft_provider.operators.run_spend_check import guard_for_this_try
from bedrock_rft_provider.triggers import spend_watch

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_rft_provider.hooks.bedrock_rft import RFTJob
    from bedrock_rft_provider.jobs.spec import RFTJobSpec
    from bedrock_rft_provider.jobs.spend_guard import WaitGuard
    from bedrock_rft_provider.jobs.training_key import TrainingKey

# The BedrockRFTJobOperator (as in openweight_job: naming its class here would be an import cycle).
Operator = Any


def build_spec(operator: Operator, context: Context) -> RFTJobSpec:
    """The validated job request for this run; raises before any AWS call on bad input."""
    ti = context["ti"]
    return native_job_spec(
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        task_id=ti.task_id,
        namespace=resolve_namespace(operator.namespace),
        **{name: getattr(operator, name) for name in NATIVE_SPEC_ARGS},
    )


def training_key(operator: Operator, spec: RFTJobSpec) -> TrainingKey | None:
    """The job's training key, or None (reuse off, with a warning) when its inputs cannot be read."""
    key, why_not = reuse_key(spec, operator.hook)
    if key is None:  # invocation logs are expected; an unreadable input is worth a warning
        log = operator.log.info if spec.invocation_logs else operator.log.warning
        log("Data-level reuse is off: %s", why_not)
    return key


def reuse_or_start(
    operator: Operator, context: Context, spec: RFTJobSpec, guard: WaitGuard, *, force: bool
) -> tuple[RFTJob, WaitGuard, bool, str | None]:
    """Another run's job with ``spec``'s training key, else this run's own (started or reattached).

    :return: ``(job, guard, reused, training key digest)``; when this run's own job is started or
        reattached, the guard holds only what earlier attempts of the run left of each cap.
    """
    key = training_key(operator, spec)
    attempt = context["ti"].try_number
    job = None
    if key is not None:
        spec = dataclasses.replace(spec, job_tags=spec.job_tags + key_tags(key))
        if force:
            operator.log.warning(
                "force_retrain is set: training even if %s was trained before", key.describe()
            )
        else:
            job = operator.hook.reusable_job(spec, key, attempt)
    reused = job is not None
    if job is None:
        # The caps bound the run: an attempt after a stopped job gets only what earlier ones left.
        guard = guard_for_this_try(operator.hook, spec, attempt, guard)
        logs = spec.invocation_logs  # checked before a new job only: a clear reattaches regardless
        job = operator.hook.start_or_reattach(
            spec,
            attempt=attempt,
            before_create=(lambda: preview_before_training(operator, logs)) if logs else None,
        )
    return job, guard, reused, key.digest if key else None


def guarded_wait(
    operator: Operator, context: Context, job_name: str, guard: WaitGuard, attempts: int
) -> dict[str, Any]:
    """Poll like the trigger does, stopping the job (and failing the task) when the guard says so."""
    watch = spend_watch.NativeWatch(operator.hook, job_name, guard, operator.log)
    check = spend_watch.poll_until_done(watch, operator.waiter_delay, attempts, operator.log)
    if check.outcome == spend_watch.GUARD_STOP:
        assert check.verdict is not None
        raise spend_watch.fail_stopped(context, watch, check.verdict.as_dict(), operator.log)
    return check.job
