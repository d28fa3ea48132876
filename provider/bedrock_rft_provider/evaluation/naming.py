"""Deterministic names for evaluation resources (custom model deployments), derived from an Airflow run."""

from __future__ import annotations

import re

from bedrock_rft_provider.jobs.naming import run_fingerprint
from bedrock_rft_provider.jobs.validation import NAME_MAX_LENGTH, check_custom_model_name


def check_deployment_name(field: str, name: str) -> str:
    """Deployment names follow the custom model name pattern ``([0-9a-zA-Z][_-]?){1,63}``."""
    return check_custom_model_name(field, name)


def deployment_name_for_run(
    dag_id: str, run_id: str, task_id: str, model_arn: str, prefix: str = "rft-eval"
) -> str:
    """``<prefix>-<dag>-<task>-<hash>``: the same run, task and model always give the same name."""
    digest = run_fingerprint(dag_id, run_id, task_id, model_arn)
    readable = re.sub("-{2,}", "-", re.sub("[^a-zA-Z0-9]+", "-", f"{prefix}-{dag_id}-{task_id}")).strip("-")
    readable = readable[: NAME_MAX_LENGTH - len(digest) - 1].rstrip("-")
    return check_deployment_name("deployment_name", f"{readable}-{digest}")
