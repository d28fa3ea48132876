"""Which Airflow run handles (deploys, evaluates, promotes) a completed RFT job, and with which params.

A job completes once but can reach post-training more than once: a duplicate delivered after its
dispatch run was deleted, a manual run for a job whose event came after all, the job given by ARN in one
run and by name in another. Each would deploy the model again (a paid deployment) and evaluate it again.
The first run to write the claim (a conditional write under the job's post-training prefix) handles the
job; a retry or clear of that run finds its own claim and goes on; any other run skips, naming it.
"""

from __future__ import annotations

import json
from typing import Any

CLAIM_NAME = "handled-by.json"


def claim_uri(output_prefix: str) -> str:
    """Where the claim of a job's post-training lives: ``<output_prefix>/handled-by.json``."""
    return f"{output_prefix.rstrip('/')}/{CLAIM_NAME}"


def claim(dag_id: str, run_id: str) -> bytes:
    """The claim a run writes: ``{"dag_id", "run_id"}`` as JSON."""
    return json.dumps({"dag_id": dag_id, "run_id": run_id}, sort_keys=True).encode()


def handled_elsewhere(stored: bytes, dag_id: str, run_id: str) -> str | None:
    """Which other run holds the claim ``stored`` (``"dag_id/run_id"``), or None when it is this run's.

    The stored bytes are read as untrusted: anything that is not a claim is reported, never matched.
    """
    try:
        holder = json.loads(stored.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        holder = None
    if not isinstance(holder, dict) or not all(isinstance(holder.get(k), str) for k in ("dag_id", "run_id")):
        return f"an unreadable claim ({len(stored)} bytes)"
    if (holder["dag_id"], holder["run_id"]) == (dag_id, run_id):
        return None
    return f"{holder['dag_id'][:250]}/{holder['run_id'][:250]}"


# What a retraining run that hands its job over to the event path leaves next to the job's output
# (``<outputDataConfig.s3Uri>/post-training-params.json``), for the dispatcher to start the job's
# post-training run with: the run's family, reward, bucket, test split and gate, not the defaults.
HANDOVER_NAME = "post-training-params.json"
HANDOVER_PARAMS = (
    "bucket",
    "model_family",
    "reward",
    "test_data_uri",
    "min_improvement",
    "min_eval_samples",
    "gate_guards",
    "eval_concurrency",
    "sandbox",
)


def handover_uri(job_output_uri: str) -> str:
    """Where the handover of the job whose ``outputDataConfig.s3Uri`` is ``job_output_uri`` lives."""
    return f"{job_output_uri.rstrip('/')}/{HANDOVER_NAME}"


def handover_params(stored: bytes) -> tuple[dict[str, Any], str | None]:
    """The post-training params in a stored handover (unknown keys dropped; the run's Param schema
    checks the values when it is triggered), and why none could be read (None when they could)."""
    try:
        params = json.loads(stored.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        params = None
    if not isinstance(params, dict):
        return {}, f"the handover is not a JSON object ({len(stored)} bytes)"
    return {key: params[key] for key in HANDOVER_PARAMS if key in params}, None
