"""Training metrics are parsed from whatever CSVs the job wrote, tolerating gaps and unknown columns."""

from __future__ import annotations

from bedrock_rft_provider.jobs.metrics import TRAIN_REWARD, VALIDATION_REWARD, parse_metrics_files

HEADER = ",".join(
    [
        "step_number",
        "epoch_number",
        "critic/rewards/mean",
        "critic/rewards/max",
        "val-score/rewards/mean@1",
        "response_length/mean",
    ]
)
STEP_WISE = f"""{HEADER}
1,0,0.25,1.0,,612
2,0,0.40,1.0,0.35,580
3,0,0.55,1.0,,n/a
4,1,0.70,1.0,0.66,401
"""


def test_step_wise_csv_becomes_series_per_metric() -> None:
    metrics = parse_metrics_files({"out/job/training_artifacts/step_wise_training_metrics.csv": STEP_WISE})
    assert metrics.values(TRAIN_REWARD) == [0.25, 0.40, 0.55, 0.70]
    assert metrics.series[VALIDATION_REWARD] == [(2, 0.35), (4, 0.66)]  # blank cells are skipped
    assert metrics.values("response_length/mean") == [612, 580, 401]  # "n/a" is skipped
    summary = metrics.summary()[TRAIN_REWARD]
    assert (summary["first"], summary["last"], summary["steps"]) == (0.25, 0.70, 4)


def test_files_that_are_not_metrics_are_ignored_and_absence_is_empty() -> None:
    metrics = parse_metrics_files({"out/job/model.bin": "binary", "out/job/notes.csv": "a,b\n1,2\n"})
    assert metrics.series == {} and metrics.summary() == {}


def test_csv_without_a_step_column_uses_row_order() -> None:
    metrics = parse_metrics_files(
        {"x/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv": "loss\n0.9\n0.7\n"}
    )
    assert metrics.series["loss"] == [(0, 0.9), (1, 0.7)]


def test_header_only_file_contributes_nothing() -> None:
    metrics = parse_metrics_files({"a/step_wise_training_metrics.csv": "step_number,critic/rewards/mean\n"})
    assert metrics.series == {}
