"""Training metrics have one reader, ``StorageHook.read_training_metrics``: the job operator's log (via
``BedrockRFTHook``) and the evaluation report's curve both go through it, on S3 (moto) and local paths."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.hooks.storage import StorageHook, join_uri
from bedrock_rft_provider.jobs.metrics import TRAIN_REWARD, VALIDATION_REWARD, own_job_files

TRAIN = "step_number,critic/rewards/mean\n1,0.2\n2,0.6\n"
OTHER = "step_number,critic/rewards/mean\n1,0.9\n"
VALIDATION = "step,val-score/rewards/mean@1\n2,0.5\n"


def _write(storage: StorageHook, base: str) -> None:
    storage.write_text(join_uri(base, "job-a/training_artifacts/step_wise_training_metrics.csv"), TRAIN)
    storage.write_text(join_uri(base, "job-a/validation_artifacts/validation_metrics.csv"), VALIDATION)
    storage.write_text(join_uri(base, "job-b/training_artifacts/step_wise_training_metrics.csv"), OTHER)
    storage.write_text(join_uri(base, "job-a/notes.csv"), "step,x\n1,1\n")


def test_a_prefix_reads_the_jobs_own_metrics_files(base: str, storage: StorageHook) -> None:
    _write(storage, base)
    metrics = storage.read_training_metrics(base, ["job-a", "abc123"])
    assert metrics.values(TRAIN_REWARD) == [0.2, 0.6]
    assert metrics.values(VALIDATION_REWARD) == [0.5]
    assert len(metrics.sources) == 2 and all("/job-a/" in source for source in metrics.sources)


def test_a_prefix_without_the_jobs_folder_reads_every_metrics_file(base: str, storage: StorageHook) -> None:
    _write(storage, base)
    metrics = storage.read_training_metrics(base)
    assert sorted(metrics.values(TRAIN_REWARD)) == [0.2, 0.6, 0.9]
    assert len(metrics.sources) == 3  # notes.csv is not a metrics file


def test_a_csv_uri_reads_that_file(base: str, storage: StorageHook) -> None:
    uri = join_uri(base, "curve.csv")
    storage.write_text(uri, TRAIN)
    assert storage.read_training_metrics(uri).values(TRAIN_REWARD) == [0.2, 0.6]


def test_nothing_there_gives_empty_metrics(base: str, storage: StorageHook) -> None:
    assert storage.read_training_metrics(base).series == {}
    assert storage.read_training_metrics(join_uri(base, "missing.csv")).series == {}


@pytest.mark.parametrize(
    ("markers", "chosen"),
    [
        (["job-a"], ["runs/job-a/m.csv"]),
        (["", "id-9"], ["runs/job-b/id-9/m.csv"]),
        (["job"], ["runs/job-a/m.csv", "runs/job-b/id-9/m.csv"]),  # a folder name, not a substring
        ([], ["runs/job-a/m.csv", "runs/job-b/id-9/m.csv"]),
    ],
)
def test_own_job_files_prefers_a_folder_named_after_the_job(markers: list[str], chosen: list[str]) -> None:
    assert own_job_files(["runs/job-a/m.csv", "runs/job-b/id-9/m.csv"], markers) == chosen
