"""Deterministic job and model names always satisfy the API patterns and the 63-character limit."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.naming import (
    NAMESPACE_PATTERN,
    attempt_name,
    check_namespace,
    client_request_token,
    custom_model_name_for_run,
    job_name_for_run,
)
from bedrock_rft_provider.jobs.validation import (
    CLIENT_TOKEN_PATTERN,
    CUSTOM_MODEL_NAME_PATTERN,
    JOB_NAME_PATTERN,
)

airflow_ids = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=300
)


namespaces = st.from_regex(NAMESPACE_PATTERN, fullmatch=True)


@given(dag_id=airflow_ids, run_id=airflow_ids, task_id=airflow_ids, namespace=namespaces)
def test_generated_names_always_match_the_api_patterns(
    dag_id: str, run_id: str, task_id: str, namespace: str
) -> None:
    job = job_name_for_run(dag_id, run_id, task_id, namespace=namespace)
    model = custom_model_name_for_run(dag_id, run_id, task_id, namespace=namespace)
    assert len(job) <= 63 and re.fullmatch(JOB_NAME_PATTERN, job)
    assert "_" not in job
    assert len(model) <= 63 and re.fullmatch(CUSTOM_MODEL_NAME_PATTERN, model)


@given(
    dag_id=airflow_ids,
    run_id=airflow_ids,
    task_id=airflow_ids,
    attempt=st.integers(1, 500),
    namespace=namespaces,
)
def test_attempt_names_stay_valid(
    dag_id: str, run_id: str, task_id: str, attempt: int, namespace: str
) -> None:
    job = attempt_name(job_name_for_run(dag_id, run_id, task_id, namespace=namespace), attempt)
    assert len(job) <= 63 and re.fullmatch(JOB_NAME_PATTERN, job)


def test_names_are_deterministic_and_differ_per_run() -> None:
    a = job_name_for_run("rft_dag", "scheduled__2026-11-01T00:00:00+00:00", "train", namespace="ns")
    assert a == job_name_for_run("rft_dag", "scheduled__2026-11-01T00:00:00+00:00", "train", namespace="ns")
    assert a != job_name_for_run("rft_dag", "scheduled__2026-11-08T00:00:00+00:00", "train", namespace="ns")
    assert a.startswith("rft-rft-dag-train-")


def test_underscores_in_dag_ids_become_dashes() -> None:
    assert "_" not in job_name_for_run("my_rft_dag", "manual__x", "train_model", namespace="ns")


def test_client_token_is_stable_and_valid() -> None:
    token = client_request_token("a", "b", namespace="ns")
    assert (
        token
        == client_request_token("a", "b", namespace="ns")
        != client_request_token("a", "c", namespace="ns")
    )
    assert re.fullmatch(CLIENT_TOKEN_PATTERN, token)


# Two Airflow installs sharing an AWS account reuse run ids; the namespace keeps their names apart
# (issue 10, fault 3).
@given(dag_id=airflow_ids, run_id=airflow_ids, task_id=airflow_ids, a=namespaces, b=namespaces)
def test_every_derived_name_and_token_differs_between_namespaces(
    dag_id: str, run_id: str, task_id: str, a: str, b: str
) -> None:
    from hypothesis import assume

    from bedrock_rft_provider.evaluation.naming import deployment_name_for_run

    assume(a != b)
    model = "arn:aws:bedrock:us-east-1:123456789012:custom-model/x"
    for derive in (
        lambda ns: job_name_for_run(dag_id, run_id, task_id, namespace=ns),
        lambda ns: custom_model_name_for_run(dag_id, run_id, task_id, namespace=ns),
        lambda ns: deployment_name_for_run(dag_id, run_id, task_id, model, namespace=ns),
        lambda ns: client_request_token(dag_id, run_id, task_id, namespace=ns),
    ):
        assert derive(a) != derive(b)
        assert derive(a) == derive(a)


@pytest.mark.parametrize("namespace", ["", "-lead", "a b", "x" * 64, "ünï", None, 7])
def test_bad_namespaces_are_rejected_naming_the_field(namespace: object) -> None:
    with pytest.raises(ConfigError, match=r"^namespace: .* is not a namespace"):
        check_namespace("namespace", namespace)
