"""Expected values computed by the test, must-raise checks and raise-based checks cannot be forged.

Witnesses for the oracle (rewards/oracle.py, rewards/taint.py) and the check normaliser
(rewards/checks.py). Every shape in these tables was paid for by at least one of the forged programs
under the previous runner (where the expected computation ran in the candidate's process, and a test
passed on reported asserts plus a "done" line); a correct program failed the must-raise shapes.
"""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.rewards.codeexec import run_code_tests
from bedrock_rft_provider.rewards.testplan import build_plan

# Patches the trusted functions a test computes its expected value with, in its own process, to answer
# a sentinel (``isclose``: True), and returns that sentinel: equal to any expected value computed there.
# (``str``/``list``/``bool`` stay: the harness's serializer needs them to send the sentinel back.)
PATCH_TRUSTED = """
import builtins, math, sys
SENTINEL = 'forged'
for name in ('sorted', 'round', 'sum', 'min', 'max'):
    setattr(builtins, name, lambda *a, **k: SENTINEL)
builtins.abs = lambda x: 0  # abs(solve(x) - expected) < tolerance
math.isclose = lambda *a, **k: True
for name in ('sqrt', 'comb', 'factorial', 'gcd'):
    setattr(math, name, lambda *a, **k: SENTINEL)
def solve(*args):
    return 0.0 if args and type(args[0]) is float else SENTINEL
"""

# Reads the expected value back from its caller: the test's globals, or the constants and names of the
# code that called it (where an expected expression evaluated in its process would be).
READ_CALLER = """
import sys
def solve(*args):
    frame = sys._getframe(1)
    while frame is not None:
        scope = frame.f_globals
        for name in ('expected', 'want', 'ref', 'reference'):
            if name in scope:
                found = scope[name]
                return found(*args) if callable(found) else found
        frame = frame.f_back
    return None
"""

# Evaluates the expected side itself: the reporter's frame holds every thunk of the assert, the last
# one computing the expected value wherever the test does not write it as a literal.
EVAL_SIBLING = """
import sys
busy = []
def solve(*args):
    if busy:
        return None
    frame = sys._getframe(1)
    while frame is not None:
        thunks = frame.f_locals.get('thunks')
        if thunks:
            busy.append(1)
            try:
                return thunks[-1]()
            finally:
                busy.pop()
        frame = frame.f_back
    return None
"""

HONEST = """
import math
def solve(x):
    if isinstance(x, list):
        return sorted(x)
    if x < 0:
        raise ValueError('negative input')
    return x * 0.1 if isinstance(x, float) else x * 2
"""

COMPUTED_EXPECTED = {
    "builtin_of_input": "xs = [3, 1, 2]\nassert solve(xs) == sorted(xs)",
    "stdlib_predicate": "import math\nassert math.isclose(solve(1.0), 0.1)",
    "from_import_predicate": "from math import isclose\nassert isclose(solve(2.0), 0.2, rel_tol=1e-9)",
    "arithmetic_tolerance": "assert abs(solve(3.0) - 0.3) < 1e-9",
    "comprehension": "assert solve([4, 0, 1]) == [i * i for i in range(3)]",
    "test_local_function": "def ref(n):\n    total = 0\n    for _ in range(n):\n        total += 2\n"
    "    return total\nassert solve(5) == ref(5)",
    "computed_binding": "expected = sorted([9, 7, 8])\nassert solve([8, 9, 7]) == expected",
    "stdlib_call": "import math\nassert solve(6) == math.comb(4, 2) * 2",
    "two_calls": "assert solve(4) == max([3, 8, 1])",
}
# Shapes the oracle now evaluates that were not forgeable before: only the honest program is checked.
ALSO_ORACLE = {
    "rounded": "assert round(solve(1.0), 3) == 0.1",
    "expected_in_try": "try:\n    xs = [5, 3]\n    assert solve(xs) == sorted(xs)\n"
    "except ValueError:\n    pass",
    "helper_in_check_function": "def check(candidate):\n    assert candidate(7) == abs(-14)\ncheck(solve)",
    "solve_then_read": "xs = [3, 1, 2]\nys = solve(xs)\nassert ys == sorted(xs) and len(ys) == 3",
}


@pytest.mark.parametrize("test", COMPUTED_EXPECTED.values(), ids=COMPUTED_EXPECTED.keys())
@pytest.mark.parametrize(
    "forger", [PATCH_TRUSTED, READ_CALLER, EVAL_SIBLING], ids=["patch_trusted", "read_caller", "eval_sibling"]
)
def test_a_computed_expected_value_cannot_be_forged(forger: str, test: str) -> None:
    assert run_code_tests(forger, [test]).passed == 0


