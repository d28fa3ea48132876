"""Resolve a test's expected values in the trusted parent, so that they never enter the candidate's process.

Test code runs in the candidate's process (it calls the candidate), so any value the test holds there —
``expected = 6``, the rows of ``for x, want in [(1, 2), (3, 6)]`` — the candidate can read back through
its caller's frame (``sys._getframe(1).f_globals``) and return. :func:`fold_test` therefore interprets
the literal part of a test in the parent before :mod:`.testplan` splits its asserts:

- names bound to literal values (``x = 3``, ``a, (b, c) = 1, (2, 3)``, ``total += 5``, annotated
  assignments) are propagated and their assignments dropped from the child's code;
- ``for`` loops over literal tables (lists, tuples, strings, ``range(...)``, a literal dict and its
  ``.items()``/``.keys()``/``.values()``) are unrolled, each row bound as above;
- a literal dict subscripted by a literal (``CASES[3]``) is folded;
- a test-local helper ``def want(n): return <expression>`` called with literal arguments is evaluated
  in the parent (its expression folded like a literal) and its definition dropped.

So ``assert solve(x) == want`` reaches the child as ``__check__(site, lambda: solve(1))`` with ``2`` kept in
the parent. What is left as code: values a test *computes by calling* something other than such a
helper (``expected = sorted(xs)``: :mod:`.oracle` evaluates those outside the candidate's process), a
binding that a later unresolved statement reassigns or mutates (it is re-emitted there, so honest tests
keep their meaning), and mutable inputs passed to a call (the candidate may legitimately mutate its
argument).
"""

from __future__ import annotations

import ast
import copy
import operator
from collections.abc import Callable
from typing import Any

FOLD: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
NO_VALUE = object()
MAX_UNROLLED = 2048  # statements one test may grow to by unrolling; past it a loop runs in the child
_MAX_SIZE = 1 << 16  # longest str/bytes/list/tuple/range the parent builds by folding
_MAX_ITEMS = 1 << 14  # items of one folded value; a bigger one (shared rows) stays as written
_MAX_INLINED = 256  # items of a value written into the code at each use; a bigger one is bound once
_SCALARS = (int, float, complex, str, bytes, bool, type(None))


