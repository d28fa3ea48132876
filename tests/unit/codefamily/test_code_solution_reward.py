"""``code_solution``: format rule first, then the share of tests the hardened runner saw pass."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.rewards import make_handler
from bedrock_rft_provider.rewards.builtin import code_solution

TESTS = ["assert square(2) == 4", "assert square(3) == 9", "assert square(-1) == 1", "assert square(0) == 0"]
RIGHT = "def square(x):\n    return x * x\n"
HALF = "def square(x):\n    return x + 2 if x == 2 else abs(x)\n"  # right for 2, -1 and 0; wrong for 3


def _score(response: str, reference: Any = None) -> dict[str, Any]:
    sample = {
        "id": "s",
        "messages": [
            {"role": "user", "content": "Write square."},
            {"role": "assistant", "content": response},
        ],
        "metadata": {"reference_answer": {"tests": TESTS} if reference is None else reference},
    }
    result: dict[str, Any] = make_handler(code_solution)([sample], None)[0]
    return result


def _metric(result: dict[str, Any], name: str) -> float:
    return next(float(m["value"]) for m in result.get("metrics_list", []) if m["name"] == name)


def test_a_fenced_right_program_scores_one() -> None:
    result = _score(f"Here it is.\n```python\n{RIGHT}```")
    assert result["aggregate_reward_score"] == 1.0
    assert _metric(result, "code_format_ok") == 1.0 and _metric(result, "code_all_passed") == 1.0


def test_partial_credit_is_the_share_of_tests_passed() -> None:
    result = _score(f"```python\n{HALF}```")
    assert result["aggregate_reward_score"] == pytest.approx(0.75)  # 2, -1 and 0 pass; 3 fails
    assert _metric(result, "code_all_passed") == 0.0


@pytest.mark.parametrize(
    "response",
    [
        RIGHT,  # a right program without a fence
        "```python\ndef square(x):\n    return x * x\n",  # cut off before the closing fence
        "```python\n   \n```",  # an empty block
        "I would square the number.",
    ],
    ids=["unfenced", "unclosed", "empty-block", "prose"],
)
def test_the_format_rule_pays_nothing_without_a_fenced_program(response: str) -> None:
    result = _score(response)
    assert result["aggregate_reward_score"] == 0.0
    assert _metric(result, "code_format_ok") == 0.0


def test_the_last_fenced_block_is_the_program() -> None:
    response = f"First try:\n```python\ndef square(x):\n    return 0\n```\nFixed:\n```py\n{RIGHT}```"
    assert _score(response)["aggregate_reward_score"] == 1.0


def test_a_sample_without_tests_is_not_applicable() -> None:
    from bedrock_rft_provider.rewards.contract import parse_sample

    sample = parse_sample(
        {"id": "s", "messages": [{"role": "assistant", "content": f"```python\n{RIGHT}```"}], "metadata": {}}
    )
    assert code_solution(sample) is None


def test_the_reward_preflight_tells_a_humaneval_solution_from_a_wrong_one() -> None:
    from bedrock_rft_provider.data import humaneval
    from bedrock_rft_provider.rewards.preflight import build_preflight_cases

    records = list(humaneval.records(3, seed=5))
    cases = build_preflight_cases(records, response_template="```python\n{reference}\n```")
    results = make_handler(code_solution)([case.event for case in cases], None)
    scores = {
        (case.record, case.kind): float(r["aggregate_reward_score"])
        for case, r in zip(cases, results, strict=True)
    }
    for index in range(3):
        assert scores[(index, "ideal")] == 1.0
        # The wrong answer is another problem's program (changing a program's numbers can leave it right).
        assert scores[(index, "wrong")] < 1.0