def test_an_honest_program_passes_every_computed_expected_value(run_tests: Any) -> None:
    tests = [*COMPUTED_EXPECTED.values(), *ALSO_ORACLE.values()]
    report = run_tests(HONEST, tests)
    assert (report.passed, report.total) == (len(tests), len(tests))


@pytest.mark.parametrize(
    ("test", "absent"),
    [
        ("xs = [3, 1, 2]\nassert solve(xs) == sorted(xs)", "sorted"),
        ("import math\nassert math.isclose(solve(1), 0.1)", "0.1"),
        ("expected = sorted([9, 7, 8])\nassert solve(1) == expected", "expected"),
        ("def ref(n):\n    return sorted(range(n))[-1] * 7\nassert solve(3) == ref(3)", "ref"),
    ],
)
def test_the_candidates_child_never_holds_the_expected_computation(test: str, absent: str) -> None:
    plan = build_plan([test])
    assert absent not in plan.child_tests[0]["source"]
    assert absent in plan.oracle_tests[0] or absent == "0.1"


# Must-raise checks followed by asserts: a correct program raises, so the must-not-reach assert is never
# reported; a test passes on the handler's evidence that the expected exception was caught.
MUST_RAISE = {
    "assert_false_in_try": "try:\n    solve(-1)\n    assert False, 'should raise'\nexcept ValueError:\n"
    "    pass\nassert solve(2) == 4",
    "else_raise_assertion": "try:\n    solve(-1)\nexcept ValueError:\n    pass\nelse:\n"
    "    raise AssertionError('should raise')\nassert solve(2) == 4",
    "pytest_raises": "import pytest\nwith pytest.raises(ValueError):\n    solve(-1)\nassert solve(2) == 4",
    "pytest_raises_match_as": "import pytest\nwith pytest.raises(ValueError, match='negative') as info:\n"
    "    solve(-3)\nassert 'input' in str(info.value)\nassert solve(1) == 2",
    "unrolled_cases": "for bad in [-1, -2]:\n    try:\n        solve(bad)\n        assert False\n"
    "    except ValueError:\n        pass\nassert solve(3) == 6",
    "from_pytest_import_raises": "from pytest import raises\nwith raises(ValueError):\n    solve(-5)\n"
    "assert solve(0) == 0",
}
# Forged "test done" line, then exit: reaches neither the must-not-reach assert nor the handler.
EXIT_EARLY = (
    "import os, sys\ndef solve(x):\n    sys.modules['__main__'].send(\"('t',0,'done')\")\n    os._exit(0)\n"
)
NEVER_RAISES = "def solve(x):\n    return x * 2\n"
ALWAYS_RAISES = "def solve(x):\n    raise ValueError('negative input')\n"


@pytest.mark.parametrize("test", MUST_RAISE.values(), ids=MUST_RAISE.keys())
def test_a_must_raise_check_grades_correct_and_forged_programs(test: str) -> None:
    assert run_code_tests(HONEST, [test]).passed == 1
    assert run_code_tests(EXIT_EARLY, [test]).passed == 0
    assert run_code_tests(NEVER_RAISES, [test]).passed == 0
    assert run_code_tests(ALWAYS_RAISES, [test]).passed == 0


def test_a_must_raise_check_alone_needs_the_exception(run_tests: Any) -> None:
    test = "try:\n    solve(-1)\n    assert False\nexcept ValueError:\n    pass"
    assert run_tests(HONEST, [test]).passed == 1
    assert run_tests(EXIT_EARLY, [test]).passed == 0
    assert run_tests(NEVER_RAISES, [test]).passed == 0


# Partial forgery: a weak assert the forger passes honestly, then a raise-based check it skips by
# sending "done" and exiting. The raise-based check is now an assert, which must be reported.
WEAK_THEN_RAISE = {
    "top_level_if_raise": "assert solve(1) is not None\nif solve(2) != 4:\n    raise AssertionError('wrong')",
    "check_function": "def check(candidate):\n    assert candidate(1) is not None\n"
    "    if candidate(2) != 4:\n        raise Exception('wrong')\ncheck(solve)",
    "value_error_check": "assert isinstance(solve(1), int)\nif solve(3) != 6:\n    raise ValueError('bad')",
    "if_assert_false": "assert solve(1) is not None\nif solve(5) != 10:\n    assert False",
}
WEAK_THEN_EXIT = """
import os, sys
calls = []
def solve(x):
    calls.append(x)
    if len(calls) == 1:
        return 0
    sys.modules['__main__'].send("('t',0,'done')")
    os._exit(0)
"""


@pytest.mark.parametrize("test", WEAK_THEN_RAISE.values(), ids=WEAK_THEN_RAISE.keys())
def test_a_weak_assert_then_a_raise_based_check_cannot_be_half_forged(test: str) -> None:
    assert run_code_tests(WEAK_THEN_EXIT, [test]).passed == 0
    assert run_code_tests(HONEST, [test]).passed == 1
