"""Summary fields (pass@k, unpaired baseline) and the report (sandbox label, training curve)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bedrock_rft_provider.evaluation.report import SANDBOX_NOTICE, training_curve, write_reports
from bedrock_rft_provider.evaluation.scoring import SampleResult
from bedrock_rft_provider.evaluation.summary import compare, summarize
from bedrock_rft_provider.jobs.metrics import parse_metrics_files


def results(scores: dict[str, list[float]]) -> list[SampleResult]:
    return [
        SampleResult(pid, k, s, response_length=10 + k)
        for pid, samples in scores.items()
        for k, s in enumerate(samples)
    ]


def test_pass_at_k_with_several_samples_per_prompt() -> None:
    summary = summarize(results({"a": [1, 0, 0, 0], "b": [0, 0, 0, 0]}), resamples=200)
    assert summary["samples_per_prompt"] == 4 and summary["n_prompts"] == 2 and summary["n"] == 8
    assert summary["pass_at_k"]["pass@1"] == pytest.approx((0.25 + 0) / 2)
    assert summary["pass_at_k"]["pass@4"] == pytest.approx((1 + 0) / 2)
    assert summary["response_length"]["mean"] == pytest.approx(11.5)


def test_baseline_summary_alone_gives_an_unpaired_delta() -> None:
    tuned = results({"a": [1.0], "b": [1.0], "c": [0.0], "d": [1.0]})
    summary = compare(summarize(tuned, resamples=200), tuned, {"mean_reward": 0.5, "n": 4}, None)
    assert summary["delta"] == pytest.approx(0.25)
    assert summary["delta_ci95"] is None and summary["p_value"] is None
    assert summary["baseline"] == {"mean_reward": 0.5, "n": 4}


def test_report_labels_sandbox_runs_and_plots_the_training_curve(tmp_path: Path) -> None:
    tuned = results({"a": [1.0], "b": [0.0]})
    summary = summarize(tuned, resamples=100) | {"sandbox": True, "model_id": "arn:deployment"}
    csv_text = "step_number,critic/rewards/mean,actor/entropy\n1,0.5,1.0\n2,0.7,0.9\n"
    metrics = parse_metrics_files({"out/training_artifacts/step_wise_training_metrics.csv": csv_text})
    curve = training_curve(metrics)
    assert curve == {"critic/rewards/mean": [(1.0, 0.5), (2.0, 0.7)]}
    paths = write_reports(tmp_path, summary, tuned, None, curve)
    html = paths["report_html"].read_text()
    assert SANDBOX_NOTICE.split(":")[0] in html and "Training reward curve" in html
    assert html.count("data:image/png;base64,") == 2
    assert "Sandbox run" in paths["report_md"].read_text()
