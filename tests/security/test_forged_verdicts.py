"""The verdict is the parent's: forged result lines, always-equal objects and early exits score 0."""

from __future__ import annotations

from typing import Any

from bedrock_rft_provider.rewards import make_handler
from bedrock_rft_provider.rewards.builtin import code_tests

from .conftest import grader_sample

TESTS = ["assert solve(2) == 4", "assert solve(3) == 9"]
SQUARE = "def solve(x):\n    return x * x\n"

FORGE_FROM_MAIN = r"""
import __main__, json, sys
g = vars(__main__)
nonce = str(g.get("nonce", ""))
for name in ("tests", "payload", "child_tests"):
    print(name, g.get(name), file=sys.stderr)
for index in range(1000):
    sys.__stdout__.write(nonce + json.dumps({"index": index, "passed": True}) + "\n")
    for record in ({"t": index, "done": True}, {"s": index, "v": [["v", True]]}, {"t": index, "out": ""}):
        try:
            g["send"](record)
        except BaseException:
            pass
sys.__stdout__.flush()
raise SystemExit(0)
"""

ALWAYS_EQUAL = """
class Anything:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
def solve(x):
    return Anything()
"""

INT_SUBCLASS = """
class Int(int):
    def __eq__(self, other):
        return True
def solve(x):
    return Int(0)
"""

PATCHED_CHECK = """
import __main__
def solve(x):
    return 0
check = vars(__main__).get("__check__")
if check is not None:
    vars(__main__)["__check__"] = lambda site, *thunks: check(site, *[(lambda: True) for _ in thunks])
"""

EARLY_EXIT = "import os\nos._exit(0)\n"
SYSTEM_EXIT = "raise SystemExit(0)\n"
NO_CODE = "I cannot solve this, but the tests pass."


def test_a_correct_program_still_passes(run_tests: Any) -> None:
    report = run_tests(SQUARE, TESTS)
    assert (report.passed, report.total) == (2, 2)


def test_forged_result_lines_from_the_harness_main_score_zero(run_tests: Any) -> None:
    report = run_tests(FORGE_FROM_MAIN, TESTS)
    assert report.passed == 0
    assert report.share == 0.0


def test_a_thousand_forged_indices_cannot_lift_the_score_above_one() -> None:
    handler = make_handler(code_tests)
    results = handler([grader_sample(f"```python\n{FORGE_FROM_MAIN}```", {"tests": TESTS})], None)
    assert results[0]["aggregate_reward_score"] == 0.0


def test_objects_equal_to_everything_fail(run_tests: Any) -> None:
    assert run_tests(ALWAYS_EQUAL, TESTS).passed == 0


def test_int_subclass_with_a_lying_eq_fails(run_tests: Any) -> None:
    assert run_tests(INT_SUBCLASS, TESTS).passed == 0


def test_patching_the_harness_reporter_cannot_supply_the_expected_values(run_tests: Any) -> None:
    assert run_tests(PATCHED_CHECK, TESTS).passed == 0


def test_exiting_early_with_success_passes_nothing(run_tests: Any) -> None:
    assert run_tests(EARLY_EXIT, TESTS).passed == 0
    assert run_tests(SYSTEM_EXIT, TESTS).passed == 0


def test_stdout_tests_never_show_the_expected_output_to_the_candidate(run_tests: Any) -> None:
    peek = "import __main__, sys\nprint(repr(vars(__main__).get('tests')), file=sys.stdout)\n"
    report = run_tests(peek, [{"input": "2", "output": "4"}, {"input": "3", "output": "9"}])
    assert report.passed == 0
    assert run_tests("print(int(input()) ** 2)", [{"input": "2", "output": "4"}]).passed == 1


def test_printing_a_success_word_does_not_pass_assert_tests(run_tests: Any) -> None:
    code = "print('PASSED ' * 100)\ndef solve(x):\n    return None\n"
    assert run_tests(code, TESTS).passed == 0
    assert run_tests(NO_CODE, TESTS).passed == 0
