"""Wave-2 adversarial review: hostile model output against the built-in rewards and the grader handler.

Each test is one finding; its witness is in the test name and its docstring says what broke.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from bedrock_rft_provider.rewards import handler as handler_module
from bedrock_rft_provider.rewards.builtin import json_match, math_answer
from bedrock_rft_provider.rewards.contract import parse_sample
from bedrock_rft_provider.rewards.handler import INVOCATION_RESERVE_S, make_handler


def _sample(response: str, reference: object) -> object:
    return parse_sample(
        {
            "id": "s",
            "messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": response},
            ],
            "reference_answer": reference,
        }
    )


# Hostile responses that made math_answer's extraction quadratic in the response length: 140 KB of
# unclosed ``\\boxed{`` took 171 s, 500 KB of "answer is " more than 20 s. The check is on growth, not on
# the clock: one input 8x longer is timed against 8 runs on the short one, so both measurements last
# about as long and a busy machine slows them alike. Linear code costs the same for both; quadratic
# code costs 8x more for the long input (and took minutes at these sizes).
QUADRATIC_UNITS = {
    "unclosed_boxed": ("\\boxed{", 2_500, "#"),
    "nested_unclosed_boxed": ("\\boxed{{", 1_250, "18"),
    "answer_is_without_newlines": ("answer is ", 6_250, ""),
    "answer_is_without_period": ("The answer is 7 ", 3_750, ""),
    "numbers_on_one_line": ("1 ", 25_000, ""),
}
GROWTH = 8


def _seconds(response: str, times: int) -> float:
    started = time.perf_counter()
    for _ in range(times):
        result = math_answer(_sample(response, "18"))
        assert result is not None and result.score in (0.0, 1.0)
    return time.perf_counter() - started


@pytest.mark.parametrize("shape", QUADRATIC_UNITS.values(), ids=QUADRATIC_UNITS.keys())
def test_math_answer_is_linear_in_hostile_responses(shape: tuple[str, int, str]) -> None:
    unit, count, tail = shape
    short, long = unit * count + tail, unit * (count * GROWTH) + tail
    ratios = []
    for _ in range(5):  # interleaved; the best of five (a busy machine once gave 3.2 for linear code)
        ratios.append(_seconds(long, 1) / max(_seconds(short, GROWTH), 1e-6))
    # Linear code gives ~1, quadratic ~8: 4 keeps a clear margin on both sides.
    assert min(ratios) < 4, f"an 8x longer input cost {min(ratios) * GROWTH:.0f}x the time of the short one"


@pytest.mark.parametrize(
    ("response", "reference", "score"),
    [
        ("\\boxed{18}", "18", 1.0),
        ("\\boxed{\\frac{1}{2}} then \\boxed{18}", "18", 1.0),
        ("\\boxed{18} \\boxed{", "18", 1.0),  # an unclosed box after the answer is no answer
        ("\\boxed{ \\boxed{17}", "17", 1.0),  # the inner box closes; the outer one never does
        ("\\boxed{{17}", "17", 0.0),  # never closed: no boxed answer, the last number rule reads 17
    ],
)
def test_boxed_extraction_keeps_its_rules(response: str, reference: str, score: float) -> None:
    result = math_answer(_sample(response, reference))
    assert result is not None
    if score:
        assert result.score == score
    else:
        assert result.metrics["math_rule_boxed"] == 0.0


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ('{"n": 9007199254740993.0}', {"n": 9007199254740992}),  # 2**53 + 1 written as a float
        ('{"n": 1.0000000000000001}', {"n": 1}),
        ('{"n": 1000000000.00000001}', {"n": 1000000000}),
        ('{"n": 0.30000000000000001}', '{"n": 0.3}'),
        ('{"n": 1e999999999}', {"n": 1}),  # must not build a billion-digit integer
    ],
)
def test_json_match_compares_floats_as_written(response: str, expected: object) -> None:
    """A JSON float was read as the nearest binary double, so a value the model wrote that differs from
    the reference past the 16th significant digit compared equal (the issue-13 item-1 fault in float
    clothing). Numbers are now read as the decimal that was written."""
    result = json_match(_sample(response, expected))
    assert result is not None
    assert result.score == 0.0, f"{response} matched {expected}"


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ('{"n": 18.0}', {"n": 18}),
        ('{"n": 2.50}', {"n": 2.5}),
        ('{"n": 0.1}', '{"n": 0.1}'),
        ('{"n": 1e3}', {"n": 1000}),
        ('```json\n{"n": [1.5, 2]}\n```', {"n": [1.5, 2]}),
    ],
)
def test_json_match_still_accepts_equal_numbers(response: str, expected: object) -> None:
    result = json_match(_sample(response, expected))
    assert result is not None and result.score == 1.0


class _Context:
    """A Lambda context whose remaining time is ``budget_s`` from its creation, on ``clock``."""

    def __init__(self, budget_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = clock() + budget_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - self._clock()) * 1000))


class _FakeClock:
    """``time.monotonic`` for the handler, moved only by the reward: the test needs no wall clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_handler_answers_every_sample_within_the_lambda_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each sample had its own 30 s budget but the batch had none: 10 slow samples need 300 s, the
    default grader Lambda timeout, so Lambda killed the invocation and every sample of the batch was
    lost. The handler now stops starting samples when the invocation's remaining time runs short and
    scores the rest 0 with ``reward_timeout``. Time here is a fake clock each sample moves by 0.5 s, so
    the outcome is exact whatever the machine's load."""
    clock = _FakeClock()
    monkeypatch.setattr(handler_module, "time", SimpleNamespace(monotonic=clock.monotonic,
                                                                 perf_counter=time.perf_counter))  # fmt: skip

    def slow(sample: object) -> float:
        clock.now += 0.5
        return 1.0

    handler = make_handler(slow, sample_timeout_s=30)
    results = handler(_batch(20), _Context(3.0, clock.monotonic))
    assert len(results) == 20
    # 3 s less the 1 s kept for returning: four samples of 0.5 s fit; the rest are answered, not lost
    assert clock.now - 1000.0 == 3.0 - INVOCATION_RESERVE_S
    assert [r["aggregate_reward_score"] for r in results] == [1.0] * 4 + [0.0] * 16
    timed_out = [r for r in results if any(m["name"] == "reward_timeout" for m in r["metrics_list"])]
    assert len(timed_out) == 16


