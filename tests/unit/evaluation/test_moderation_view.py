"""The judge family's report view: label confusion matrix and agreement, from label_match's metrics."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.evaluation.moderation import label_confusion
from bedrock_rft_provider.evaluation.report import render_reports
from bedrock_rft_provider.evaluation.scoring import SampleResult
from bedrock_rft_provider.evaluation.summary import summarize
from bedrock_rft_provider.rewards import make_handler
from bedrock_rft_provider.rewards.moderation import label_match


def _results(pairs: list[tuple[str, str]]) -> list[SampleResult]:
    events = [
        {
            "id": f"r{i}",
            "messages": [{"role": "user", "content": "Post: p"}, {"role": "assistant", "content": response}],
            "metadata": {"reference_answer": reference},
        }
        for i, (response, reference) in enumerate(pairs)
    ]
    graded = make_handler(label_match)(events, None)
    return [
        SampleResult(
            id=event["id"],
            sample=0,
            score=float(result["aggregate_reward_score"]),
            metrics={m["name"]: float(m["value"]) for m in result["metrics_list"]},
        )
        for event, result in zip(events, graded, strict=True)
    ]


PAIRS = [
    ("Label: remove", "remove"),
    ("Label: remove", "remove"),
    ("Label: flag", "remove"),
    ("Label: allow", "allow"),
    ("Label: allow or flag", "flag"),
]


def test_the_confusion_matrix_is_each_cells_share_and_agreement_its_diagonal() -> None:
    view = label_confusion(summarize(_results(PAIRS)))
    assert view is not None
    assert view["labels"] == ["allow", "flag", "remove"]
    assert view["stated"] == ["allow", "flag", "remove", "none"]
    assert view["shares"]["remove"] == {"allow": 0.0, "flag": 0.2, "remove": 0.4, "none": 0.0}
    assert view["shares"]["flag"]["none"] == 0.2
    assert view["agreement"] == pytest.approx(0.6)


def test_the_reports_show_the_matrix_only_for_labelled_evaluations() -> None:
    results = _results(PAIRS)
    texts = render_reports(summarize(results), results)
    assert "## Labels: confusion matrix (share of answers)" in texts["report.md"]
    assert "| remove | 0.000 | 0.200 | 0.400 | 0.000 |" in texts["report.md"]
    assert "Agreement with the reference labels: 0.6000" in texts["report.html"]
    plain = SampleResult(id="a", sample=0, score=1.0, metrics={"math_answer": 1.0})
    assert "confusion matrix" not in render_reports(summarize([plain]), [plain])["report.md"]
