"""Judge calibration (pure): samples from labelled records, agreement, confusion matrix, failure message."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.data.moderation import generate
from bedrock_rft_provider.evaluation.calibration import build_calibration_cases, judge_agreement


def _result(judge: float | None, label: float = 1.0) -> dict[str, Any]:
    metrics = [{"name": "label_match", "value": label, "type": "Reward"}]
    if judge is not None:
        metrics.append({"name": "policy_judge", "value": judge, "type": "Reward"})
    return {"id": "x", "aggregate_reward_score": label, "metrics_list": metrics}


def test_each_record_gives_a_right_and_a_wrong_label_sample() -> None:
    records = list(generate(6, seed=1))
    cases = build_calibration_cases(records, max_records=6)
    assert len(cases) == 12
    for right, wrong in zip(cases[::2], cases[1::2], strict=True):
        assert right.human_pass and not wrong.human_pass
        assert right.stated == right.label == records[right.record]["reference_answer"]
        assert wrong.stated != wrong.label
        assert right.event["messages"][-1] == {
            "role": "assistant",
            "content": f"Label: {right.label}\nReason: {records[right.record]['reason']}",
        }
        assert right.event["metadata"]["reference_answer"] == right.label
    assert {case.stated for case in cases[1::2]} == {"allow", "flag", "remove"}


def test_calibration_needs_two_distinct_labels() -> None:
    records = [r for r in generate(30, seed=1) if r["reference_answer"] == "allow"]
    with pytest.raises(ValueError, match="at least two distinct labels; found \\['allow'\\]"):
        build_calibration_cases(records)


def test_agreement_and_confusion_matrix_count_every_verdict() -> None:
    cases = build_calibration_cases(list(generate(4, seed=2)), max_records=4)  # right, wrong, right, wrong...
    judged = [1.0, 0.0, 0.8, 0.9, 0.2, 0.0, None, 0.0]
    report = judge_agreement(
        cases, [_result(j) for j in judged], judge_component="policy_judge", min_agreement=0.5
    )
    assert report.confusion == {
        "pass": {"pass": 2, "fail": 1, "no_verdict": 1},
        "fail": {"pass": 1, "fail": 3, "no_verdict": 0},
    }
    assert report.agreement == pytest.approx(5 / 8) and report.passed
    assert report.to_dict()["agreed"] == 5


def test_below_the_threshold_the_message_names_the_agreement_and_the_matrix() -> None:
    cases = build_calibration_cases(list(generate(5, seed=2)), max_records=5)
    results = [_result(1.0) for _ in cases]  # a judge that passes everything
    report = judge_agreement(cases, results, judge_component="policy_judge", min_agreement=0.8)
    assert not report.passed
    message = report.message()
    assert message.splitlines()[0] == (
        "judge calibration of 'policy_judge': agreement 0.50 (5/10) is below the threshold 0.80"
    )
    assert "human \\ judge" in message and "label remove: agreement" in message


def test_a_misnamed_component_or_a_failed_call_fails_instead_of_reading_as_abstentions() -> None:
    cases = build_calibration_cases(list(generate(3, seed=2)), max_records=3)
    misnamed = judge_agreement(
        cases, [_result(1.0) for _ in cases], judge_component="judge", min_agreement=0.0
    )
    assert not misnamed.passed and "no grader result has a 'judge' component" in misnamed.problems[0]
    failed = judge_agreement(
        cases,
        [],
        judge_component="policy_judge",
        min_agreement=0.0,
        failed_batches=["batch 0: GraderInvocationError: Unhandled"],
    )
    assert not failed.passed and failed.confusion["pass"]["no_verdict"] == 3
