"""OpenLineage facets built from the operators' results (pure), and their OpenLineage objects."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from bedrock_rft_provider import lineage

ACCOUNT = "123456789012"
MODEL = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/amazon.nova-2-lite-v1:0:256k/abc"
DEPLOYMENT = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model-deployment/dep1"
JOB = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/amazon.nova-2-lite-v1:0:256k/j1"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:grader"
DATASET = {
    "train_uri": "s3://bkt/rft/0123/train.jsonl",
    "validation_uri": "s3://bkt/rft/0123/validation.jsonl",
    "test_uri": "s3://bkt/rft/0123/test.jsonl",
    "sha256": "d" * 64,
}
FILES = {
    "train.jsonl": {"records": 320, "sha256": "a" * 64},
    "validation.jsonl": {"records": 40, "sha256": "b" * 64},
    "test.jsonl": {"records": 40, "sha256": "c" * 64},
}


@pytest.mark.parametrize(
    ("location", "namespace", "name"),
    [
        ("s3://bkt/rft/0123/train.jsonl", "s3://bkt", "rft/0123/train.jsonl"),
        (MODEL, f"arn:aws:bedrock:us-east-1:{ACCOUNT}", "custom-model/amazon.nova-2-lite-v1:0:256k/abc"),
        (f"{FUNCTION}:7", f"arn:aws:lambda:us-east-1:{ACCOUNT}", "function:grader:7"),
        ("/tmp/data/train.jsonl", "file", "/tmp/data/train.jsonl"),
    ],
)
def test_locations_are_named_by_openlineage_conventions(location: str, namespace: str, name: str) -> None:
    dataset = lineage.dataset_for(location)
    assert (dataset.namespace, dataset.name) == (namespace, name)


def test_dataset_files_carry_their_own_sha256_and_record_count() -> None:
    outputs = lineage.dataset_task(DATASET, FILES).outputs
    facets = {d.name.rsplit("/", 1)[1]: d.facets["bedrockRftDatasetFile"] for d in outputs}
    assert facets["train.jsonl"] == {
        "split": "train",
        "sha256": "a" * 64,
        "records": 320,
        "dataset_sha256": "d" * 64,
    }
    assert facets["test.jsonl"]["sha256"] == "c" * 64


@pytest.mark.parametrize("published_as", [f"{FUNCTION}:live", FUNCTION])
def test_grader_is_one_dataset_whatever_qualifier_names_it(published_as: str) -> None:
    published = lineage.reward_task(
        {"function_arn": FUNCTION, "alias_arn": published_as, "version": "3", "code_sha256": "h=="}
    ).outputs[0]
    used = lineage.grader_dataset(f"{FUNCTION}:3", code_sha256="h==")
    assert (
        (published.namespace, published.name)
        == (used.namespace, used.name)
        == (
            f"arn:aws:lambda:us-east-1:{ACCOUNT}",
            "function:grader",
        )
    )
    assert published.facets["bedrockRftGrader"]["version"] == "3"
    assert used.facets["bedrockRftGrader"] == {
        "lambda_arn": f"{FUNCTION}:3",
        "version": "3",
        "code_sha256": "h==",
    }


def test_job_reads_data_and_grader_and_writes_the_model() -> None:
    grader = lineage.grader_dataset(f"{FUNCTION}:3", code_sha256="h==")
    job = lineage.job_task(
        {"job_arn": JOB, "job_name": "j1", "custom_model_arn": MODEL, "status": "Completed"},
        training_data_uri=DATASET["train_uri"],
        validation_data_uris=[DATASET["validation_uri"]],
        grader=grader,
        base_model_id="amazon.nova-2-lite-v1:0:256k",
    )
    assert [d.name for d in job.inputs] == [
        "rft/0123/train.jsonl",
        "rft/0123/validation.jsonl",
        "function:grader",
    ]
    assert job.outputs[0].name.startswith("custom-model/")
    assert job.run_facets["bedrockRftJob"]["job_arn"] == JOB


class _UnreadableLambda:
    """A Lambda hook whose GetFunction is denied (the role lacks lambda:GetFunction)."""

    def grader_version(self, lambda_arn: str) -> dict[str, str]:
        from botocore.exceptions import ClientError

        error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
        raise ClientError(error, "GetFunction")  # type: ignore[arg-type]


def test_an_unreadable_grader_is_reported_by_name_without_code_hash_and_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bedrock_rft_provider.operators.lineage_mixin import grader_lineage

    log = logging.getLogger("test.lineage")
    with caplog.at_level(logging.WARNING, logger="test.lineage"):
        grader = grader_lineage(_UnreadableLambda(), f"{FUNCTION}:live", log)
    assert grader.name == "function:grader"
    assert grader.facets["bedrockRftGrader"] == {"lambda_arn": f"{FUNCTION}:live", "version": "live"}
    assert "reporting it without its code hash" in caplog.text and "AccessDeniedException" in caplog.text


def test_a_job_without_a_model_yet_writes_nothing() -> None:
    job = lineage.job_task({"job_arn": JOB, "status": "InProgress"}, training_data_uri=DATASET["train_uri"])
    assert job.outputs == ()


def test_chain_links_each_task_output_to_the_next_task_input() -> None:
    def ids(datasets: tuple[lineage.LineageDataset, ...]) -> set[tuple[str, str]]:
        return {(d.namespace, d.name) for d in datasets}

    data = lineage.dataset_task(DATASET, FILES)
    grader = lineage.reward_task({"function_arn": FUNCTION, "version": "3", "code_sha256": "h=="})
    job = lineage.job_task(
        {"job_arn": JOB, "custom_model_arn": MODEL},
        training_data_uri=DATASET["train_uri"],
        grader=lineage.grader_dataset(f"{FUNCTION}:3"),
    )
    deploy = lineage.deployment_task(MODEL, DEPLOYMENT)
    evaluate = lineage.evaluation_task(
        {"model_id": DEPLOYMENT, "n": 40, "mean_reward": 0.8, "delta": 0.2, "ignored": [1] * 1000},
        dataset_uri=DATASET["test_uri"],
        output_uri="s3://bkt/runs/r1/evaluation",
    )
    champion = lineage.champion_task(
        {
            "parameter": "/bedrock-rft/champion/math",
            "version": 2,
            "record": {
                "family": "math",
                "custom_model_arn": MODEL,
                "deployment_arn": DEPLOYMENT,
                "job_arn": JOB,
                "dataset_uris": {"train": DATASET["train_uri"], "test": DATASET["test_uri"]},
                "dataset_sha256": {"train": "a" * 64},
                "grader": {"lambda_arn": f"{FUNCTION}:3", "code_sha256": "h=="},
            },
        },
        eval_summary_uri="s3://bkt/runs/r1/evaluation/summary.json",
        region="us-east-1",
    )
    assert ids(data.outputs[:1]) | ids(grader.outputs) <= ids(job.inputs)
    assert ids(job.outputs) <= ids(deploy.inputs)
    assert ids(deploy.outputs) | ids(data.outputs[2:]) <= ids(evaluate.inputs)
    assert ids(evaluate.outputs) | ids(job.outputs) | ids(grader.outputs) <= ids(champion.inputs)
    assert evaluate.outputs[0].name == "runs/r1/evaluation/summary.json"
    assert "ignored" not in evaluate.outputs[0].facets["bedrockRftEvaluation"]
    record = champion.outputs[0]
    assert (record.namespace, record.name) == ("ssm://us-east-1", "/bedrock-rft/champion/math")
    assert record.facets["bedrockRftChampion"]["grader"]["code_sha256"] == "h=="


def test_operator_lineage_serialises_to_openlineage_json() -> None:
    pytest.importorskip("airflow.providers.openlineage")
    from openlineage.client.serde import Serde

    built = lineage.to_operator_lineage(lineage.dataset_task(DATASET, FILES), logging.getLogger(__name__))
    assert built is not None
    out = json.loads(Serde.to_json(built.outputs[0]))
    assert out["namespace"] == "s3://bkt"
    assert out["facets"]["bedrockRftDatasetFile"]["sha256"] == "a" * 64
    assert out["facets"]["bedrockRftDatasetFile"]["_producer"] == lineage.PRODUCER


@pytest.mark.slow
def test_without_the_openlineage_provider_operators_import_and_lineage_is_off() -> None:
    code = """
import logging, sys
import bedrock_rft_provider.operators.rft_job, bedrock_rft_provider.operators.promote
assert "openlineage.client" not in sys.modules, "imported OpenLineage at module import time"
for name in ("airflow.providers.openlineage.extractors", "openlineage.client.event_v2"):
    sys.modules[name] = None  # as if not installed: importing it raises ImportError
from bedrock_rft_provider import lineage
logging.basicConfig(level=logging.INFO, format="%(message)s")
print(lineage.to_operator_lineage(lineage.TaskLineage(), logging.getLogger("t")))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "None"
    assert lineage.NOT_INSTALLED in done.stdout + done.stderr
