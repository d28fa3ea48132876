"""The lineage chain a retraining run must report: dataset files (sha256) -> grader (version, code hash)
-> RFT job -> custom model -> deployment -> evaluation summary -> champion record.

One check, used by the ``dag.test()`` lineage test and by ``make e2e`` (scenario 15), which read the
events OpenLineage's ``file`` transport wrote. Self-contained (stdlib + openlineage): the e2e imports it
as ``tests.support.lineage_chain``, pytest as ``support.lineage_chain``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The tasks of the retraining DAG whose COMPLETE events make up the chain.
CHAIN_TASKS = ("prepare_dataset", "deploy_reward", "train", "deploy_tuned", "evaluate", "promote")


def task_completions(path: Path, run_id: str | None = None) -> dict[str, dict[str, Any]]:
    """The COMPLETE event of each task, by task id (of DAG run ``run_id`` only, when given).

    A line that is not one JSON event (a writer still appending) is skipped.
    """
    found: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("eventType") != "COMPLETE" or "." not in event.get("job", {}).get("name", ""):
            continue
        if run_id is not None and dag_run_id(event) != run_id:
            continue
        found[event["job"]["name"].split(".", 1)[1]] = event
    return found


def dag_run_id(event: dict[str, Any]) -> str | None:
    """The Airflow run id a task event belongs to (the provider's ``airflow`` run facet)."""
    facets = event.get("run", {}).get("facets", {})
    dag_run = (facets.get("airflow") or {}).get("dagRun") or {}
    return dag_run.get("run_id")


def _ids(datasets: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in datasets}


def check_chain(
    events: dict[str, dict[str, Any]], champion: dict[str, Any], family: str, region: str = "us-east-1"
) -> str:
    """Assert the events link the run's data and grader to ``champion`` (the family's SSM record).

    :returns: a one-line description of the chain (file sha256 prefixes, grader version, model, ...).
    :raises AssertionError: naming the first broken link.
    """
    from openlineage.common.test import match

    missing = [t for t in CHAIN_TASKS if t not in events]
    assert not missing, f"no COMPLETE lineage event for {missing} (got {sorted(events)})"
    dataset, reward, train = events["prepare_dataset"], events["deploy_reward"], events["train"]
    deploy, evaluate, promote = events["deploy_tuned"], events["evaluate"], events["promote"]
    files = {d["facets"]["bedrockRftDatasetFile"]["split"]: d for d in dataset["outputs"]}
    assert set(files) == {"train", "validation", "test"}, sorted(files)
    # Each file's sha256 is the one the champion record keeps for it.
    for split in ("train", "test"):
        assert files[split]["facets"]["bedrockRftDatasetFile"]["sha256"] == champion["dataset_sha256"][split]
    grader = reward["outputs"][0]
    grader_facet = grader["facets"]["bedrockRftGrader"]
    # The job read the files the dataset task wrote and the grader the reward task published ...
    assert _ids([files["train"], files["validation"], grader]) <= _ids(train["inputs"]), train["inputs"]
    job_grader = next(d for d in train["inputs"] if "bedrockRftGrader" in d.get("facets", {}))
    assert job_grader["facets"]["bedrockRftGrader"]["code_sha256"] == grader_facet["code_sha256"]
    # ... and wrote the custom model, which the deployment read, whose output the evaluation read ...
    model = train["outputs"][0]
    assert model["name"].endswith(champion["custom_model_arn"].split(":", 5)[5]), model
    assert _ids([model]) <= _ids(deploy["inputs"]), deploy["inputs"]
    assert _ids(deploy["outputs"]) <= _ids(evaluate["inputs"]), evaluate["inputs"]
    assert _ids([files["test"]]) <= _ids(evaluate["inputs"]), evaluate["inputs"]
    # ... and the champion record names all of them.
    assert _ids(evaluate["outputs"] + [model, grader, files["train"]]) <= _ids(promote["inputs"])
    expected = {
        "outputs": [
            {
                "namespace": f"ssm://{region}",
                "name": f"/bedrock-rft/champion/{family}",
                "facets": {
                    "bedrockRftChampion": {
                        "custom_model_arn": champion["custom_model_arn"],
                        "job_arn": champion["job_arn"],
                        "grader": {"code_sha256": grader_facet["code_sha256"]},
                    }
                },
            }
        ]
    }
    assert match(expected, promote), promote["outputs"]
    summary = evaluate["outputs"][0]["facets"]["bedrockRftEvaluation"]
    sha = files["train"]["facets"]["bedrockRftDatasetFile"]["sha256"]
    return (
        f"train.jsonl sha256 {sha[:12]} -> grader v{grader_facet.get('version')} "
        f"(code {grader_facet['code_sha256'][:12]}) -> {model['name'].rsplit('/', 1)[-1]} -> "
        f"deployment -> evaluation n={summary['n']} -> /bedrock-rft/champion/{family}"
    )