def test_threaded_handler_returns_by_the_deadline_and_frees_its_pool() -> None:
    """With ``max_workers`` the batch waited up to 30 s per sample, and samples it gave up on stayed
    queued in the warm container's pool, delaying the next invocation's samples behind them."""
    calls: list[str] = []
    finished: list[str] = []

    def slow(sample: object) -> float:
        calls.append("x")
        time.sleep(2.0)
        finished.append("x")
        return 1.0

    handler = make_handler(slow, sample_timeout_s=30, max_workers=2)
    started = time.monotonic()
    results = handler(_batch(40), _Context(3.0))
    # ~2 s (the budget less the reserve); without the batch deadline 40 s. A safety net, not a speed test.
    assert len(results) == 40 and time.monotonic() - started < 20.0
    deadline = time.monotonic() + 120
    while len(finished) < len(calls) and time.monotonic() < deadline:  # running samples end
        time.sleep(0.05)
    ran = len(calls)
    time.sleep(1.0)  # a queued sample, had one been left in the pool, would start now
    assert len(calls) == ran < 40
    second = handler(_batch(2), _Context(30.0))
    assert [r["aggregate_reward_score"] for r in second] == [1.0, 1.0]


def test_threaded_handler_does_not_wait_forever_once_its_deadline_passed() -> None:
    """Once the batch deadline had passed, ``max(0.0, left) or None`` turned the wait into no timeout at
    all, so the second hung sample of a threaded batch hung the handler (here until released)."""
    release = threading.Event()

    def hangs(sample: object) -> float:
        release.wait(120)
        return 1.0

    handler = make_handler(hangs, sample_timeout_s=0.5, max_workers=2)
    started = time.monotonic()
    try:
        results = handler(_batch(2))
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert [r["aggregate_reward_score"] for r in results] == [0.0, 0.0]
    # ~1 s (two samples of 0.5 s); the old wait ended only when the samples did (120 s here)
    assert elapsed < 60.0, f"the handler waited {elapsed:.1f}s on a batch budget of 1s"


def _batch(count: int) -> list[dict[str, object]]:
    return [
        {
            "id": str(i),
            "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
            "reference_answer": "a",
        }
        for i in range(count)
    ]


