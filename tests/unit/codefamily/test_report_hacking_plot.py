"""The report plots the sandbox's share of reward-hacking attempts on its own, not among the rewards."""

from __future__ import annotations

from bedrock_rft_provider.evaluation.report import render_plots, training_curve
from bedrock_rft_provider.evaluation.scoring import SampleResult
from bedrock_rft_provider.jobs.metrics import HACKING_ATTEMPT_SHARE, TrainingMetrics

CSV = "step_number,critic/rewards/mean\n1,0.2\n2,0.5\n"
SANDBOX_CSV = f"step_number,{HACKING_ATTEMPT_SHARE}\n1,0.4\n2,0.1\n"


def test_the_hacking_share_gets_its_own_plot() -> None:
    metrics = TrainingMetrics()
    metrics.add_csv("step_wise_training_metrics.csv", CSV)
    metrics.add_csv("sandbox_step_wise_training_metrics.csv", SANDBOX_CSV)
    curve = training_curve(metrics)
    assert curve[HACKING_ATTEMPT_SHARE] == [(1.0, 0.4), (2.0, 0.1)]
    results = [SampleResult(id="a", sample=0, score=1.0), SampleResult(id="b", sample=0, score=0.0)]
    plots = render_plots(results, None, {}, curve)
    assert {"Training reward curve", "Share of reward-hacking attempts over steps"} <= set(plots)
    math_only = render_plots(
        results, None, {}, {k: v for k, v in curve.items() if k != HACKING_ATTEMPT_SHARE}
    )
    assert "Share of reward-hacking attempts over steps" not in math_only
