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


def _completes(path: Path) -> dict[str, dict[str, Any]]:
    """The COMPLETE event of each task, by task id."""
    found = {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        if event.get("eventType") == "COMPLETE" and "." in event["job"]["name"]:
            found[event["job"]["name"].split(".", 1)[1]] = event
    return found


def _ids(datasets: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in datasets}


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_retraining_run_links_data_and_grader_to_the_champion(
    dagbag: Any, sandbox_env: Any, lineage_events: Path
) -> None:
    from openlineage.common.test import match

    conf = {"model_family": "lineage", "dataset_input": "400", "min_eval_samples": 20, **PROMOTABLE}
    # A date no other DAG test uses: job names derive from the run id, and the sandbox is shared.
    run_example_dag(dagbag, "bedrock_rft_retraining", datetime(2026, 12, 5, tzinfo=timezone.utc), conf)
    champion = read_champion(sandbox_env, "lineage")
    assert champion is not None
    events = _completes(lineage_events)

    dataset, reward, train = events["prepare_dataset"], events["deploy_reward"], events["train"]
    deploy, evaluate, promote = events["deploy_tuned"], events["evaluate"], events["promote"]
    files = {d["facets"]["bedrockRftDatasetFile"]["split"]: d for d in dataset["outputs"]}
    assert set(files) == {"train", "validation", "test"}
    # Each file's sha256 is the one the champion record keeps for it.
    for split in ("train", "test"):
        assert files[split]["facets"]["bedrockRftDatasetFile"]["sha256"] == champion["dataset_sha256"][split]
    grader = reward["outputs"][0]
    # The job read the files the dataset task wrote and the grader the reward task published ...
    assert _ids([files["train"], files["validation"], grader]) <= _ids(train["inputs"])
    job_grader = next(d for d in train["inputs"] if "bedrockRftGrader" in d.get("facets", {}))
    assert (
        job_grader["facets"]["bedrockRftGrader"]["code_sha256"]
        == grader["facets"]["bedrockRftGrader"]["code_sha256"]
    )
    # ... and wrote the custom model, which the deployment read, whose output the evaluation read ...
    model = train["outputs"][0]
    assert model["name"].endswith(champion["custom_model_arn"].split(":", 5)[5])
    assert _ids([model]) <= _ids(deploy["inputs"])
    assert _ids(deploy["outputs"]) <= _ids(evaluate["inputs"])
    assert _ids([files["test"]]) <= _ids(evaluate["inputs"])
    # ... and the champion record names all of them.
    assert _ids(evaluate["outputs"] + [model, grader, files["train"]]) <= _ids(promote["inputs"])
    assert match(
        {
            "outputs": [
                {
                    "namespace": "ssm://us-east-1",
                    "name": "/bedrock-rft/champion/lineage",
                    "facets": {
                        "bedrockRftChampion": {
                            "custom_model_arn": champion["custom_model_arn"],
                            "job_arn": champion["job_arn"],
                            "grader": {"code_sha256": grader["facets"]["bedrockRftGrader"]["code_sha256"]},
                        }
                    },
                }
            ]
        },
        promote,
    )
    assert evaluate["outputs"][0]["facets"]["bedrockRftEvaluation"]["n"] >= 20
