"""Every canonical HumanEval solution scores 1.0 through the grader; known-wrong variants score below it.

This is what makes HumanEval usable as an RFT reward here: the per-assert split, the hardened runner's
oracle and the format rule together must not fail a single right program (one would be a reward that
punishes correct code), and must not pay a stub, a mutant or a hacking attempt in full.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from bedrock_rft_provider.data import humaneval
from bedrock_rft_provider.rewards import make_handler
from bedrock_rft_provider.rewards.adversarial import ATTACKS
from bedrock_rft_provider.rewards.builtin import code_solution
from bedrock_rft_provider.sandbox.families.code import HACKS, CodeTask, mutate, stub

RECORDS = [humaneval.to_rft_record(problem) for problem in humaneval.read_problems()]
# Two threads: each sample's runner is a child process, so the handler's threads only wait.
HANDLER = make_handler(code_solution, max_workers=2)


def _event(record: dict[str, Any], program: str, tag: str) -> dict[str, Any]:
    return {
        "id": f"{record['id']}-{tag}",
        "messages": [*record["messages"], {"role": "assistant", "content": f"```python\n{program}\n```"}],
        "metadata": {"reference_answer": record["reference_answer"]},
    }


def _scores(events: list[dict[str, Any]]) -> dict[str, float]:
    return {result["id"]: float(result["aggregate_reward_score"]) for result in HANDLER(events, None)}


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_every_canonical_solution_scores_one_and_every_stub_below_it() -> None:
    events = [_event(r, r["reference_answer"]["solution"], "canonical") for r in RECORDS]
    for record in RECORDS:
        reference = record["reference_answer"]
        events.append(_event(record, stub(CodeTask(reference["entry_point"], reference["solution"])), "stub"))
    scores = _scores(events)
    below_one = sorted(k for k, v in scores.items() if k.endswith("-canonical") and v != 1.0)
    assert below_one == []
    paid_stubs = sorted(k for k, v in scores.items() if k.endswith("-stub") and v >= 1.0)
    assert paid_stubs == []
    assert len(scores) == 2 * 164


@pytest.mark.slow
def test_mutants_and_hacking_attempts_score_below_one_on_a_seeded_sample() -> None:
    picked = random.Random(15).sample(RECORDS, 12)
    events = []
    for record in picked:
        reference = record["reference_answer"]
        solution, entry = reference["solution"], reference["entry_point"]
        events.append(_event(record, mutate(solution, random.Random(record["id"])), "mutant"))
        # setsid_sleeper only sleeps (3 s each): it tests containment, not the verdict.
        events.extend(_event(record, ATTACKS[n]([entry]), n) for n in ATTACKS if n != "setsid_sleeper")
    scores = _scores(events)
    hacks = {k: v for k, v in scores.items() if not k.endswith("-mutant")}
    # The attempts the simulated policy makes are paid nothing at all...
    assert {k: v for k, v in hacks.items() if k.rsplit("-", 1)[-1] in HACKS and v > 0.0} == {}
    # ... and no attack is paid in full. Some earn partial credit on HumanEval's own tests: a constant
    # truthy result passes ``assert candidate(x)`` (so would ``return True``), and a test whose expected
    # value is computed from random inputs inside the candidate's process (HumanEval/53) can be read back.
    assert {k: v for k, v in hacks.items() if v >= 1.0} == {}
    mutants = [v for k, v in scores.items() if k.endswith("-mutant")]
    # A mutation can be equivalent (e.g. a constant nobody reads); most are caught by the tests.
    assert sum(v < 1.0 for v in mutants) >= 9
