"""The oracle split: where each part of a test runs, and that honest tests keep their meaning."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.rewards.codeexec import run_code_tests
from bedrock_rft_provider.rewards.testplan import build_plan, verdicts


@pytest.mark.parametrize(
    ("test", "tree"),
    [
        ("assert f(1) == sorted([2, 1])", ("cmp", ["Eq"], [("leaf", 0), ("oracle", 0)])),
        ("import math\nassert math.isclose(f(1), 0.5)", ("post", 0, [0])),
        ("assert abs(f(1) - 0.5) < 1e-9", ("cmp", ["Lt"], [("post", 0, [0]), ("const", 1e-9)])),
        ("assert len(f(1)) == 2", ("cmp", ["Eq"], [("leaf", 0), ("const", 2)])),
        ("assert list(map(f, [1])) == [2]", ("cmp", ["Eq"], [("leaf", 0), ("const", [2])])),
        (
            "xs = [2, 1]\nassert f(xs) is None and xs == [1, 2]",
            (
                "and",
                [
                    ("cmp", ["Is"], [("leaf", 0), ("const", None)]),
                    ("cmp", ["Eq"], [("leaf", 1), ("const", [1, 2])]),
                ],
            ),
        ),
        ("xs = [2, 1]\nf(xs)\nassert f(0) == sorted(xs)", ("cmp", ["Eq"], [("leaf", 0), ("leaf", 1)])),
        (  # the oracle's draw would differ: the child sends its x, the oracle rounds it
            "import random\nx = random.random()\nassert f(x) == round(x, 2)",
            ("cmp", ["Eq"], [("leaf", 0), ("post", 0, [1])]),
        ),
        (
            "def g(n):\n    m = n + 1\n    return m\nassert f(1) == g(1)",
            ("cmp", ["Eq"], [("leaf", 0), ("oracle", 0)]),
        ),
        ("def g(n):\n    return f(n) + 1\nassert f(1) == g(1)", ("cmp", ["Eq"], [("leaf", 0), ("leaf", 1)])),
    ],
    ids=[
        "builtin-expected",
        "stdlib-predicate",
        "tolerance",
        "conversion-stays",
        "function-reference-stays",
        "in-place-read-stays",
        "after-hand-over-stays",
        "nondeterministic-handed-over",
        "test-helper",
        "helper-calling-candidate",
    ],
)
def test_each_leaf_runs_where_the_candidate_cannot_reach_what_it_need_not(test: str, tree: object) -> None:
    site = build_plan([test]).sites[0]

    def named(node: object) -> object:
        if isinstance(node, tuple) and node and node[0] == "cmp":
            return ("cmp", [op.__name__ for op in node[1]], [named(p) for p in node[2]])
        if isinstance(node, tuple) and node and node[0] in ("and", "or"):
            return (node[0], [named(p) for p in node[1]])
        return node

    assert named(site.tree) == tree


def test_the_child_loses_oracle_only_bindings_but_keeps_mutations() -> None:
    test = (
        "import io, sys\nsys.stdin = io.StringIO('x')\nexpected = sorted([3, 1])\nxs = [1]\nxs[0] = 5\n"
        "assert f(xs) == expected"
    )
    plan = build_plan([test])
    child, oracle = plan.child_tests[0]["source"], plan.oracle_tests[0]
    assert "expected" not in child and "sorted" not in child
    assert "sys.stdin = io.StringIO('x')" in child and "xs[0] = 5" in child
    assert "expected = sorted([3, 1])" in oracle and "f(" not in oracle


def test_the_parent_judges_with_the_oracles_values() -> None:
    plan = build_plan(["assert f(1) == sorted([2, 1])"])
    child = b"('s', 0, [('v', [1, 2])])\n('t', 0, 'done')"
    assert verdicts(plan, child, b"('o', 0, ('v', [1, 2]))") == [True]
    assert verdicts(plan, child, b"('o', 0, ('v', [2, 1]))") == [False]
    assert verdicts(plan, child, b"('o', 0, ('e', 'TypeError'))") == [False]
    assert verdicts(plan, child) == [False]  # no oracle answer: fail closed


def test_post_checks_are_judged_per_report() -> None:
    plan = build_plan(["import math\nfor x in [1, 2]:\n    assert math.isclose(f(x), 0.5)"])
    child = b"('s', 0, [('v', 0.5)])\n('s', 1, [('v', 0.7)])\n('t', 0, 'done')"
    assert verdicts(plan, child, b"('p', 0, 0, ('v', True))\n('p', 1, 0, ('v', True))") == [True]
    assert verdicts(plan, child, b"('p', 0, 0, ('v', True))\n('p', 1, 0, ('v', False))") == [False]
    assert verdicts(plan, child, b"('p', 0, 0, ('v', True))") == [False]


@pytest.mark.parametrize(
    ("test", "converted"),
    [
        ("if f(1) != 2:\n    raise AssertionError('no')", True),
        ("if f(1) != 2:\n    raise ValueError('no')", True),
        ("def check(g):\n    if g(1) != 2:\n        raise Exception('no')\ncheck(f)", True),
        ("def check(g):\n    if g(1) < 0:\n        raise ValueError('negative')\ncheck(f)", False),
        ("if f(1) != 2:\n    raise SystemExit(1)", False),
    ],
    ids=["assertion", "top-level-error", "generic-in-function", "error-in-function", "exit"],
)
def test_raise_based_checks_become_asserts_where_they_are_checks(test: str, converted: bool) -> None:
    plan = build_plan([test])
    assert bool(plan.sites) is converted
    assert (0 in plan.unverifiable) is not converted


HONEST = """
import sys
def f(x):
    if isinstance(x, list):
        x.sort()
        return x
    if x < 0:
        raise ValueError('negative')
    return x * 2
