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
bindings, loops over literal tables, test-local one-line helpers) in the parent, and
:func:`.checks.normalise_checks` turns raise-based and must-raise checks into asserts. Then each leaf
is placed (:mod:`.oracle`): in the candidate's child, in the oracle child (expected values the test
computes: ``sorted(xs)``), or split between them (``math.isclose(f(x), 0.1)``); the oracle's values
reach the parent only. A test passes when every required site (all but the must-not-reach asserts) was
reported at least once, every report passed, no must-not-reach site was reported, and the test ran to
its end. A test with no required site (``unittest`` assertions, a bare call) fails: whether it ran to
its end is reported from inside the candidate's process, which the candidate can forge
(``sys.modules["__main__"].send(...)`` then ``os._exit(0)``).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bedrock_rft_provider.rewards.checks import MUST_NOT_REACH, normalise_checks
from bedrock_rft_provider.rewards.oracle import Programs, classify, oracle_calls
from bedrock_rft_provider.rewards.taint import BUILTIN_NAMES, Flow
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
    """One assert: its test, its logic tree (``("leaf", i)``: the child's i-th value; ``("oracle", j)``:
    oracle expression j; ``("post", j, [i, ...])``: oracle expression j applied to child values;
    ``("const", v)``, ``("cmp", ops, parts)``, ``("and" | "or", parts)``, ``("not", part)``), its number
    of child leaves, and whether it must be reported (a must-not-reach assert need not be, see
    :mod:`.checks`)."""

    test: int
    tree: Any
    leaves: int
    required: bool = True


@dataclass
class TestPlan:
    """What the child runs (``child_tests``), what the oracle runs (``oracle_tests``: source or ``""``)
    and what only the parent knows (sites, expected outputs)."""

    child_tests: list[dict[str, Any]] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    expected_output: dict[int, str] = field(default_factory=dict)
    broken: set[int] = field(default_factory=set)
    unverifiable: set[int] = field(default_factory=set)
    oracle_tests: list[str] = field(default_factory=list)
    oracle_count: int = 0


class _Splitter(ast.NodeVisitor):
    """Numbers the asserts of one test, splits each into its tree and leaves, and decides where each
    leaf is evaluated (:func:`.oracle.classify`)."""

    def __init__(self, plan: TestPlan, test: int, flow: Flow, first_oracle: int) -> None:
        self.plan, self.test, self.flow = plan, test, flow
        self.next_oracle = first_oracle
        self.checks: dict[int, ast.stmt] = {}
        self.calls: dict[int, list[ast.stmt]] = {}

    def visit_Assert(self, node: ast.Assert) -> None:
        leaves: list[ast.expr] = []
        tree = _split(node.test, leaves, 0)
        context = self.flow.contexts[id(node)]
        kinds = classify(leaves, context, frozenset(self.flow.trusted), self.flow.candidates)
        calls, nodes = oracle_calls(kinds, self.next_oracle)
        self.next_oracle += len(calls)
        required = not getattr(node, MUST_NOT_REACH, False)
        check = _add_site(self.plan, self.test, _replace(tree, nodes), kinds.child, required)
        self.checks[id(node)] = ast.copy_location(check, node)
        self.calls[id(node)] = calls


def _add_site(plan: TestPlan, test: int, tree: Any, child_leaves: list[ast.expr], required: bool) -> ast.stmt:
    """Record a site; return the child's report call ``__check__(site, lambda: leaf, ...)``."""
    site = len(plan.sites)
    plan.sites.append(Site(test, tree, len(child_leaves), required))
    thunks = [ast.Lambda(ast.arguments([], [], None, [], [], None, []), leaf) for leaf in child_leaves]
    return ast.Expr(ast.Call(ast.Name("__check__", ast.Load()), [ast.Constant(site), *thunks], []))


def _split(node: ast.expr, leaves: list[ast.expr], depth: int) -> Any:
    """The logic tree of an assert's test; its leaves are appended to ``leaves``."""
    if depth > MAX_DEPTH:
        raise ValueError("assert expression nested too deeply")
    value = constant(node)
    if value is not NO_VALUE:
        return ("const", value)
    if isinstance(node, ast.Compare) and all(type(op) in _CMP for op in node.ops):
        parts = [_split(p, leaves, depth + 1) for p in (node.left, *node.comparators)]
        return ("cmp", [type(op) for op in node.ops], parts)
    if isinstance(node, ast.BoolOp):
        kind = "and" if isinstance(node.op, ast.And) else "or"
        return (kind, [_split(v, leaves, depth + 1) for v in node.values])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ("not", _split(node.operand, leaves, depth + 1))
    leaves.append(node)
    return ("leaf", len(leaves) - 1)


