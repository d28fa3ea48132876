"""The oracle: a test's own computations, evaluated in a separate confined child without the candidate.

An assert's leaves (see :mod:`.testplan`) fall in three kinds, decided by the flow analysis of
:mod:`.taint`:

- **oracle** — the leaf uses no reached name (``sorted(xs)``, ``[i * i for i in range(5)]``,
  ``ref(3)`` for a test-local ``def ref``): it never enters the candidate's process; the oracle child
  replays the test's own statements that do not involve the candidate and evaluates it there, on the
  test's values (never on values the candidate could have changed), with the real builtins.
- **post** — the leaf applies trusted code to the candidate's value together with test data
  (``math.isclose(solve(x), 0.1)``, ``abs(solve(x) - 0.3)``, ``round(solve(x), 2)``): the candidate's
  child evaluates only the candidate parts (``solve(x)``) and sends them as plain data; the oracle
  applies the rest after the candidate's run. A candidate value that is not plain data fails it.
- **child** — anything else that uses the candidate (``solve(x)``, ``len(solve(x))``), evaluated in its
  process as before; a plain read of a name the same assert handed to the candidate (``xs`` in
  ``assert solve(xs) is None and xs == [1, 2]``) too, so in-place results are seen.

Both sides get a program built from the same test: the candidate's child loses the statements only the
oracle needs (``expected = sorted(xs)`` never reaches it), the oracle loses the statements that involve
the candidate (and runs blocks whose control flow depends on the candidate once, each body guarded).
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from bedrock_rft_provider.rewards.taint import AssertContext, Flow, free_names, mentions

PLACEHOLDER = "__v"
_PURE_READ = (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Slice, ast.Load, ast.Tuple, ast.List)


@dataclass
class LeafKinds:
    """One assert's leaves: ``kinds[i]`` is ``("child", k)``, ``("oracle", expr)`` or ``("post", expr,
    [k, ...])`` where ``k`` index the expressions the candidate's child evaluates (``child``)."""

    kinds: list[tuple[object, ...]] = field(default_factory=list)
    child: list[ast.expr] = field(default_factory=list)


def classify(
    leaves: list[ast.expr], context: AssertContext, trusted: frozenset[str], candidates: frozenset[str]
) -> LeafKinds:
    """Decide where each leaf of one assert is evaluated (see the module doc); ``candidates``: the
    candidate's own names (functions, classes), which are never handed over as values."""

    def usable(names: set[str]) -> bool:
        if context.strict:
            return names <= trusted
        return not names & (context.reached | context.variant) and "<walrus>" not in names

    result = LeafKinds()
    handed: set[str] = set()  # names this assert has already handed to the candidate
    for leaf in leaves:
        names = free_names(leaf)
        pure = all(isinstance(n, _PURE_READ) for n in ast.walk(leaf))
        if usable(names) and not (pure and names & handed):
            result.kinds.append(("oracle", leaf))
            continue
        handed |= names - trusted
        split = _post_split(leaf, usable, candidates)
        if split is None:
            result.kinds.append(("child", len(result.child)))
            result.child.append(leaf)
        else:
            expr, parts = split
            first = len(result.child)
            result.child.extend(parts)
            result.kinds.append(("post", expr, list(range(first, len(result.child)))))
    return result


def _splittable(node: ast.expr, usable: Callable[[set[str]], bool]) -> bool:
    if isinstance(node, ast.Call):
        plain = not any(isinstance(a, ast.Starred) for a in node.args) and all(k.arg for k in node.keywords)
        return plain and usable(free_names(node.func))
    return isinstance(node, (ast.BinOp, ast.UnaryOp))


def _operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.Call):
        return [*node.args, *(k.value for k in node.keywords)]
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    return [node.operand] if isinstance(node, ast.UnaryOp) else []


def _carries_data(node: ast.expr, usable: Callable[[set[str]], bool]) -> bool:
    """Whether trusted code applied to the candidate's value here also uses test data (a check)."""
    for operand in _operands(node):
        if usable(free_names(operand)):
            return True
        if _splittable(operand, usable) and _carries_data(operand, usable):
            return True
    return False