def read():
    return sys.stdin.readline().strip()
"""


@pytest.mark.parametrize(
    "test",
    [
        "xs = [3, 1, 2]\nf(xs)\nassert xs == sorted([2, 3, 1])",
        "xs = [3, 1, 2]\nassert f(xs) is xs and xs == [1, 2, 3]",
        "xs = [3, 1, 2]\nys = f(xs)\nassert ys == sorted(xs)",
        "import io, sys\nsys.stdin = io.StringIO('hi\\n')\nassert read() == 'hi'",
        "import random\nfor _ in range(5):\n    xs = [random.randint(0, 9) for _ in range(4)]\n"
        "    assert f(xs) == sorted(xs)",
        "assert list(map(f, [1, 2])) == [2, 4]",
        "def check(candidate):\n    assert candidate(5) == max(10, 3)\ncheck(f)",
        "try:\n    r = f(3)\n    assert r == 6\nexcept Exception:\n    assert False, 'should not raise'",
        "try:\n    f(-1)\nexcept ValueError as e:\n    assert 'neg' in str(e)\nelse:\n    assert False",
        "n = len([1, 2, 3])\nfor i in range(n):\n    assert f(i) == 2 * i",
        "i = 0\nwhile i < 3:\n    assert f(i) == sum([i, i])\n    i += 1",
        "n = len('abc')\ntotal = 0\nfor i in range(n):\n    total += i\nassert f(n) == total * 2",
        "k = 0\nwhile True:\n    k += 1\n    if f(k) > 5:\n        break\nassert f(k) == sorted([k * 2])[0]",
    ],
    ids=[
        "in-place",
        "in-place-same-assert",
        "expected-after-hand-over",
        "stdin-patched",
        "random-inputs",
        "function-reference",
        "check-function-with-builtin",
        "must-not-raise",
        "must-raise-with-else",
        "computed-range",
        "while-loop",
        "value-left-by-a-replayed-loop",
        "loop-broken-by-the-candidate",
    ],
)
def test_honest_tests_keep_their_meaning(test: str) -> None:
    assert run_code_tests(HONEST, [test]).passed == 1
