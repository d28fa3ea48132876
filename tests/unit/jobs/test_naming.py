"""Deterministic job and model names always satisfy the API patterns and the 63-character limit."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bedrock_rft_provider.jobs.naming import (
    attempt_name,
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


@given(dag_id=airflow_ids, run_id=airflow_ids, task_id=airflow_ids)
def test_generated_names_always_match_the_api_patterns(dag_id: str, run_id: str, task_id: str) -> None:
    job = job_name_for_run(dag_id, run_id, task_id)
    model = custom_model_name_for_run(dag_id, run_id, task_id)
    assert len(job) <= 63 and re.fullmatch(JOB_NAME_PATTERN, job)
    assert "_" not in job
    assert len(model) <= 63 and re.fullmatch(CUSTOM_MODEL_NAME_PATTERN, model)


@given(dag_id=airflow_ids, run_id=airflow_ids, task_id=airflow_ids, attempt=st.integers(1, 500))
def test_attempt_names_stay_valid(dag_id: str, run_id: str, task_id: str, attempt: int) -> None:
    job = attempt_name(job_name_for_run(dag_id, run_id, task_id), attempt)
    assert len(job) <= 63 and re.fullmatch(JOB_NAME_PATTERN, job)


def test_names_are_deterministic_and_differ_per_run() -> None:
    a = job_name_for_run("rft_dag", "scheduled__2026-11-01T00:00:00+00:00", "train")
    assert a == job_name_for_run("rft_dag", "scheduled__2026-11-01T00:00:00+00:00", "train")
    assert a != job_name_for_run("rft_dag", "scheduled__2026-11-08T00:00:00+00:00", "train")
    assert a.startswith("rft-rft-dag-train-")


def test_underscores_in_dag_ids_become_dashes() -> None:
    assert "_" not in job_name_for_run("my_rft_dag", "manual__x", "train_model")


def test_client_token_is_stable_and_valid() -> None:
    token = client_request_token("a", "b")
    assert token == client_request_token("a", "b") != client_request_token("a", "c")
    assert re.fullmatch(CLIENT_TOKEN_PATTERN, token)
