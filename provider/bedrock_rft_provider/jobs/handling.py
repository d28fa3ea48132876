"""Which Airflow run handles (deploys, evaluates, promotes) a completed RFT job: the first to claim it.

A job completes once but can reach post-training more than once: a duplicate delivered after its
dispatch run was deleted, a manual run for a job whose event came after all, the job given by ARN in one
run and by name in another. Each would deploy the model again (a paid deployment) and evaluate it again.
The first run to write the claim (a conditional write under the job's post-training prefix) handles the
job; a retry or clear of that run finds its own claim and goes on; any other run skips, naming it.
"""

from __future__ import annotations

import json

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