def constant(node: ast.expr) -> Any:
    """The value of a literal expression (``+ - * / // %``, bounded ``**`` folded), else :data:`NO_VALUE`."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if isinstance(node, ast.BinOp) and type(node.op) in FOLD:
        left, right = constant(node.left), constant(node.right)
        if left is NO_VALUE or right is NO_VALUE:
            return NO_VALUE
        try:
            value = FOLD[type(node.op)](left, right)
        except Exception:
            return NO_VALUE
        if isinstance(value, (str, bytes, list, tuple)) and len(value) > _MAX_SIZE:
            return NO_VALUE
        return value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        base, exponent = constant(node.left), constant(node.right)
        if (
            type(base) in (int, float)
            and type(exponent) is int
            and 0 <= exponent <= 256
            and abs(base) < 2**64
        ):
            return base**exponent
    return NO_VALUE


def _items(value: Any, budget: int) -> int:
    """``budget`` less the items in ``value`` counted recursively (negative: too big to inline as code)."""
    budget -= 1
    if isinstance(value, dict):
        value = [*value, *value.values()]
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            budget = _items(item, budget)
            if budget < 0:
                break
    return budget


def _immutable(value: Any) -> bool:
    if isinstance(value, (tuple, frozenset)):
        return all(_immutable(item) for item in value)
    return type(value) in _SCALARS


def _node(value: Any) -> ast.expr:
    """An expression that rebuilds ``value`` (a literal value, as :func:`constant` returns)."""
    if type(value) in _SCALARS:
        return ast.Constant(value)
    if type(value) is list:
        return ast.List([_node(v) for v in value], ast.Load())
    if type(value) is tuple:
        return ast.Tuple([_node(v) for v in value], ast.Load())
    if type(value) is dict:
        return ast.Dict([_node(k) for k in value], [_node(v) for v in value.values()])
    if type(value) in (set, frozenset) and value:
        literal = ast.Set([_node(v) for v in value])
        return literal if type(value) is set else ast.Call(ast.Name("frozenset", ast.Load()), [literal], [])
    return ast.Call(ast.Name(type(value).__name__, ast.Load()), [], [])


def _bound(node: ast.AST) -> set[str]:
    """Every name ``node`` binds or deletes anywhere inside it (nested scopes included: conservative)."""
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
            names.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
        elif isinstance(sub, ast.arg):
            names.add(sub.arg)
        elif isinstance(sub, ast.alias):
            names.add((sub.asname or sub.name).split(".")[0])
        elif isinstance(sub, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and sub.name:
            names.add(sub.name)
        elif isinstance(sub, ast.MatchMapping) and sub.rest:
            names.add(sub.rest)
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            names.update(sub.names)
    return names


def _operands(test: ast.expr) -> set[int]:
    """ids of the nodes an assert compares directly (they stay in the parent whatever their value)."""
    found: set[int] = set()
    stack = [test]
    while stack:
        node = stack.pop()
        found.add(id(node))
        if isinstance(node, ast.Compare):
            stack += [node.left, *node.comparators]
        elif isinstance(node, ast.BoolOp):
            stack += node.values
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            stack.append(node.operand)
    return found


class _Substitute(ast.NodeTransformer):
    """Replace names bound in ``env`` by their literal values; fold what becomes literal."""

    def __init__(self, folder: _Folder, env: dict[str, Any]) -> None:
        self.folder, self.env = folder, env

    def _scoped(self, node: ast.AST) -> ast.AST:
        inner = {k: v for k, v in self.env.items() if k not in _bound(node)}
        return _Substitute(self.folder, inner).generic_visit(node)

    visit_Lambda = visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped
    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _scoped

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if isinstance(node.ctx, ast.Load) and node.id in self.env:
            return ast.copy_location(_node(self.env[node.id]), node)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        self.generic_visit(node)
        table, key = constant(node.value), constant(node.slice)
        if isinstance(node.ctx, ast.Load) and type(table) is dict and key is not NO_VALUE:
            try:
                return ast.copy_location(_node(table[key]), node)
            except (KeyError, TypeError):
                pass  # left as written: the child raises the same error
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        value = self.folder.call(node, self.env)
        if value is NO_VALUE or _items(value, _MAX_INLINED) < 0:
            return node  # a big value (``range(5000)``) stays a call: inlined per use it would swell the code
        return ast.copy_location(_node(value), node)


class _Folder:
    def __init__(self) -> None:
        self.helpers: dict[str, ast.FunctionDef] = {}
        self.budget = MAX_UNROLLED

    def resolve(self, node: ast.expr, env: dict[str, Any]) -> Any:
        node = _Substitute(self, env).visit(_copy(node))
        # A call the substitution kept because its value is big (``range(1000)``) still folds here.
        value = self.call(node, env) if isinstance(node, ast.Call) else constant(node)
        return value if value is NO_VALUE or _items(value, _MAX_ITEMS) >= 0 else NO_VALUE

    def call(self, node: ast.Call, env: dict[str, Any]) -> Any:
        """The value of a foldable call whose arguments are already literal, else ``NO_VALUE``."""
        args = [constant(a) for a in node.args]
        if node.keywords or NO_VALUE in args or any(isinstance(a, ast.Starred) for a in node.args):
            return NO_VALUE
        func = node.func
        if isinstance(func, ast.Attribute) and not args and func.attr in ("items", "keys", "values"):
            table = constant(func.value)
            if type(table) is dict:
                return list(getattr(table, func.attr)())
        if (  # the builtin, unless the test rebinds it; a candidate's own ``range`` is not consulted
            isinstance(func, ast.Name)
            and func.id == "range"
            and "range" not in env
            and "range" not in self.helpers
            and 1 <= len(args) <= 3
            and all(type(a) is int for a in args)
            and 0 not in args[2:]
        ):
            span = range(*args)
            return list(span) if len(span) <= _MAX_SIZE else NO_VALUE
        helper = self.helpers.get(func.id) if isinstance(func, ast.Name) else None
        if helper is not None and len(args) == len(helper.args.args):
            body = helper.body[-1]
            assert isinstance(body, ast.Return) and body.value is not None
            params = dict(zip([a.arg for a in helper.args.args], args, strict=True))
            return self.resolve(body.value, {**env, **params})
        return NO_VALUE

    def bind(self, target: ast.expr, value: Any, env: dict[str, Any]) -> bool:
        """Bind ``target`` (a name or nested tuple/list of names) to ``value`` in ``env`` if it fits."""
        if isinstance(target, ast.Name):
            env[target.id] = value
            self.helpers.pop(target.id, None)
            return True
        if isinstance(target, (ast.Tuple, ast.List)) and not any(
            isinstance(e, ast.Starred) for e in target.elts
        ):
            if not isinstance(value, (list, tuple, str)) or len(value) != len(target.elts):
                return False
            return all(self.bind(t, v, env) for t, v in zip(target.elts, value, strict=True))
        return False

    def block(self, body: list[ast.stmt], env: dict[str, Any], out: list[ast.stmt]) -> None:
        for stmt in body:
            if not self._fold(stmt, env, out):
                self._emit(stmt, env, out)

    def _fold(self, stmt: ast.stmt, env: dict[str, Any], out: list[ast.stmt]) -> bool:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = self.resolve(stmt.value, env)
            trial = dict(env)
            if value is NO_VALUE or not all(self.bind(t, value, trial) for t in targets):
                return False
            env.clear()
            env.update(trial)
            return True
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and type(stmt.op) in FOLD:
            current, step = env.get(stmt.target.id, NO_VALUE), self.resolve(stmt.value, env)
            if current is NO_VALUE or step is NO_VALUE or not _immutable(current):
                return False
            value = constant(ast.BinOp(_node(current), stmt.op, _node(step)))
            if value is NO_VALUE:
                return False
            env[stmt.target.id] = value
            return True
        if isinstance(stmt, ast.FunctionDef) and _is_helper(stmt):
            env.pop(stmt.name, None)
            self.helpers[stmt.name] = stmt
            return True
        if isinstance(stmt, ast.For) and not any(
            isinstance(s, (ast.Break, ast.Continue)) for s in _walk(stmt.body)
        ):
            rows = self.resolve(stmt.iter, env)
            if type(rows) is dict:
                rows = list(rows)
            if type(rows) not in (list, tuple, str) or len(rows) * len(stmt.body) > self.budget:
                return False
            self.budget -= len(rows) * len(stmt.body)
            for row in rows:
                if not self.bind(stmt.target, row, env):
                    out.append(ast.Assign([stmt.target], _node(row)))  # the child raises as Python would
                    for name in _bound(stmt.target):
                        env.pop(name, None)
                self.block(stmt.body, env, out)
            self.block(stmt.orelse, env, out)
            return True
        return False

    def _emit(self, stmt: ast.stmt, env: dict[str, Any], out: list[ast.stmt]) -> None:
        """Emit a statement the parent cannot interpret, with the literal bindings it may need."""
        stmt = copy.deepcopy(stmt)  # unrolled loops emit their body once per row
        # Rebound or possibly mutated (a mutable value used anywhere but as a compared operand or a
        # looked-up table): the child must hold the real binding so that the statement keeps its meaning.
        big = {name for name, value in env.items() if _items(value, _MAX_INLINED) < 0}
        stale = _bound(stmt) | self._shared_mutables(stmt, env) | (big & _loaded(stmt))
        for name in sorted(stale):
            if name in env:
                out.append(ast.Assign([ast.Name(name, ast.Store())], _node(env.pop(name))))
            if name in self.helpers:
                out.append(self.helpers.pop(name))
        out.append(_Substitute(self, env).visit(stmt))

    def _shared_mutables(self, stmt: ast.stmt, env: dict[str, Any]) -> set[str]:
        safe = _operands(stmt.test) if isinstance(stmt, ast.Assert) else set()
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Load)
                and self.resolve(node.slice, env) is not NO_VALUE
            ):
                safe.add(id(node.value))
        return {
            n.id
            for n in ast.walk(stmt)
            if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)
            and n.id in env
            and not _immutable(env[n.id])
            and id(n) not in safe
        }


def _loaded(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _walk(body: list[ast.stmt]) -> list[ast.AST]:
    return [node for stmt in body for node in ast.walk(stmt)]


def _copy(node: ast.expr) -> ast.expr:
    copied: ast.expr = ast.parse(ast.unparse(node), mode="eval").body
    return copied


def _is_helper(stmt: ast.FunctionDef) -> bool:
    args = stmt.args
    body = stmt.body[1:] if len(stmt.body) == 2 and isinstance(stmt.body[0], ast.Expr) else stmt.body
    return (
        not stmt.decorator_list
        and not (args.posonlyargs or args.vararg or args.kwonlyargs or args.kwarg or args.defaults)
        and len(body) == 1
        and isinstance(body[0], ast.Return)
        and body[0].value is not None
    )


def fold_test(module: ast.Module) -> ast.Module:
    """``module`` with its literal bindings, literal loops and helper calls resolved (see module doc)."""
    folder = _Folder()
    out: list[ast.stmt] = []
    env: dict[str, Any] = {}
    folder.block(module.body, env, out)
    used = {n.id for stmt in out for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    # A helper still called with non-literal arguments must exist in the child.
    kept: list[ast.stmt] = [
        _Substitute(folder, env).visit(copy.deepcopy(folder.helpers[name]))
        for name in sorted(used & set(folder.helpers))
    ]
    return ast.Module([*kept, *out], [])
