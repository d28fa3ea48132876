"""testplan: asserts are split so that only leaves run in the child and the parent judges plain values."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.rewards.codeexec import run_code_tests
from bedrock_rft_provider.rewards.testplan import build_plan, site_passes, verdicts


@pytest.mark.parametrize(
    ("test", "child_has", "child_lacks"),
    [
        ("assert f(2) == 4", "lambda: f(2)", "4"),
        ("assert f('a') == 'expected-text'", "lambda: f('a')", "expected-text"),
        ("assert f(2) == [1, (2, 3), {'k': -7}]", "lambda: f(2)", "-7"),
        ("assert f(1) == 2 ** 10", "lambda: f(1)", "1024"),
        ("assert 41 < f(3) <= 999", "lambda: f(3)", "999"),
        ("assert not f(5)", "lambda: f(5)", "not"),
        ("assert f(1) == 3 and g(2) in {'secret-set'}", "lambda: g(2)", "secret-set"),
        ("assert f(1) is None", "lambda: f(1)", "None"),
    ],
    ids=["int", "str", "nested", "folded-power", "chain", "not", "and-in", "is-none"],
)
def test_expected_values_stay_in_the_parent(test: str, child_has: str, child_lacks: str) -> None:
    source = build_plan([test]).child_tests[0]["source"]
    assert child_has in source
    assert child_lacks not in source


@pytest.mark.parametrize(
    ("test", "leaves", "passes"),
    [
        ("assert f(2) == 4", [("v", 4)], True),
        ("assert f(2) == 4", [("v", 4.0)], True),
        ("assert f(2) == 4", [("v", 5)], False),
        ("assert f(2) == 4", [("e", "TypeError")], False),
        ("assert f(2) == 4", [("v", 4), ("v", 4)], False),
        ("assert 1 < f(0) < 3", [("v", 2)], True),
        ("assert 1 < f(0) < 3", [("v", 3)], False),
        ("assert f(0) or g(0)", [("v", 1), ("e", "ZeroDivisionError")], True),
        ("assert f(0) and g(0)", [("v", 1), ("e", "ZeroDivisionError")], False),
        ("assert f(0) in [1, 2]", [("v", 2)], True),
        ("assert f(0) is True", [("v", 1)], False),
        ("assert f(0) != 'x'", [("v", "y")], True),
        ("assert f(0) == {1: (2, 3)}", [("v", {1: (2, 3)})], True),
        ("assert f(0) < 1", [("v", "text")], False),
    ],
)
def test_the_parent_judges_reported_values(test: str, leaves: list[Any], passes: bool) -> None:
    plan = build_plan([test])
    assert site_passes(plan.sites[0], leaves) is passes


def test_hostile_report_lines_are_ignored() -> None:
    plan = build_plan(["assert f(1) == 1"])
    lines = b"\n".join(
        [
            b"__import__('os').system('true')",
            b"(" * 5000 + b")" * 5000,
            b"('s', 99, [('v', 1)])",
            b"('t', 0, 'done')",
            b"('s', 0, [('v', 2)])",
            b"('s', 0, [('v', 1)])",
        ]
    )
    assert verdicts(plan, lines) == [False]  # one failing report fails the site, whatever else is sent


def test_a_test_must_run_to_its_end_and_reach_every_assert() -> None:
    plan = build_plan(["assert f(1) == 1\nassert f(2) == 2"])
    assert verdicts(plan, b"('s', 0, [('v', 1)])\n('t', 0, 'done')") == [False]
    assert verdicts(plan, b"('s', 0, [('v', 1)])\n('s', 1, [('v', 2)])") == [False]
    assert verdicts(plan, b"('s', 0, [('v', 1)])\n('s', 1, [('v', 2)])\n('t', 0, 'done')") == [True]


def test_a_test_that_does_not_parse_fails_without_running() -> None:
    plan = build_plan(["assert f(1) ==", "assert True"])
    assert plan.broken == {0}
    assert verdicts(plan, b"('t', 0, 'done')\n('s', 0, [])\n('t', 1, 'done')") == [False, True]


@pytest.mark.parametrize(
    ("code", "tests", "passed"),
    [
        ("def f(x):\n    return x * 2", ["for x in range(5):\n    assert f(x) == x + x"], 1),
        (
            "def f(x):\n    return x * 2",
            ["def check(g):\n    assert g(3) == 6\n    assert g(0) == 0\ncheck(f)"],
            1,
        ),
        ("def f(x):\n    return x * 3", ["def check(g):\n    assert g(3) == 6\ncheck(f)"], 0),
        (
            "def f():\n    return {'a': [1, 2.5, None], 'b': (True, b'x')}",
            ["assert f() == {'a': [1, 2.5, None], 'b': (True, b'x')}"],
            1,
        ),
        ("def f():\n    return float('inf')", ["assert f() > 10 ** 300"], 1),
        ("def f():\n    return 2 ** 50000", ["assert f() > 0"], 0),
        (
            "def f():\n    x = []\n    for _ in range(1000):\n        x = [x]\n    return x",
            ["assert f()"],
            0,
        ),
        ("print(input()[::-1])", [{"input": "abc", "expected_output": "cba"}], 1),
    ],
    ids=[
        "loop",
        "check-function",
        "check-function-wrong",
        "containers",
        "infinity",
        "huge-int",
        "deep-value",
        "io",
    ],
)
def test_real_tests_through_the_isolated_runner(code: str, tests: list[Any], passed: int) -> None:
    assert run_code_tests(code, tests, timeout_s=20).passed == passed


# testfold: expected values held in test variables are resolved in the parent; honest tests keep meaning.
@pytest.mark.parametrize(
    ("test", "child_lacks"),
    [
        ("expected = 'secret-6'\nassert f(3) == expected", "secret-6"),
        ("for x, want in [(1, 'w-one'), (3, 'w-three')]:\n    assert f(x) == want", "w-three"),
        ("want = 'sec'\nwant += 'ret-x'\nassert f(3) == want", "ret-x"),
        ("T = {1: 'd-one', 3: 'd-three'}\nfor k, v in T.items():\n    assert f(k) == v", "d-three"),
        ("def exp(n):\n    return n * 1000 + 7\nassert f(3) == exp(3)", "3007"),
        ("want = [9, 8, 7]\nassert f(1) == want", "9, 8"),
    ],
    ids=["assigned", "loop-table", "augmented", "dict-items", "helper", "mutable-operand"],
)
def test_expected_values_in_variables_stay_in_the_parent(test: str, child_lacks: str) -> None:
    source = build_plan([test]).child_tests[0]["source"]
    assert child_lacks not in source
    assert "lambda: f(" in source


HONEST = "def f(x):\n    return x * 2\ndef sort_in_place(items):\n    items.sort()\n"


@pytest.mark.parametrize(
    ("test", "passes"),
    [
        ("items = [3, 1, 2]\nsort_in_place(items)\nassert items == [1, 2, 3]", True),
        ("items = [3, 1, 2]\nassert sort_in_place(items) is None\nassert items == [1, 2, 3]", True),
        ("total = 0\nfor x in [1, 2]:\n    total += f(x)\nassert total == 6", True),
        ("total = 5\nfor x in range(f(1)):\n    total += x\nassert total == 6", True),
        ("xs = [1, 2]\nwant = [2, 4]\nassert [f(x) for x in xs] == want", True),
        ("def exp(n):\n    return n * 2\nassert f(f(1)) == exp(f(1))", True),
        ("want = 4\ndef check(n):\n    assert f(n) == want\ncheck(2)", True),
        ("for x in [1, 2]:\n    assert f(x) == x * 2\nassert x == 2", True),
        ("x = 3\nx = f(x)\nassert x == 6", True),
        ("T = {1: 2}\nassert f(1) == T[5]", False),
        ("for x, want in [(1, 2), (3, 7)]:\n    assert f(x) == want", False),
        ("a, b = 1\nassert f(a) == 2", False),
    ],
)
def test_folded_tests_keep_their_meaning(test: str, passes: bool) -> None:
    assert run_code_tests(HONEST, [test]).passed == int(passes)
