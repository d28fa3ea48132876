"""Deterministic job, model and token names derived from an Airflow run.

A retried task must derive the same names, so they come only from (namespace, dag_id, run_id,
task_id) and a caller-chosen salt — never from the clock. The deployment ``namespace`` is hashed into
every derived name and token, so two Airflow installs (or one install before and after a reset of its
metadata database) that share an AWS account never reattach to each other's jobs; it does not change
the names' shape. Every name satisfies the API's pattern and 63-char limit.
"""

from __future__ import annotations

import hashlib
import re

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.validation import (
    NAME_MAX_LENGTH,
    check_client_token,
    check_custom_model_name,
    check_job_name,
)

HASH_LENGTH = 8
NAMESPACE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}"


def check_namespace(field: str, value: object) -> str:
    """A deployment namespace: 1-63 letters, digits, ``.``, ``_`` or ``-``, starting alphanumeric."""
    if not isinstance(value, str) or not re.fullmatch(NAMESPACE_PATTERN, value):
        raise ConfigError(
            field,
            f"{value!r} is not a namespace: use 1-63 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
        )
    return value


def run_fingerprint(*parts: str) -> str:
    """A short, stable hex digest of the parts (order matters)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:HASH_LENGTH]


def name_for_run(prefix: str, dag_id: str, task_id: str, digest: str) -> str:
    """``<prefix>-<dag>-<task>-<digest>`` of letters, digits and single dashes, cut to 63 characters.

    The readable middle is shortened, never the digest, so names stay unique and stable.
    """

    def slug(text: str) -> str:
        return re.sub("[^a-zA-Z0-9]+", "-", text).strip("-")

    head = slug(prefix)
    room = NAME_MAX_LENGTH - len(head) - len(digest) - 2
    readable = slug(f"{dag_id}-{task_id}")[: max(room, 0)].rstrip("-")
    return "-".join(p for p in (head, readable, digest) if p)


def job_name_for_run(dag_id: str, run_id: str, task_id: str, prefix: str = "rft", *, namespace: str) -> str:
    """``rft-<dag>-<task>-<hash>``: letters, digits and '-' only (job names cannot contain '_').

    The hash covers ``namespace``, so the same run id in another Airflow install gives another name.
    """
    name = name_for_run(prefix, dag_id, task_id, run_fingerprint(namespace, dag_id, run_id, task_id))
    return check_job_name("job_name", name)


def custom_model_name_for_run(
    dag_id: str, run_id: str, task_id: str, prefix: str = "rft", *, namespace: str
) -> str:
    """``rft-<dag>-<task>-<hash>`` within the custom model name pattern (single '-' or '_' separators)."""
    digest = run_fingerprint(namespace, dag_id, run_id, task_id, "model")
    name = name_for_run(prefix, dag_id, task_id, digest)
    return check_custom_model_name("custom_model_name", name)


def attempt_name(base: str, attempt: int) -> str:
    """The name for retry ``attempt`` that must start afresh: ``<base>-a<attempt>``, within 63 chars."""
    if attempt <= 1:
        return base
    suffix = f"-a{attempt}"
    return base[: NAME_MAX_LENGTH - len(suffix)].rstrip("-+._") + suffix


def client_request_token(*parts: str, namespace: str) -> str:
    """An idempotency token: the same namespace and request parts always give the same token."""
    digest = hashlib.sha256("\x1f".join((namespace, *parts)).encode()).hexdigest()
    return check_client_token("client_request_token", f"bedrock-rft-{digest[:48]}")