def _direct(plan: TestPlan, test: int, module: ast.Module) -> str | None:
    """The child's source for the commonest shape — only asserts on calls of the candidate's functions
    with literal arguments (``assert f(1, 'a') == 2``) — which has nothing for the oracle and needs no
    flow analysis; None for any other shape."""
    split = []
    for stmt in module.body:
        if not isinstance(stmt, ast.Assert):
            return None
        leaves: list[ast.expr] = []
        split.append((_split(stmt.test, leaves, 0), leaves))
        for leaf in leaves:  # in a module of asserts alone, a non-builtin name is the candidate's
            if not (
                isinstance(leaf, ast.Call)
                and isinstance(leaf.func, ast.Name)
                and leaf.func.id not in BUILTIN_NAMES
                and not leaf.keywords
                and all(constant(a) is not NO_VALUE for a in leaf.args)
            ):
                return None
    checks = [_add_site(plan, test, tree, leaves, True) for tree, leaves in split]
    return ast.unparse(ast.Module(checks, []))


def _replace(tree: Any, nodes: list[tuple[object, ...]]) -> Any:
    """``tree`` with each ``("leaf", i)`` (i-th leaf of the assert) replaced by where it is evaluated."""
    kind = tree[0]
    if kind == "leaf":
        return nodes[tree[1]]
    if kind == "not":
        return ("not", _replace(tree[1], nodes))
    if kind in ("and", "or"):
        return (kind, [_replace(p, nodes) for p in tree[1]])
    if kind == "cmp":
        return ("cmp", tree[1], [_replace(p, nodes) for p in tree[2]])
    return tree


def _split_test(plan: TestPlan, index: int, test: str) -> tuple[str, str]:
    """``(child source, oracle source or "")`` of one assert test; adds its sites to ``plan``."""
    module = normalise_checks(fold_test(ast.parse(test)))
    direct = _direct(plan, index, module)
    if direct is not None:
        return direct, ""
    ast.fix_missing_locations(module)  # ast.unparse reads the line numbers of assignments and loops
    flow = Flow(module)
    splitter = _Splitter(plan, index, flow, plan.oracle_count)
    splitter.visit(module)
    plan.oracle_count = splitter.next_oracle
    programs = Programs(flow, splitter.checks, splitter.calls)
    oracle = programs.oracle(module)
    return ast.unparse(programs.child(module)), ast.unparse(oracle) if oracle is not None else ""


def build_plan(tests: Sequence[str | dict[str, Any]]) -> TestPlan:
    """Rewrite ``tests`` (assert snippets or ``{"input", "output"}`` pairs) into a :class:`TestPlan`."""
    plan = TestPlan()
    for index, test in enumerate(tests):
        plan.oracle_tests.append("")
        if isinstance(test, dict):
            expected = test.get("output", test.get("expected_output", ""))
            plan.expected_output[index] = str(expected)
            plan.child_tests.append({"kind": "io", "input": str(test.get("input", ""))})
            continue
        before, count = len(plan.sites), plan.oracle_count
        try:
            source, plan.oracle_tests[index] = _split_test(plan, index, test)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            del plan.sites[before:]
            plan.oracle_count = count
            plan.broken.add(index)
            source = ""
        plan.child_tests.append({"kind": "code", "source": source})
        if index not in plan.broken and not any(s.test == index and s.required for s in plan.sites):
            # No assert: only "ran to its end" would decide, and that line the candidate can send itself
            # (it shares the harness's process). Such a test (``unittest``, a bare call) fails.
            plan.unverifiable.add(index)
    return plan


class _LeafFailed(Exception):
    pass


Resolve = Callable[[tuple[Any, ...]], Any]


def _evaluate(tree: Any, leaves: list[Any], resolve: Resolve) -> Any:
    kind = tree[0]
    if kind == "const":
        return tree[1]
    if kind in ("leaf", "oracle", "post"):
        entry = leaves[tree[1]] if kind == "leaf" else resolve(tree)
        if type(entry) is not tuple or len(entry) != 2 or entry[0] != "v":
            raise _LeafFailed
        return entry[1]
    if kind == "not":
        return not _evaluate(tree[1], leaves, resolve)
    if kind in ("and", "or"):
        result: Any = kind == "and"
        for part in tree[1]:
            result = _evaluate(part, leaves, resolve)
            if bool(result) != (kind == "and"):
                return result
        return result
    ops, parts = tree[1], tree[2]
    left = _evaluate(parts[0], leaves, resolve)
    for op, part in zip(ops, parts[1:], strict=True):
        right = _evaluate(part, leaves, resolve)
        if not _CMP[op](left, right):
            return False
        left = right
    return True


def site_passes(site: Site, leaves: Any, resolve: Resolve = lambda node: None) -> bool:
    """Whether one reported evaluation of ``site`` passes, judged on plain values (never raises);
    ``resolve`` gives the oracle's entry for an ``oracle``/``post`` node of this evaluation."""
    if type(leaves) is not list or len(leaves) != site.leaves:
        return False
    try:
        return bool(_evaluate(site.tree, leaves, resolve)) is True
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


MAX_POST_JOBS = 4096  # candidate values sent to the oracle per sample; reports past it fail