def _post_split(
    leaf: ast.expr, usable: Callable[[set[str]], bool], candidates: frozenset[str]
) -> tuple[ast.expr, list[ast.expr]] | None:
    """``(expression over __v[k], candidate parts)``, or None when nothing trusted surrounds the candidate."""
    if not (_splittable(leaf, usable) and _carries_data(leaf, usable)):
        return None
    parts: list[ast.expr] = []

    def walk(node: ast.expr) -> ast.expr:
        if usable(free_names(node)):
            return node
        if _splittable(node, usable) and _carries_data(node, usable):
            node = copy.copy(node)
            if isinstance(node, ast.Call):
                node.args = [walk(a) for a in node.args]
                node.keywords = [ast.keyword(k.arg, walk(k.value)) for k in node.keywords]
            elif isinstance(node, ast.BinOp):
                node.left, node.right = walk(node.left), walk(node.right)
            elif isinstance(node, ast.UnaryOp):
                node.operand = walk(node.operand)
            return node
        parts.append(node)
        return ast.Subscript(ast.Name(PLACEHOLDER, ast.Load()), ast.Constant(len(parts) - 1), ast.Load())

    expr = walk(leaf)
    # ``list(map(solve, xs))``: a reference to the candidate's function is no plain value to hand over.
    references = [p for p in parts if isinstance(p, (ast.Name, ast.Attribute)) and free_names(p) & candidates]
    return None if references else (expr, parts)


def oracle_calls(kinds: LeafKinds, first_id: int) -> tuple[list[ast.stmt], list[tuple[object, ...]]]:
    """The oracle's statements for one assert and its tree nodes (``("oracle", j)`` / ``("post", j, ks)``),
    numbering its oracle expressions from ``first_id``; ``("leaf", k)`` for child leaves."""
    calls: list[ast.stmt] = []
    nodes: list[tuple[object, ...]] = []
    for kind in kinds.kinds:
        if kind[0] == "child":
            nodes.append(("leaf", kind[1]))
            continue
        ident = first_id + len(calls)
        expr = kind[1]
        assert isinstance(expr, ast.expr)
        if kind[0] == "oracle":
            args = ast.arguments([], [], None, [], [], None, [])
            func, name = ast.Lambda(args, expr), "__oracle__"
            nodes.append(("oracle", ident))
        else:
            args = ast.arguments([], [ast.arg(PLACEHOLDER)], None, [], [], None, [])
            func, name = ast.Lambda(args, expr), "__post__"
            nodes.append(("post", ident, kind[2]))
        calls.append(ast.Expr(ast.Call(ast.Name(name, ast.Load()), [ast.Constant(ident), func], [])))
    return calls, nodes