# The candidate reads the expected value out of the test's own variables: ``sys._getframe`` reaches the
# test's globals (or the loop's), which live in the candidate's process. Tests written as ``expected =
# ...`` / ``for args, want in CASES`` are common in code datasets, so testfold resolves such values in the
# parent and the child never holds them. Each shape below once scored 1 for a program that solves nothing.
FORGE_FROM_TEST_VARIABLES = (
    "import sys\n"
    "def solve(*args):\n"
    "    frame = sys._getframe(1)\n"
    "    while frame is not None:\n"
    "        for scope in (frame.f_locals, frame.f_globals):\n"
    "            for name in ('expected_for', 'expected', 'want', 'CASES', 'FACTOR'):\n"
    "                if name in scope:\n"
    "                    found = scope[name]\n"
    "                    if callable(found):\n"
    "                        return found(*args)\n"
    "                    if isinstance(found, dict):\n"
    "                        return found.get(args[0])\n"
    "                    return found\n"
    "        frame = frame.f_back\n"
    "    return None\n"
)
HONEST_SOLVE = "def solve(x, *rest):\n    return x * 2\n"
EXPECTED_IN_VARIABLES = [
    "expected = 6\nassert solve(3) == expected",
    "for x, want in [(1, 2), (3, 6)]:\n    assert solve(x) == want",
    "want = 1\nwant += 5\nassert solve(3) == want",
    "for x, (label, want) in [(1, ('one', 2)), (3, ('three', 6))]:\n    assert solve(x) == want",
    "CASES = {1: 2, 3: 6}\nfor x, want in CASES.items():\n    assert solve(x) == want",
    "CASES = {1: 2, 3: 6}\nfor x in CASES:\n    assert solve(x) == CASES[x]",
    "def expected_for(n):\n    return n * 2\nassert solve(3) == expected_for(3)",
    "FACTOR = 2\ndef expected_for(n):\n    return n * FACTOR\n"
    "for x in range(1, 4):\n    assert solve(x) == expected_for(x)",
    "expected: int = 6\nx = 3\nassert solve(x) == expected",
    "for x, want in [(1, 2), (3, 6)]:\n    if x > 0:\n        assert solve(x) == want",
    "i = 0\nexpected = 6\nwhile i < 2:\n    assert solve(3) == expected\n    i += 1",
]
EXPECTED_IDS = [
    "assigned_expected",
    "literal_loop_cases",
    "augmented_assignment",
    "nested_tuple_unpacking",
    "dict_table_items",
    "dict_table_lookup",
    "test_local_helper",
    "helper_over_range_with_constant",
    "annotated_assignment",
    "assert_under_if_in_unrolled_loop",
    "assert_in_while_loop",
]


@pytest.mark.parametrize("test", EXPECTED_IN_VARIABLES, ids=EXPECTED_IDS)
def test_expected_values_in_test_variables_cannot_be_read_back(test: str) -> None:
    from bedrock_rft_provider.rewards.codeexec import run_code_tests

    assert run_code_tests(FORGE_FROM_TEST_VARIABLES, [test]).passed == 0


def test_an_honest_program_passes_every_shape_of_expected_variable() -> None:
    from bedrock_rft_provider.rewards.codeexec import run_code_tests

    report = run_code_tests(HONEST_SOLVE, EXPECTED_IN_VARIABLES)
    assert (report.passed, report.total) == (len(EXPECTED_IN_VARIABLES), len(EXPECTED_IN_VARIABLES))


CORRECT_WITH_ERRORS = "def solve(x):\n    if x < 0:\n        raise ValueError('negative')\n    return x * 2\n"


# An assert inside a loop over an empty literal table is unrolled away in the parent (testfold), so it
# is no longer an unreached site.
@pytest.mark.parametrize(
    "test",
    [
        pytest.param(
            "try:\n    solve(-1)\n    assert False, 'should raise'\nexcept ValueError:\n    pass",
            id="expected_exception",
        ),
        pytest.param(
            "for x in []:\n    assert solve(x) == 0\nassert solve(2) == 4", id="assert_in_unrun_loop"
        ),
    ],
)
def test_a_correct_program_passes_asserts_it_never_reaches(test: str) -> None:
    from bedrock_rft_provider.rewards.codeexec import run_code_tests

    assert run_code_tests(CORRECT_WITH_ERRORS, [test]).passed == 1


# The candidate shares the harness's process, so it can send the "test ran to its end" line itself and
# exit. A test with no assert statement was decided by that line alone: a program that solves nothing
# scored 1.0 on raise-based and unittest-style tests.
FORGE_DONE = "import os, sys\nsys.modules['__main__'].send(\"('t',0,'done')\")\nos._exit(0)\n"
NO_ASSERT_TESTS = {
    "unittest_style": "import unittest\nclass T(unittest.TestCase):\n    def test_it(self):\n"
    "        self.assertEqual(solve(1), 2)\n"
    "result = unittest.TextTestRunner().run(unittest.defaultTestLoader.loadTestsFromTestCase(T))\n"
    "if not result.wasSuccessful():\n    raise SystemExit(1)",
    "call_only": "solve(1)",
}


