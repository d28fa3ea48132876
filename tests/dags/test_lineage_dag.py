"""OpenLineage: a retraining DAG run on the sandbox emits events (through OpenLineage's own listener and
file transport) that link dataset files -> grader -> RFT job -> custom model -> deployment ->
evaluation summary -> champion record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from support.example_dags import PROMOTABLE, read_champion, run_example_dag
from support.lineage_chain import check_chain, task_completions

pytest.importorskip("airflow.providers.openlineage", reason="the [lineage] extra is not installed")

# A safety net (>= 10x the time this DAG run takes on 2 busy cores), not a speed limit.
SLOW_TIMEOUT_S = 900


@pytest.fixture
def lineage_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """OpenLineage's listener, writing every event to a JSON Lines file (its ``file`` transport)."""
    from airflow.providers.openlineage import conf as ol_conf
    from airflow.providers.openlineage.plugins.listener import get_openlineage_listener
    from airflow.sdk.listener import get_listener_manager

    events = tmp_path / "openlineage.jsonl"
    transport = {"type": "file", "log_file_path": str(events), "append": True}
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT", json.dumps(transport))
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__NAMESPACE", "bedrock-rft-test")
    # In a thread, not a fork: the sandbox server runs in this process.
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD", "true")
    for value in vars(ol_conf).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()
    manager = get_listener_manager()
    listener = get_openlineage_listener()
    registered = manager.pm.is_registered(listener)
    if not registered:
        manager.add_listener(listener)
    yield events
    if not registered:
        manager.pm.unregister(listener)
    for value in vars(ol_conf).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_retraining_run_links_data_and_grader_to_the_champion(
    dagbag: Any, sandbox_env: Any, lineage_events: Path
) -> None:
    conf = {"model_family": "lineage", "dataset_input": "400", "min_eval_samples": 20, **PROMOTABLE}
    # A date no other DAG test uses: job names derive from the run id, and the sandbox is shared.
    run_example_dag(dagbag, "bedrock_rft_retraining", datetime(2026, 12, 5, tzinfo=timezone.utc), conf)
    champion = read_champion(sandbox_env, "lineage")
    assert champion is not None
    events = task_completions(lineage_events)
    check_chain(events, champion, "lineage")
    assert events["evaluate"]["outputs"][0]["facets"]["bedrockRftEvaluation"]["n"] >= 20
