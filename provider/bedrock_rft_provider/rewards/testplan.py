"""Split code tests so that the verdict is reached in the trusted parent, never in the candidate's process.

Every ``assert`` in a test is rewritten into a report call ``__check__(site, lambda: leaf, ...)``: the
child evaluates only the *leaves* (maximal subexpressions that are not comparisons, ``and``/``or``/``not``
or constants) and sends their values back as plain data (exact builtin types only; an object with a
custom ``__eq__`` is not serializable and fails). The comparisons, the boolean logic and every constant
— the expected values — stay in the parent, which evaluates them on the decoded plain values. The
candidate therefore never sees an expected literal and cannot make a comparison succeed. Values come back
as Python literals of exact builtin types, read with ``ast.literal_eval`` (which builds plain values
and calls nothing). Stdin/stdout
tests send only the input; the parent compares the captured output.

Before splitting, :func:`.testfold.fold_test` resolves expected values held in test variables (literal
bindings, loops over literal tables, test-local one-line helpers) in the parent. Limits (documented in
the README): an expected value still *computed* by a call in the test (``assert f(x) == g(y)``, ``assert
math.isclose(...)``, ``expected = sorted(xs)``) is evaluated in the child, where the candidate can read
it back through its caller's frame (see :mod:`.testfold` for the rest). A test passes when its every
assert site was reported at least once, every report passed, and the test ran to its end. A test with no
``assert`` statement at all (``if f(1) != 2: raise AssertionError``, ``unittest`` assertions) fails:
whether it ran to its end is reported from inside the candidate's process, which the candidate can forge
(``sys.modules["__main__"].send(...)`` then ``os._exit(0)``).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bedrock_rft_provider.rewards.testfold import NO_VALUE, constant, fold_test

_CMP: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b if b is None or type(b) is bool else type(a) is type(b) and a == b,
    ast.IsNot: lambda a, b: not _CMP[ast.Is](a, b),
}
MAX_DEPTH = 64


@dataclass
class Site:
    """One assert: its test, its logic tree (``("leaf", i)``, ``("const", v)``, ``("cmp", ops, parts)``,
    ``("and" | "or", parts)``, ``("not", part)``) and its number of leaves."""

    test: int
    tree: Any
    leaves: int


@dataclass
class TestPlan:
    """What the child runs (``child_tests``) and what only the parent knows (sites, expected outputs)."""

    child_tests: list[dict[str, Any]] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    expected_output: dict[int, str] = field(default_factory=dict)
    broken: set[int] = field(default_factory=set)
    unverifiable: set[int] = field(default_factory=set)


class _Rewriter(ast.NodeTransformer):
    def __init__(self, plan: TestPlan, test: int) -> None:
        self.plan, self.test = plan, test

    def visit_Assert(self, node: ast.Assert) -> ast.stmt:
        leaves: list[ast.expr] = []
        tree = self._split(node.test, leaves, 0)
        site = len(self.plan.sites)
        self.plan.sites.append(Site(self.test, tree, len(leaves)))
        thunks = [
            ast.Lambda(args=ast.arguments([], [], None, [], [], None, []), body=leaf) for leaf in leaves
        ]
        call = ast.Call(ast.Name("__check__", ast.Load()), [ast.Constant(site), *thunks], [])
        return ast.copy_location(ast.Expr(call), node)

    def _split(self, node: ast.expr, leaves: list[ast.expr], depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ValueError("assert expression nested too deeply")
        value = constant(node)
        if value is not NO_VALUE:
            return ("const", value)
        if isinstance(node, ast.Compare) and all(type(op) in _CMP for op in node.ops):
            parts = [self._split(p, leaves, depth + 1) for p in (node.left, *node.comparators)]
            return ("cmp", [type(op) for op in node.ops], parts)
        if isinstance(node, ast.BoolOp):
            kind = "and" if isinstance(node.op, ast.And) else "or"
            return (kind, [self._split(v, leaves, depth + 1) for v in node.values])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ("not", self._split(node.operand, leaves, depth + 1))
        leaves.append(node)
        return ("leaf", len(leaves) - 1)


def build_plan(tests: Sequence[str | dict[str, Any]]) -> TestPlan:
    """Rewrite ``tests`` (assert snippets or ``{"input", "output"}`` pairs) into a :class:`TestPlan`."""
    plan = TestPlan()
    for index, test in enumerate(tests):
        if isinstance(test, dict):
            expected = test.get("output", test.get("expected_output", ""))
            plan.expected_output[index] = str(expected)
            plan.child_tests.append({"kind": "io", "input": str(test.get("input", ""))})
            continue
        try:
            module = _Rewriter(plan, index).visit(fold_test(ast.parse(test)))
            source = ast.unparse(ast.fix_missing_locations(module))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            plan.broken.add(index)
            source = ""
        plan.child_tests.append({"kind": "code", "source": source})
        if index not in plan.broken and not any(site.test == index for site in plan.sites):
            # No assert: only "ran to its end" would decide, and that line the candidate can send itself
            # (it shares the harness's process). Such a test (``if f(1) != 2: raise ...``, unittest) fails.
            plan.unverifiable.add(index)
    return plan


class _LeafFailed(Exception):
    pass


def _evaluate(tree: Any, leaves: list[Any]) -> Any:
    kind = tree[0]
    if kind == "const":
        return tree[1]
    if kind == "leaf":
        entry = leaves[tree[1]]
        if type(entry) is not tuple or len(entry) != 2 or entry[0] != "v":
            raise _LeafFailed
        return entry[1]
    if kind == "not":
        return not _evaluate(tree[1], leaves)
    if kind in ("and", "or"):
        result: Any = kind == "and"
        for part in tree[1]:
            result = _evaluate(part, leaves)
            if bool(result) != (kind == "and"):
                return result
        return result
    ops, parts = tree[1], tree[2]
    left = _evaluate(parts[0], leaves)
    for op, part in zip(ops, parts[1:], strict=True):
        right = _evaluate(part, leaves)
        if not _CMP[op](left, right):
            return False
        left = right
    return True


def site_passes(site: Site, leaves: Any) -> bool:
    """Whether one reported evaluation of ``site`` passes, judged on plain values (never raises)."""
    if type(leaves) is not list or len(leaves) != site.leaves:
        return False
    try:
        return bool(_evaluate(site.tree, leaves)) is True
    except BaseException:
        return False


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


def _records(output: bytes) -> Iterator[tuple[Any, ...]]:
    for line in output.decode("utf-8", "replace").splitlines():
        try:  # literals only: ast.literal_eval never calls code, so no candidate object reaches us
            record = ast.literal_eval(line)
        except BaseException:  # SyntaxError, MemoryError, RecursionError on hostile lines
            continue
        if type(record) is tuple and len(record) >= 3 and type(record[1]) is int:
            yield record


def verdicts(plan: TestPlan, output: bytes) -> list[bool]:
    """Pass/fail per test from the child's report lines (unparseable or unknown lines are ignored).

    Lines: ``('s', site, [('v', value) | ('e', error_name), ...])`` per evaluated assert,
    ``('t', test, 'done')`` when a test ran to its end, ``('t', test, 'out', text)`` for stdout tests.
    """
    seen: dict[int, bool] = {}
    done: set[int] = set()
    outputs: dict[int, str] = {}
    for record in _records(output):
        kind, number = record[0], record[1]
        if kind == "s" and 0 <= number < len(plan.sites):
            ok = site_passes(plan.sites[number], record[2])
            seen[number] = seen.get(number, True) and ok
        elif kind == "t" and 0 <= number < len(plan.child_tests):
            if record[2] == "done":
                done.add(number)
            elif record[2] == "out" and len(record) == 4 and type(record[3]) is str and number not in outputs:
                outputs[number] = record[3]
    results = []
    for index, _ in enumerate(plan.child_tests):
        if index in plan.broken or index in plan.unverifiable:
            results.append(False)
        elif index in plan.expected_output:
            got = outputs.get(index)
            results.append(got is not None and _lines(got) == _lines(plan.expected_output[index]))
        else:
            sites = [n for n, s in enumerate(plan.sites) if s.test == index]
            results.append(index in done and all(seen.get(n) is True for n in sites))
    return results