@dataclass
class Reports:
    """The child's report lines, read: each site's reported leaf lists, tests that ran to their end,
    captured outputs of stdin/stdout tests."""

    sites: dict[int, list[Any]] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)
    outputs: dict[int, str] = field(default_factory=dict)


def read_reports(plan: TestPlan, output: bytes) -> Reports:
    """Parse the child's lines (unparseable or unknown lines are ignored).

    Lines: ``('s', site, [('v', value) | ('e', error_name), ...])`` per evaluated assert,
    ``('t', test, 'done')`` when a test ran to its end, ``('t', test, 'out', text)`` for stdout tests.
    """
    reports = Reports()
    for record in _records(output):
        kind, number = record[0], record[1]
        if kind == "s" and 0 <= number < len(plan.sites):
            reports.sites.setdefault(number, []).append(record[2])
        elif kind == "t" and 0 <= number < len(plan.child_tests):
            if record[2] == "done":
                reports.done.add(number)
            elif record[2] == "out" and len(record) == 4 and type(record[3]) is str:
                reports.outputs.setdefault(number, record[3])
    return reports


def _oracle_nodes(tree: Any, kinds: tuple[str, ...] = ("oracle", "post")) -> Iterator[tuple[Any, ...]]:
    """The nodes of ``tree`` of the given kinds, in evaluation order."""
    kind = tree[0]
    if kind in kinds:
        yield tree
    elif kind == "not":
        yield from _oracle_nodes(tree[1], kinds)
    elif kind in ("and", "or", "cmp"):
        for part in tree[-1]:
            yield from _oracle_nodes(part, kinds)


def oracle_jobs(plan: TestPlan, reports: Reports) -> dict[int, list[list[Any] | None]]:
    """For each ``post`` expression, the candidate values (plain data) it is applied to, in report order
    (``None``: that report's values were not all plain, or past :data:`MAX_POST_JOBS`)."""
    jobs: dict[int, list[list[Any] | None]] = {}
    count = 0
    for number, reported in sorted(reports.sites.items()):
        for leaves in reported:
            for node in _oracle_nodes(plan.sites[number].tree, ("post",)):
                values: list[Any] = [
                    leaves[i] if type(leaves) is list and i < len(leaves) else None for i in node[2]
                ]
                if count < MAX_POST_JOBS and all(
                    type(v) is tuple and len(v) == 2 and v[0] == "v" for v in values
                ):
                    jobs.setdefault(node[1], []).append([v[1] for v in values])
                    count += 1
                else:
                    jobs.setdefault(node[1], []).append(None)  # keeps the numbering; the oracle skips it
    return jobs


def needs_oracle(plan: TestPlan, reports: Reports) -> bool:
    """Whether a reported site (of a test that ran to its end) needs an oracle value."""
    return any(
        plan.sites[n].test in reports.done and any(True for _ in _oracle_nodes(plan.sites[n].tree))
        for n in reports.sites
    )


def _oracle_entries(output: bytes) -> dict[tuple[int, int], Any]:
    """``{(expression, job): entry}`` from the oracle's lines ``('o', j, entry)``, ``('p', j, n, entry)``."""
    entries: dict[tuple[int, int], Any] = {}
    for record in _records(output):
        if record[0] == "o" and len(record) == 3:
            entries.setdefault((record[1], -1), record[2])
        elif record[0] == "p" and len(record) == 4 and type(record[2]) is int:
            entries.setdefault((record[1], record[2]), record[3])
    return entries


def verdicts(plan: TestPlan, output: bytes, oracle_output: bytes = b"") -> list[bool]:
    """Pass/fail per test from the child's report lines and the oracle's (see :func:`read_reports`)."""
    return judge(plan, read_reports(plan, output), oracle_output)


def judge(plan: TestPlan, reports: Reports, oracle_output: bytes = b"") -> list[bool]:
    """Pass/fail per test: every required site reported, every report passing, the test ran to its end."""
    entries = _oracle_entries(oracle_output)
    job_counter: dict[int, int] = {}
    seen: dict[int, bool] = {}
    for number, reported in sorted(reports.sites.items()):
        site = plan.sites[number]
        for leaves in reported:
            jobs = {node[1]: job_counter.get(node[1], 0) for node in _oracle_nodes(site.tree, ("post",))}
            for ident, job in jobs.items():
                job_counter[ident] = job + 1

            def resolve(node: tuple[Any, ...], jobs: dict[int, int] = jobs) -> Any:
                return entries.get((node[1], jobs[node[1]] if node[0] == "post" else -1))

            seen[number] = seen.get(number, True) and site_passes(site, leaves, resolve)
    results = []
    for index, _ in enumerate(plan.child_tests):
        if index in plan.broken or index in plan.unverifiable:
            results.append(False)
        elif index in plan.expected_output:
            got = reports.outputs.get(index)
            results.append(got is not None and _lines(got) == _lines(plan.expected_output[index]))
        else:
            sites = [n for n, s in enumerate(plan.sites) if s.test == index]
            results.append(
                index in reports.done and all(seen.get(n, not plan.sites[n].required) is True for n in sites)
            )
    return results
