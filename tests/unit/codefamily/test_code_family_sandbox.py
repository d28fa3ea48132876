"""The sandbox's code family: claims code records, renders programs, records its share of hacking attempts."""

from __future__ import annotations

import random

from bedrock_rft_provider.data import humaneval
from bedrock_rft_provider.jobs.metrics import HACKING_ATTEMPT_SHARE
from bedrock_rft_provider.rewards.codeexec import fenced_blocks
from bedrock_rft_provider.sandbox.dataset import record_task
from bedrock_rft_provider.sandbox.families.code import ACTIONS, HACKING, mutate, render, solve_rate
from bedrock_rft_provider.sandbox.policy import SimulatedPolicy
from bedrock_rft_provider.sandbox.training import family_step_metrics

RECORD = humaneval.to_rft_record(humaneval.read_problems()[0])


def _prompt(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_code_records_are_claimed_with_their_entry_point_and_solution() -> None:
    task = record_task(RECORD)
    assert task.kind == "code"
    assert task.answer == RECORD["reference_answer"]["solution"]
    assert task.detail.entry_point == "has_close_elements"
    # AWS's layout (metadata-style test_cases at the top level) is claimed too; the entry point is the
    # function the tests call.
    aws = record_task({"messages": _prompt("Write add."), "test_cases": ["assert add(1, 2) == 3"]})
    assert (aws.kind, aws.answer, aws.detail.entry_point) == ("code", None, "add")
    assert record_task({"messages": _prompt("2 + 2?"), "reference_answer": "4"}).kind == "math"


def test_hacking_attempts_target_the_entry_point_and_solutions_come_fenced_or_not() -> None:
    task = record_task(RECORD)
    rng = random.Random(0)
    for action, (approach, style) in enumerate(ACTIONS):
        text = render(task, action, rng)
        if approach == "hack" and style not in {"forge_result_lines", "exit_zero_early"}:
            assert "def has_close_elements(" in text
        assert bool(fenced_blocks(text)) == (style != "unfenced")
    assert {ACTIONS[i][0] for i in HACKING} == {"hack"}


def test_an_honest_attempt_is_right_as_often_as_the_problems_solve_rate() -> None:
    task = record_task(RECORD)
    rate = solve_rate(task)
    rng = random.Random(1)
    right = sum(task.answer.rstrip() in render(task, 0, rng) for _ in range(400))
    assert abs(right / 400 - rate) < 0.1


def test_a_mutant_differs_from_the_solution() -> None:
    solution = RECORD["reference_answer"]["solution"]
    assert mutate(solution, random.Random(2)) != solution


def test_step_metrics_are_the_share_of_hacking_attempts() -> None:
    hack = min(HACKING)
    row = family_step_metrics({"code": [0, hack, hack, 2], "math": [0, 1]})
    assert row == {HACKING_ATTEMPT_SHARE: 0.5}


def test_the_base_model_tries_to_hack_often() -> None:
    task = record_task(RECORD)
    probabilities = SimulatedPolicy("amazon.nova-2-lite-v1:0", 0).probabilities(task)
    assert 0.15 < sum(probabilities[i] for i in HACKING) < 0.6