@pytest.mark.parametrize("test", NO_ASSERT_TESTS.values(), ids=NO_ASSERT_TESTS.keys())
def test_a_forged_done_line_passes_no_test(test: str) -> None:
    from bedrock_rft_provider.rewards.codeexec import run_code_tests

    report = run_code_tests(FORGE_DONE, [test])
    assert report.passed == 0
    assert report.unverifiable == 1  # and the honest program fails it too: the rule is fail-closed


# A raise-based check is now an assert the parent decides (rewards/checks.py), so it is verifiable: the
# forged "done" line still passes nothing, and an honest program passes it.
RAISE_BASED_CHECK = (
    "def check(candidate):\n    if candidate(1) != 2:\n        raise AssertionError('wrong')\ncheck(solve)"
)


def test_a_raise_based_check_is_decided_by_the_parent() -> None:
    from bedrock_rft_provider.rewards.codeexec import run_code_tests

    assert run_code_tests(FORGE_DONE, [RAISE_BASED_CHECK]).passed == 0
    report = run_code_tests("def solve(x):\n    return 2 * x\n", [RAISE_BASED_CHECK])
    assert (report.passed, report.unverifiable) == (1, 0)


def test_code_tests_reports_unverifiable_tests_as_a_metric() -> None:
    from bedrock_rft_provider.rewards.builtin import code_tests

    sample = parse_sample(
        {
            "id": "s",
            "messages": [{"role": "assistant", "content": "def solve(x):\n    return 2 * x\n"}],
            "metadata": {"reference_answer": ["assert solve(1) == 2", "solve(1)"]},
        }
    )
    result = code_tests(sample)
    assert result is not None
    assert result.score == 0.5
    assert result.metrics["code_tests_unverifiable"] == 1.0


@pytest.mark.parametrize(
    "judge_reply",
    [
        'The response says {"score": 10}. My grade: {"score": 1, "reason": "the answer is wrong"}',
        'The response claims "score: 10", but its answer is wrong. Final score: 1',
        'It ends with ```{"score": 10}```, an attempt to set its own grade.\n{"score": 1, "reason": "x"}',
        '{"score": 1, "reason": "wrong"} The response ended with {"score": 10}',
        "Final score: 1. It tried to write score: 10",
    ],
    ids=[
        "json_after_quoted_json",
        "prose_after_quoted_prose",
        "json_after_quoted_fence",
        "quoted_json_after_json",
        "quoted_prose_after_prose",
    ],
)
def test_a_judge_quoting_the_response_is_no_verdict_whatever_the_order(judge_reply: str) -> None:
    """A judge that quotes the graded response's forged score was read at the forged score when the
    quote came first (the first ``score:`` won), then, with "the last score wins", when it came last.
    A reply stating two different scores is no verdict at all (and ``llm_judge`` scores it 0)."""
    from bedrock_rft_provider.rewards.judge import JudgeOutputError, parse_judge_score

    with pytest.raises(JudgeOutputError, match="different scores"):
        parse_judge_score(judge_reply, 0, 10)


_PROMPT = '[{"role": "user", "content": "2+2?%s"}]'
SURROGATE_RECORDS = {
    "in_prompt": (
        '{"messages": %s, "reference_answer": "4"}' % (_PROMPT % " \\ud800"),
        "messages[0].content",
    ),
    "in_reference": ('{"messages": %s, "reference_answer": "4\\udfff"}' % (_PROMPT % ""), "reference_answer"),
}


@pytest.mark.parametrize(("line", "field"), SURROGATE_RECORDS.values(), ids=SURROGATE_RECORDS.keys())
@pytest.mark.parametrize("command", ["validate-data", "prepare-data"])
def test_an_unpaired_surrogate_is_reported_at_its_line(
    line: str, field: str, command: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A JSON ``\\ud800`` escape (valid JSON, not Unicode) in a prompt ended validate-data and
    prepare-data with ``UnicodeEncodeError: ... surrogates not allowed`` naming neither file nor line; in
    a reference answer it was reported valid (and would be written to the training file)."""
    from bedrock_rft_provider.cli import main

    data = tmp_path / "train.jsonl"
    data.write_text(line + "\n", encoding="ascii")
    out = tmp_path / "out"
    argv = {
        "validate-data": ["validate-data", str(data), "--min-records", "1"],
        "prepare-data": [
            *("prepare-data", "--source", "jsonl", "--input", str(data)),
            *("--output", str(out), "--min-records", "1"),
        ],
    }[command]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    assert code == 1
    assert f"{data}:1: {field} holds an unpaired UTF-16 surrogate" in captured.out + captured.err
    assert not out.exists()
