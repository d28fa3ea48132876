"""The README's grading rules: exact numbers, the one tolerance, reasoning never counted as the answer."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_rft_provider.evaluation.records import EvalRecord, parse_response
from bedrock_rft_provider.evaluation.scoring import grader_sample
from bedrock_rft_provider.rewards import make_handler, parse_sample
from bedrock_rft_provider.rewards.builtin import exact_match, format_check, json_match, math_answer
from bedrock_rft_provider.rewards.contract import reference_text, split_reasoning


def _score(reward: Any, event: dict[str, Any]) -> float:
    return float(make_handler(reward)([event], None)[0]["aggregate_reward_score"])


# (response, reference, expected): integers and exact decimals compare exactly, however large.
EXACT_CASES = [
    ("#### 1000000000", "1000000001", 0.0),
    ("#### 1000000001", "1000000001", 1.0),
    ("#### 4999999999", "5000000000", 0.0),
    ("#### 9007199254740993", "9007199254740992", 0.0),  # 2**53 + 1 vs 2**53: equal as floats
    ("#### 9007199254740993", "9007199254740993", 1.0),
    ("The answer is 123456789012345678901234567890", "123456789012345678901234567891", 0.0),
    ("#### 0.1", "0.10000000000000001", 0.0),
    ("#### 0.30000000000000004", "0.3", 0.0),
    ("#### 2.50", "2.5", 1.0),
    ("#### 1,000,000,001", "1000000001", 1.0),
    ("#### $4.5 million", "4500000", 1.0),
    ("#### 4.5 million", "4500001", 0.0),
    ("#### 12.5%", "0.125", 1.0),
    ("#### 12.5%", "0.1251", 0.0),
    # the one tolerance: a value with no finite decimal form vs its rounding (>= 2 places)
    ("The answer is 0.33", "1/3", 1.0),
    ("The answer is 0.333", "1/3", 1.0),
    ("The answer is 0.67", "2/3", 1.0),
    ("The answer is \\frac{2}{3}", "0.67", 1.0),
    ("The answer is 0.66", "2/3", 0.0),  # truncated, not rounded
    ("The answer is 0.3", "1/3", 0.0),  # one place is too coarse to say
    ("The answer is 0.33", "0.333", 0.0),  # two decimals: both exact, so they differ
    ("The answer is 33.33%", "1/3", 1.0),
    ("The answer is 1/4", "0.25", 1.0),
    ("The answer is 1/4", "0.3", 0.0),  # 1/4 is exact: no rounding tolerance
]


@pytest.mark.parametrize(("response", "reference", "expected"), EXACT_CASES)
def test_math_answer_compares_numbers_exactly(
    response: str, reference: str, expected: float, make_event: Any
) -> None:
    assert _score(math_answer, make_event(response, reference)) == expected


@pytest.mark.parametrize(
    ("reference", "response", "expected"),
    [
        (1000000001, "#### 1000000000", 0.0),
        (5000000000, "#### 4999999999", 0.0),
        (2**53, "#### 9007199254740993", 0.0),
        (1e20, "#### 100000000000000000000", 1.0),  # a float reference is read as plain digits
        (2.5, "#### 2.50", 1.0),
    ],
)
def test_math_answer_with_a_numeric_json_reference(
    reference: Any, response: str, expected: float, make_event: Any
) -> None:
    assert _score(math_answer, make_event(response, reference)) == expected


def test_float_reference_text_is_plain_decimal() -> None:
    assert reference_text(1e20) == "100000000000000000000"
    assert reference_text(1e-7) == "0.0000001"
    assert reference_text(float("nan")) is None


@pytest.mark.parametrize(
    ("expected", "answer", "score"),
    [
        ({"total": 1000000001}, '{"total": 1000000000}', 0.0),
        ({"total": 5000000000}, '{"total": 4999999999}', 0.0),
        ({"total": 9007199254740992}, '{"total": 9007199254740993}', 0.0),
        ({"total": 18}, '{"total": 18.0}', 1.0),
        ({"price": 2.5}, '{"price": 2.50}', 1.0),
        ({"price": 0.3}, '{"price": 0.30000000000000004}', 0.0),
        ({"ok": True}, '{"ok": 1}', 0.0),
    ],
)
def test_json_match_numeric_fields_compare_exactly(
    expected: dict[str, Any], answer: str, score: float, make_event: Any
) -> None:
    assert _score(json_match, make_event(answer, json.dumps(expected))) == score


# ---- reasoning: one rule for every reward ----

THINKING_72 = (
    "<think>Maybe 8 * 9 = 72, so #### 72? No: she sells 9 eggs at $2.</think>\nShe makes \\boxed{18}."
)


def test_think_block_does_not_compete_with_the_final_answer(make_event: Any) -> None:
    assert _score(math_answer, make_event(THINKING_72, "18")) == 1.0


@pytest.mark.parametrize(
    ("content", "answer", "reasoning"),
    [
        ("<think>#### 72</think>#### 18", "#### 18", "#### 72"),
        ("<THINKING>#### 72</THINKING>\n#### 18", "#### 18", "#### 72"),
        ("<reasoning>a</reasoning>b<think>c</think>#### 18", "#### 18", "abc"),
        ("the template opened it: #### 72</think>\n#### 18", "#### 18", "the template opened it: #### 72"),
        ("<think>#### 18 and still thinking", "", "#### 18 and still thinking"),
        ("#### 18", "#### 18", ""),
        ("a < b so #### 18", "a < b so #### 18", ""),
    ],
)
def test_split_reasoning(content: str, answer: str, reasoning: str) -> None:
    assert split_reasoning(content) == (reasoning, answer)


@pytest.mark.parametrize(
    "message",
    [
        {
            "role": "assistant",
            "content": [{"type": "reasoning", "text": "#### 72"}, {"type": "text", "text": "#### 18"}],
        },
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "#### 72"}, {"text": "#### 18"}]},
        {
            "role": "assistant",
            "content": [{"reasoningContent": {"reasoningText": {"text": "#### 72"}}}, {"text": "#### 18"}],
        },
        {"role": "assistant", "content": "#### 18", "reasoning_content": "#### 72"},
        {"role": "assistant", "content": "#### 18", "reasoning": "#### 72"},
    ],
)
def test_reasoning_blocks_and_fields_are_not_the_answer(message: dict[str, Any]) -> None:
    event = {
        "id": "r",
        "messages": [{"role": "user", "content": "q"}, message],
        "metadata": {"reference_answer": "18"},
    }
    sample = parse_sample(event)
    assert (sample.response, sample.reasoning) == ("#### 18", "#### 72")
    assert _score(math_answer, event) == 1.0


@pytest.mark.parametrize(
    ("reward", "response", "reference", "expected"),
    [
        (exact_match, "<think>Paris? or Lyon</think>Lyon", "Lyon", 1.0),
        (json_match, '<think>{"total": 72}</think>{"total": 18}', '{"total": 18}', 1.0),
        (format_check(), "<think>#### 72</think>The answer is 72", "72", 0.0),  # format of the answer only
        (math_answer, "<think>#### 18</think>", "18", 0.0),  # thinking alone answers nothing
        (math_answer, "<think>#### 18 ... out of tokens", "18", 0.0),
    ],
)
def test_every_builtin_reward_grades_the_answer_only(
    reward: Any, response: str, reference: str, expected: float, make_event: Any
) -> None:
    assert _score(reward, make_event(response, reference)) == expected


def test_evaluation_response_reasoning_reaches_the_grader_but_is_not_scored() -> None:
    response = parse_response({"id": "a", "response": "#### 18", "reasoning_content": "#### 72"}, "r.jsonl:1")
    record = EvalRecord("a", [{"role": "user", "content": "q"}], "18")
    sample = parse_sample(grader_sample(record, response))
    assert (sample.response, sample.reasoning) == ("#### 18", "#### 72")
    assert (
        make_handler(math_answer)([grader_sample(record, response)], None)[0]["aggregate_reward_score"] == 1.0
    )


@given(st.integers(min_value=-(10**30), max_value=10**30), st.integers(min_value=-3, max_value=3))
@settings(max_examples=300, deadline=None)
def test_any_integer_matches_only_itself(value: int, offset: int) -> None:
    event = {
        "id": "p",
        "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": f"#### {value}"}],
        "metadata": {"reference_answer": str(value + offset)},
    }
    assert _score(math_answer, event) == (1.0 if offset == 0 else 0.0)


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False, allow_infinity=False))
@settings(max_examples=300, deadline=None)
def test_any_exact_decimal_matches_its_other_spellings_and_not_its_neighbours(value: Decimal) -> None:
    written = format(value, "f")
    ulp = Decimal("0.0001")
    for reference, expected in ((format(value.normalize(), "f"), 1.0), (format(value + ulp, "f"), 0.0)):
        event = {
            "id": "p",
            "messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": f"#### {written}"},
            ],
            "metadata": {"reference_answer": reference},
        }
        assert _score(math_answer, event) == expected, (written, reference)