def _guarded(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` run once whatever it raises (break/continue inside stay valid)."""
    handler = ast.ExceptHandler(ast.Name("BaseException", ast.Load()), None, [ast.Pass()])
    once = ast.For(
        ast.Name("__once__", ast.Store()),
        ast.Tuple([ast.Constant(0)], ast.Load()),
        [ast.Try(body, [handler], [], [])],
        [],
    )
    return [once] if body else []


class Programs:
    """Build the candidate's and the oracle's versions of one test from per-assert replacements."""

    def __init__(self, flow: Flow, checks: dict[int, ast.stmt], calls: dict[int, list[ast.stmt]]) -> None:
        self.flow, self.checks, self.calls = flow, checks, calls
        self.hoisted: list[ast.stmt] = []

    def oracle(self, module: ast.Module) -> ast.Module | None:
        """The oracle's program, or None when the test has nothing for it to evaluate."""
        if not any(self.calls.values()):
            return None
        body = self._oracle_body(module.body)
        hoisted = [s for stmts in self.hoisted for s in _guarded([stmts])]
        return ast.fix_missing_locations(ast.Module([*body, *hoisted], []))

    def _hoist(self, node: ast.AST) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Assert):
                self.hoisted.extend(self.calls.get(id(sub), []))

    def _oracle_body(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            tainted = id(stmt) in self.flow.tainted
            if isinstance(stmt, ast.Assert):
                out.extend(self.calls.get(id(stmt), []))
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self._hoist(stmt)
                if not tainted:  # its asserts are evaluated at the end; here it is only a helper
                    out.append(_Blank().visit(copy.deepcopy(stmt)))
            elif isinstance(stmt, (ast.If, ast.With, ast.Try, ast.For, ast.While)) and not tainted:
                node = copy.copy(stmt)
                for name in ("body", "orelse", "finalbody"):
                    if isinstance(getattr(node, name, None), list):
                        setattr(node, name, self._oracle_body(getattr(node, name)))
                if isinstance(node, ast.Try):
                    node.handlers = [self._handler(h) for h in node.handlers]
                out.append(node)
            elif isinstance(stmt, (ast.If, ast.With, ast.Try, ast.For, ast.While)):
                # A block whose control flow is the candidate's runs each body once, guarded (its oracle
                # leaves use only names it does not change: loop-invariant, not control-dependent).
                bodies = [stmt.body, getattr(stmt, "orelse", []), getattr(stmt, "finalbody", [])]
                bodies += [h.body for h in getattr(stmt, "handlers", [])]
                for body in bodies:
                    inner = self._oracle_body(body)
                    if not all(isinstance(s, ast.Pass) for s in inner):
                        out.extend(_guarded(inner))
            elif any(isinstance(getattr(stmt, f, None), list) for f in ("body", "cases")):
                self._hoist(stmt)
            elif not tainted:
                out.append(stmt)
        return out or [ast.Pass()]

    def _handler(self, handler: ast.ExceptHandler) -> ast.ExceptHandler:
        node = copy.copy(handler)
        node.body = self._oracle_body(handler.body)
        return node

    def child(self, module: ast.Module) -> ast.Module:
        """The candidate's program: asserts replaced by their checks, oracle-only bindings dropped."""
        dropped = self._droppable(module)
        return ast.Module(self._child_body(module.body, dropped), [])

    def _child_body(self, stmts: list[ast.stmt], dropped: set[int]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            if id(stmt) in dropped:
                continue
            if isinstance(stmt, ast.Assert):
                out.append(self.checks[id(stmt)])
                continue
            node = copy.copy(stmt)
            for name in ("body", "orelse", "finalbody"):
                if isinstance(getattr(node, name, None), list) and getattr(node, name):
                    setattr(node, name, self._child_body(getattr(node, name), dropped))
            if isinstance(node, ast.Try):
                node.handlers = [copy.copy(h) for h in node.handlers]
                for h in node.handlers:
                    h.body = self._child_body(h.body, dropped)
            if isinstance(node, ast.Match):
                node.cases = [copy.copy(c) for c in node.cases]
                for c in node.cases:
                    c.body = self._child_body(c.body, dropped)
            out.append(node)
        return out or [ast.Pass()]

    def _droppable(self, module: ast.Module) -> set[int]:
        """ids of top-scope statements the candidate's child does not need (oracle-only bindings)."""
        needed: set[str] = set()
        binders: list[ast.stmt] = []
        exprs: list[ast.stmt] = []
        for stmt in _statements(module.body):
            if isinstance(stmt, ast.Assert):
                needed |= mentions(self.checks[id(stmt)])
            elif id(stmt) in self.flow.tainted or isinstance(stmt, (ast.Import, ast.ImportFrom)):
                needed |= mentions(stmt)
            elif _binds_names_only(stmt):
                binders.append(stmt)
            elif isinstance(stmt, ast.Expr):
                exprs.append(stmt)
            else:
                needed |= mentions(_header(stmt))
        kept: set[int] = set()
        changed = True
        while changed:
            changed = False
            for stmt in binders:
                if id(stmt) not in kept and _binds(stmt) & needed:
                    kept.add(id(stmt))
                    needed |= mentions(stmt)
                    changed = True
        lost = {n for s in binders if id(s) not in kept for n in _binds(s)} - needed
        dropped = {id(s) for s in binders if id(s) not in kept}
        return dropped | {id(s) for s in exprs if mentions(s) & lost}


def _binds_names_only(stmt: ast.stmt) -> bool:
    """A statement that only binds plain names (``sys.stdin = ...`` or ``xs[0] = 1`` mutate: kept)."""
    if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
        return True
    if isinstance(stmt, (ast.Assign, ast.Delete)):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        targets = [stmt.target]
    else:
        return False
    kinds = (ast.Attribute, ast.Subscript, ast.Starred)
    return not any(isinstance(n, kinds) for t in targets for n in ast.walk(t))


def _binds(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
        return {stmt.name}
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}


def _header(stmt: ast.stmt) -> ast.AST:
    """The parts of a compound statement evaluated outside its bodies."""
    node = copy.copy(stmt)
    for name in ("body", "orelse", "finalbody", "cases"):
        if isinstance(getattr(node, name, None), list):
            setattr(node, name, [])
    if isinstance(node, ast.Try):
        node.handlers = [ast.ExceptHandler(h.type, h.name, []) for h in stmt.handlers]  # type: ignore[attr-defined]
    return node


def _statements(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement in ``stmts`` and the bodies of its compound statements (not inside functions)."""
    found: list[ast.stmt] = []
    for stmt in stmts:
        found.append(stmt)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name in ("body", "orelse", "finalbody"):
            found += _statements(getattr(stmt, name, None) or [])
        for handler in getattr(stmt, "handlers", []):
            found += _statements(handler.body)
        for case in getattr(stmt, "cases", []):
            found += _statements(case.body)
    return found


class _Blank(ast.NodeTransformer):
    """A helper's asserts become ``pass`` in the oracle (they are evaluated, hoisted, at the end)."""

    def visit_Assert(self, node: ast.Assert) -> ast.stmt:
        return ast.copy_location(ast.Pass(), node)
