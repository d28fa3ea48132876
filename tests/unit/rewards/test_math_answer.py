"""math_answer: final-answer extraction and numeric comparison, case by case and on real GSM8K."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.rewards import make_handler, parse_sample
from bedrock_rft_provider.rewards.builtin import math_answer
from bedrock_rft_provider.rewards.numeric import extract_answer

# (response, reference, expected score, rule that must fire)
CASES: list[tuple[str, Any, float, str]] = [
    # GSM8K hash marker
    ("Janet sells 9 eggs.\n#### 18", "18", 1.0, "hash"),
    ("#### 18", "18", 1.0, "hash"),
    ("####18", "18", 1.0, "hash"),
    ("#### $18", "18", 1.0, "hash"),
    ("#### 18.00", "18", 1.0, "hash"),
    ("#### 17", "18", 0.0, "hash"),
    ("She makes 9 * 2 = 18.\n#### 18\nThe numbers 3 and 4 were eaten.", "18", 1.0, "hash"),
    ("#### 5\n#### 18", "18", 1.0, "hash"),  # two answers: the last statement counts
    ("#### 18\n#### 5", "18", 0.0, "hash"),
    # boxed
    ("So she makes \\boxed{18} dollars.", "18", 1.0, "boxed"),
    ("\\boxed{\\$1,234.50}", "1234.5", 1.0, "boxed"),
    ("\\boxed{\\frac{1}{2}}", "0.5", 1.0, "boxed"),
    ("\\boxed{\\dfrac{3}{4}}", "0.75", 1.0, "boxed"),
    ("\\boxed{18 \\text{ dollars}}", "18", 1.0, "boxed"),
    ("\\boxed{{18}}", "18", 1.0, "boxed"),
    ("First \\boxed{9}, then doubling gives \\boxed{18}", "18", 1.0, "boxed"),
    ("\\boxed{-3}", "-3", 1.0, "boxed"),
    ("\\fbox{42}", "42", 1.0, "boxed"),
    ("\\boxed{17}", "18", 0.0, "boxed"),
    # "the answer is"
    ("The answer is 18", "18", 1.0, "answer_is"),
    ("The answer is $1,234.50.", "1234.5", 1.0, "answer_is"),
    ("The final answer is: 18", "18", 1.0, "answer_is"),
    ("Final Answer: 18", "18", 1.0, "answer_is"),
    ("**Answer:** 18", "18", 1.0, "answer_is"),
    ("**Final Answer**: $18", "18", 1.0, "answer_is"),
    ("Answer:\n\n42", "42", 1.0, "answer_is"),
    ("The answer is 12 dollars.", "12", 1.0, "answer_is"),
    ("The answer is -3.", "-3", 1.0, "answer_is"),
    ("The answer is \u22123.", "-3", 1.0, "answer_is"),
    ("The answer is 2 + 3 = 5", "5", 1.0, "answer_is"),
    ("The answer is 18. Check: 16 - 3 - 4 = 9 eggs.", "18", 1.0, "answer_is"),
    ("The answer is 18 (9 eggs at $2 each).", "18", 1.0, "answer_is"),
    ("She has 3 apples and 5 pears, so the answer is 8 fruits in all, not 3.", "8", 1.0, "answer_is"),
    ("The answer is 5. Wait, I made a mistake; recomputing, the answer is 18.", "18", 1.0, "answer_is"),
    ("The answer is 18.0", "18", 1.0, "answer_is"),
    ("The answer is 0.5", "1/2", 1.0, "answer_is"),
    ("The answer is 1/2", "0.5", 1.0, "answer_is"),
    ("The answer is 1 1/2 cups", "1.5", 1.0, "answer_is"),
    ("The answer is 50%", "50", 1.0, "answer_is"),
    ("The answer is 50%", "0.5", 1.0, "answer_is"),
    ("The answer is 25 percent", "25", 1.0, "answer_is"),
    ("The answer is 2 million", "2000000", 1.0, "answer_is"),
    ("The answer is 3 thousand dollars", "3000", 1.0, "answer_is"),
    ("There is 32 - 28 = $4 million to manage.", "4", 1.0, "final_line"),
    ("He earns 24 * 2 points/answer = 48 points.\nSo 48 + 16 = 64 points.", "64", 1.0, "final_line"),
    ("The answer is €45", "45", 1.0, "answer_is"),
    ("The answer is .75", "0.75", 1.0, "answer_is"),
    ("The answer is 1,000,000", "1000000", 1.0, "answer_is"),
    ("The answer is 18.5", "18", 0.0, "answer_is"),
    ("The answer is 180", "18", 0.0, "answer_is"),
    ("THE ANSWER IS 18", "18", 1.0, "answer_is"),
    # line labels
    ("Working: 16 - 3 - 4 = 9\nA: 18", "18", 1.0, "label"),
    ("Ans: -7", "-7", 1.0, "label"),
    # final line
    ("She sells 16 - 3 - 4 = 9 eggs.\nShe makes 9 * 2 = $18 every day.", "18", 1.0, "final_line"),
    ("Total eggs: 9\n$18", "18", 1.0, "final_line"),
    ("Reasoning with 3 and 4.\n**18**", "18", 1.0, "final_line"),
    ("so 12 dollars", "12", 1.0, "final_line"),
    ("Let x = 4.\nx = 9 - 5 = 4", "4", 1.0, "final_line"),
    # last number fallback
    ("I think it is 16 then 18 dollars and 1 more thing", "1", 1.0, "last_number"),
    ("We get 9 eggs and 18 dollars", "18", 1.0, "last_number"),
    # nothing usable
    ("I do not know.", "18", 0.0, "none"),
    ("", "18", 0.0, "none"),
    ("eighteen", "18", 0.0, "none"),  # words count only where an answer is stated
    # numbers in words and spaced thousands
    ("The answer is eighteen.", "18", 1.0, "answer_is"),
    ("The answer is twenty-five dollars.", "25", 1.0, "answer_is"),
    ("Final answer: one hundred and five", "105", 1.0, "answer_is"),
    ("#### two thousand three hundred", "2300", 1.0, "hash"),
    ("The answer is 1\u202f234 m", "1234", 1.0, "answer_is"),
    ("The answer is 12\u00a0500.", "12500", 1.0, "answer_is"),
    ("The answer is -$3.", "-3", 1.0, "answer_is"),
    ("The answer is $-3.", "-3", 1.0, "answer_is"),
    # calculator annotations copied from GSM8K never decide the answer
    ("She makes 9 * 2 = $<<9*2=18>>18 every day.", "18", 1.0, "final_line"),
    ("<<16-3-4=9>>9 eggs, so 9*2=<<9*2=17>>18", "18", 1.0, "final_line"),
    # references in every shape
    ("#### 18", "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 eggs.\n#### 18", 1.0, "hash"),
    ("#### 18", {"final_answer": "18"}, 1.0, "hash"),
    ("#### 18", {"answer": 18}, 1.0, "hash"),
    ("#### 18", {"text": "#### 18"}, 1.0, "hash"),
    ("#### 18", {"final_answer": "18", "steps": "16-3-4=9; 9*2=18"}, 1.0, "hash"),
    ("#### 1234.5", "$1,234.50", 1.0, "hash"),
    ("#### 70000", "70,000", 1.0, "hash"),
    ("#### 18", 18, 1.0, "hash"),
    ("#### -3", "-3", 1.0, "hash"),
    ("#### 3", "-3", 0.0, "hash"),
]


@pytest.mark.parametrize(("response", "reference", "expected", "rule"), CASES)
def test_math_answer_case(response: str, reference: Any, expected: float, rule: str, make_event: Any) -> None:
    sample = parse_sample(make_event(response, reference))
    result = math_answer(sample)
    assert result is not None
    assert result.score == expected
    assert result.metrics[f"math_rule_{rule}"] == 1.0
    assert sum(v for k, v in result.metrics.items() if k.startswith("math_rule_")) == 1.0


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 60


def test_conflicting_answers_are_reported(make_event: Any) -> None:
    result = math_answer(parse_sample(make_event("#### 5\n#### 18")))
    assert result is not None
    assert result.metrics["math_conflicting_answers"] == 1.0
    same = math_answer(parse_sample(make_event("The answer is 18. So the answer is 18.")))
    assert same is not None
    assert same.metrics["math_conflicting_answers"] == 0.0


def test_missing_reference_is_not_applicable(make_event: Any) -> None:
    assert math_answer(parse_sample(make_event("#### 18", None))) is None
    assert math_answer(parse_sample(make_event("#### 18", "no number here"))) is None


def test_reasoning_numbers_do_not_beat_the_stated_answer() -> None:
    text = "Step 1: 16 - 3 - 4 = 9.\nStep 2: 9 * 2 = 18.\nThe answer is 18.\nCheck: 9 + 3 + 4 = 16"
    found = extract_answer(text)
    assert found.number is not None
    assert (found.number.value, found.rule) == (18.0, "answer_is")


def _gsm8k_lines(gsm8k_dir: Path) -> list[dict[str, str]]:
    with (gsm8k_dir / "test.jsonl").open() as lines:
        return [json.loads(line) for line in lines]


@pytest.mark.gsm8k
def test_every_gsm8k_test_solution_scores_one_as_a_response(gsm8k_dir: Path, make_event: Any) -> None:
    rows = _gsm8k_lines(gsm8k_dir)
    handler = make_handler(math_answer)
    events = [
        make_event(
            row["answer"], row["answer"].split("####")[-1].strip(), sample_id=str(i), prompt=row["question"]
        )
        for i, row in enumerate(rows)
    ]
    results = handler(events, None)
    wrong = [r["id"] for r in results if r["aggregate_reward_score"] != 1.0]
    assert len(results) == len(rows) == 1319
    assert wrong == []


@pytest.mark.gsm8k
def test_gsm8k_solution_without_marker_still_scores_via_final_line(gsm8k_dir: Path, make_event: Any) -> None:
    """Reference solutions with the '#### N' line stripped and the answer stated in prose."""
    rows = _gsm8k_lines(gsm8k_dir)[:300]
    handler = make_handler(math_answer)
    events = []
    for i, row in enumerate(rows):
        steps, final = row["answer"].rsplit("####", 1)
        events.append(
            make_event(f"{steps.strip()}\nThe answer is {final.strip()}.", final.strip(), sample_id=str(i))
        )
    scores = [r["aggregate_reward_score"] for r in handler(events, None)]
    assert scores == [1.0] * len(rows)


@pytest.mark.gsm8k
def test_wrong_gsm8k_answers_score_zero(gsm8k_dir: Path, make_event: Any) -> None:
    rows = _gsm8k_lines(gsm8k_dir)[:300]
    handler = make_handler(math_answer)
    events = []
    for i, row in enumerate(rows):
        final = row["answer"].split("####")[-1].strip().replace(",", "")
        events.append(make_event(f"#### {int(final) + 1}", final, sample_id=str(i)))
    assert all(r["aggregate_reward_score"] == 0.0 for r in handler(events, None))
