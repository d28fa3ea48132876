"""Preflight: events built from training records, and the checks judged on a grader's answers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.rewards import Sample, make_handler
from bedrock_rft_provider.rewards.builtin import exact_match, json_match, math_answer
from bedrock_rft_provider.rewards.preflight import build_preflight_cases, judge_preflight, wrong_response
from bedrock_rft_provider.rewards.runner import score_events


def _records(fixtures: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (fixtures / "train_sample.jsonl").read_text().splitlines()]


def _preflight(handler: Any, records: list[dict[str, Any]], timeout_s: float = 300) -> Any:
    cases = build_preflight_cases(records)
    run = score_events(handler, [c.event for c in cases], batch_size=8)
    return judge_preflight(cases, run, lambda_timeout_s=timeout_s)


def test_cases_cover_each_record_with_a_reference(reward_fixtures: Path) -> None:
    cases = build_preflight_cases(_records(reward_fixtures))
    assert [(c.record, c.kind) for c in cases[:4]] == [
        (0, "ideal"),
        (0, "wrong"),
        (0, "empty"),
        (0, "malformed"),
    ]
    assert {c.record for c in cases} == {0, 1, 2}  # t4 has no reference answer
    by_id = {c.event["id"]: c.event for c in cases}
    assert by_id["preflight-0-ideal"]["messages"][-1] == {"role": "assistant", "content": "18"}
    assert by_id["preflight-0-wrong"]["messages"][-1]["content"] == "43"
    assert by_id["preflight-2-ideal"]["metadata"]["difficulty"] == "medium"
    assert by_id["preflight-1-ideal"]["metadata"]["reference_answer"]["final_answer"] == "3"


def test_math_answer_passes_preflight(reward_fixtures: Path) -> None:
    report = _preflight(make_handler(math_answer), _records(reward_fixtures))
    assert report.passed, report.failure_message()
    assert report.kind_scores["ideal"]["min"] == 1.0
    assert report.kind_scores["wrong"]["max"] == 0.0


def test_constant_reward_fails_bad_below_ideal(reward_fixtures: Path) -> None:
    report = _preflight(make_handler(lambda sample: 1.0), _records(reward_fixtures))
    failed = {c.name: c.detail for c in report.checks if not c.passed}
    assert set(failed) == {"bad_below_ideal"}
    assert "preflight-0-wrong scored 1, as high as the ideal response's 1" in failed["bad_below_ideal"]
    assert "bad_below_ideal" in report.failure_message()


def test_reward_that_misses_the_ideal_fails_ideal_top_score(reward_fixtures: Path) -> None:
    def inverted(sample: Sample) -> float:
        return 0.0 if sample.response == (sample.reference_text or "") else 0.5

    failed = {
        c.name for c in _preflight(make_handler(inverted), _records(reward_fixtures)).checks if not c.passed
    }
    assert {"ideal_top_score", "bad_below_ideal"} <= failed


def test_crashing_grader_fails_errors_and_contract(reward_fixtures: Path) -> None:
    def crash(event: Any, context: Any) -> Any:
        raise RuntimeError("FunctionError: Unhandled")

    def wrong_ids(event: Any, context: Any) -> Any:
        return [{"id": "x", "aggregate_reward_score": 1.0} for _ in event]

    crashed = {c.name: c for c in _preflight(crash, _records(reward_fixtures)).checks}
    assert not crashed["errors"].passed and "FunctionError" in crashed["errors"].detail
    broken = {c.name: c for c in _preflight(wrong_ids, _records(reward_fixtures)).checks}
    assert not broken["contract"].passed and "expected 'preflight-0-ideal'" in broken["contract"].detail


def test_reward_error_metric_fails_errors(reward_fixtures: Path) -> None:
    def flaky(sample: Sample) -> float:
        if sample.id.endswith("malformed"):
            raise ValueError("cannot parse")
        return math_answer(sample).score  # type: ignore[union-attr]

    errors = next(
        c for c in _preflight(make_handler(flaky), _records(reward_fixtures)).checks if c.name == "errors"
    )
    assert not errors.passed
    assert "preflight-0-malformed reported reward_error" in errors.detail


def test_slow_grader_fails_latency(reward_fixtures: Path) -> None:
    def slow(sample: Sample) -> Any:
        time.sleep(0.01)
        return math_answer(sample)

    report = _preflight(make_handler(slow), _records(reward_fixtures), timeout_s=0.05)
    latency = next(c for c in report.checks if c.name == "latency")
    assert not latency.passed
    assert "of the 0.05 s Lambda timeout" in latency.detail


def test_no_reference_answers_fails_records() -> None:
    report = _preflight(make_handler(math_answer), [{"messages": [{"role": "user", "content": "hi"}]}])
    assert not report.passed
    assert report.to_dict()["checks"][0] == {
        "name": "records",
        "passed": False,
        "detail": "no training record has a reference_answer; nothing to check the reward on",
    }


@pytest.mark.parametrize(
    ("reward", "reference"),
    [(exact_match, "Paris"), (json_match, {"city": "Paris", "year": 1889})],
)
def test_other_builtins_pass_preflight(reward: Any, reference: Any) -> None:
    records = [
        {
            "messages": [{"role": "user", "content": f"q{i}"}],
            "reference_answer": reference if i == 0 else f"other {i}",
        }
        for i in range(3)
    ]
    if isinstance(reference, dict):
        records = [
            {**r, "reference_answer": {"city": f"C{i}", "year": 1900 + i}} for i, r in enumerate(records)
        ]
    report = _preflight(make_handler(reward), records)
    assert report.passed, report.failure_message()


def test_wrong_answers_change_every_number() -> None:
    assert wrong_response("70,000", []) == "140007"
    assert wrong_response("It costs $1.5 and 3 more.\n#### 4.5", []) == "It costs $10 and 13 more.\n#### 16"
    assert wrong_response({"city": "Paris", "year": 1889}, []) == '{"city": "not Paris", "year": 3785}'
    assert wrong_response("Paris", ["London"]) == "London"


@pytest.mark.gsm8k
def test_math_answer_passes_preflight_on_real_gsm8k_records(gsm8k_dir: Path) -> None:
    records = []
    for line in (gsm8k_dir / "test.jsonl").read_text().splitlines()[:50]:
        row = json.loads(line)
        steps, final = row["answer"].rsplit("####", 1)
        reference = {"final_answer": final.strip(), "steps": steps.strip()}
        records.append(
            {"messages": [{"role": "user", "content": row["question"]}], "reference_answer": reference}
        )
    cases = build_preflight_cases(
        records, max_records=50, response_template="Let me think.\n#### {reference}"
    )
    report = judge_preflight(
        cases, score_events(make_handler(math_answer), [c.event for c in cases]), lambda_timeout_s=60
    )
    assert report.passed, report.failure_message()
    assert report.kind_scores["ideal"]["n"] == 50


# Every check fails when its premise fails: never a pass on absent or zero evidence (issue 10, fault 8).
def _zero(sample: Sample) -> float:
    return 0.0


def _silent(event: Any, context: Any) -> Any:
    return []  # answers nothing: no score to judge


@pytest.mark.parametrize(
    ("grader", "must_fail", "detail"),
    [
        (
            make_handler(_zero),
            {"ideal_top_score", "bad_below_ideal"},
            "the ideal response must score above 0",
        ),
        (_silent, {"contract", "errors", "ideal_top_score", "bad_below_ideal"}, "got no valid score"),
    ],
    ids=["ideal-scores-zero", "grader-answers-nothing"],
)
def test_checks_fail_when_their_premise_fails(
    reward_fixtures: Path, grader: Any, must_fail: set[str], detail: str
) -> None:
    report = _preflight(grader, _records(reward_fixtures))
    failed = {c.name: c.detail for c in report.checks if not c.passed}
    assert must_fail <= set(failed), failed
    assert detail in failed["ideal_top_score"]
    assert not report.passed


def test_no_cases_fail_every_check() -> None:
    report = judge_preflight([], score_events(make_handler(math_answer), []), lambda_timeout_s=60)
    assert [c.name for c in report.checks if c.passed] == []


def test_ideal_tolerance_accepts_a_noisy_judges_lower_ideal_but_not_one_at_or_below_a_bad_answer() -> None:
    from bedrock_rft_provider.data.moderation import generate
    from bedrock_rft_provider.rewards.moderation import label_match

    records = list(generate(4, seed=0))
    misjudged = records[1]["messages"][1]["content"]

    def noisy_judge(sample: Sample) -> float:
        # label_match plus a judge that misjudges one record's ideal answer (0.6 instead of 1.0)
        label = float(label_match(sample).score)  # type: ignore[union-attr]
        return 0.6 * label + (0.0 if sample.prompt == misjudged else 0.4 * label)

    cases = build_preflight_cases(records)
    run = score_events(make_handler(noisy_judge), [c.event for c in cases], batch_size=8)
    strict = judge_preflight(cases, run, lambda_timeout_s=300)
    assert [c.name for c in strict.checks if not c.passed] == ["ideal_top_score"]
    assert "preflight-1-ideal scored 0.6 (top score 1)" in strict.failure_message()
    assert judge_preflight(cases, run, lambda_timeout_s=300, ideal_tolerance=0.4).passed
    too_tight = judge_preflight(cases, run, lambda_timeout_s=300, ideal_tolerance=0.3)
    assert "(top score 1, 0.3 below it allowed)" in too_tight.failure_message()
