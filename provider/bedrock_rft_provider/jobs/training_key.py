"""The training key: what makes two RFT jobs train the same model, as one digest.

Two runs whose key is equal would pay twice for the same model (e.g. unpausing the retraining DAG
creates a run for the latest cron interval next to a manual run). The key covers what decides the
trained model — the content (sha256) of the training and validation files, the grader's identity
(its deployed code sha256 and configuration, not its ARN: an alias points at new code after a
redeploy), the base model, the hyperparameters, the service role and the KMS key — plus the
deployment namespace, so two Airflow installs never reuse each other's jobs. It deliberately leaves out
names, tags, the VPC and the output prefix: they say where a job runs or writes, not what it learns
(the example DAG writes each run's output under a per-run prefix, which would make every key unique).

The key is stored on the job as the tag :data:`TRAINING_KEY_TAG` (``jobTags``; read back with
``ListTagsForResource``), so it is found again on real Bedrock without any local state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.jobs.spec import RFTJobSpec

TRAINING_KEY_TAG = "bedrock-rft:training-key"
NAMESPACE_TAG = "bedrock-rft:namespace"
REUSABLE_STATES = frozenset({"InProgress", "Completed"})


@dataclass(frozen=True)
class TrainingKey:
    """The digest and what went into it (logged, so a user can see why two runs matched)."""

    digest: str
    inputs: Mapping[str, Any]

    def describe(self) -> str:
        """One line for the task log: the data hashes, the grader and the digest."""
        data = ", ".join(f"{uri} sha256 {sha[:12]}" for uri, sha in self.inputs["data_sha256"])
        code = str(self.inputs["grader"].get("code_sha256"))[:16]
        return (
            f"training key {self.digest[:16]} (data: {data}; grader code sha256 {code}; "
            f"base model {self.inputs['base_model_id']})"
        )


def training_key(
    spec: RFTJobSpec,
    *,
    data_sha256: Sequence[tuple[str, str]],
    grader: Mapping[str, Any],
    namespace: str,
) -> TrainingKey:
    """The key of ``spec`` given its data files' sha256 (``(uri, hex)`` pairs) and grader identity.

    ``grader`` is e.g. ``{"code_sha256": ..., "handler": ..., "runtime": ..., "environment": {...}}``.
    URIs are part of the pairs only to label the log line; the digest uses the hashes in file order
    (training first, then validation files).
    """
    inputs = {
        "namespace": namespace,
        "data_sha256": tuple(data_sha256),
        "grader": dict(grader),
        "base_model_id": spec.base_model_id,
        "role_arn": spec.role_arn,
        "hyperparameters": spec.hyperparameters.to_request(),
        "kms_key_id": spec.kms_key_id,
    }
    return key_from_inputs(inputs)


def key_from_inputs(inputs: Mapping[str, Any]) -> TrainingKey:
    """Hash ``inputs`` (``data_sha256`` as ``(uri, hex)`` pairs; only the hashes count) into a key."""
    hashed = {**inputs, "data_sha256": [sha for _, sha in inputs["data_sha256"]]}
    canonical = json.dumps(hashed, sort_keys=True, separators=(",", ":"), default=str)
    return TrainingKey(hashlib.sha256(canonical.encode()).hexdigest(), dict(inputs))


def key_tags(key: TrainingKey) -> tuple[tuple[str, str], ...]:
    """The job tags that let a later run find this job by its key."""
    return ((TRAINING_KEY_TAG, key.digest), (NAMESPACE_TAG, str(key.inputs["namespace"])))
