"""Deterministic names for evaluation resources (custom model deployments), derived from an Airflow run."""

from __future__ import annotations

from bedrock_rft_provider.jobs.naming import name_for_run, run_fingerprint
from bedrock_rft_provider.jobs.validation import check_custom_model_name


def check_deployment_name(field: str, name: str) -> str:
    """Deployment names follow the custom model name pattern ``([0-9a-zA-Z][_-]?){1,63}``."""
    return check_custom_model_name(field, name)


def deployment_name_for_run(
    dag_id: str, run_id: str, task_id: str, model_arn: str, prefix: str = "rft-eval", *, namespace: str
) -> str:
    """``<prefix>-<dag>-<task>-<hash>``: the same namespace, run, task and model give the same name."""
    digest = run_fingerprint(namespace, dag_id, run_id, task_id, model_arn)
    name = name_for_run(prefix, dag_id, task_id, digest)
    return check_deployment_name("deployment_name", name)
