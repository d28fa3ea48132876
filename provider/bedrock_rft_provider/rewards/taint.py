"""Which parts of a test depend on the candidate: the flow analysis behind the oracle (:mod:`.oracle`).

A name is *reached* when its value may depend on the candidate or the candidate may have changed it:
the test's free names that are not builtins (the candidate's functions), names bound or mutated by a
statement that mentions a reached name (``r = solve(x)``, ``solve(xs)`` reaches ``xs``), names bound
under control flow that depends on the candidate (an ``if`` on its result, a ``try`` around its calls,
an ``except ... as e``), and names an ``assert`` hands to it (for the statements after that assert).
Names imported from a module whose values vary between runs (``random``, ``time``, ...) are reached
too: the oracle's draw would not be the candidate run's. Builtins, and names the test binds only by
``import``, ``def`` or ``class`` whose bodies reach nothing, are *trusted*: the oracle rebuilds them
itself, so the candidate changing them in its own process does not matter. The walk is in statement
order; a loop body is walked twice (its second iteration sees what the first reached) and names it
binds or changes are *loop-variant*. Inside a function body, or a
statement kind the walk does not model (``match``, ``async``), only trusted names are usable.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass

BUILTIN_NAMES = frozenset(dir(builtins))
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@dataclass(frozen=True)
class AssertContext:
    """What is known at one ``assert``: reached names, loop-variant names, and whether only trusted
    names may be used (``strict``: inside a function body or an unmodelled statement)."""

    reached: frozenset[str]
    variant: frozenset[str]
    strict: bool


def mentions(node: ast.AST) -> set[str]:
    """Every name ``node`` loads, stores or binds (nested scopes included: conservative)."""
    return _names(node, loads=True)


def free_names(expr: ast.expr) -> set[str]:
    """Names ``expr`` reads from its surrounding scope (comprehension targets and lambda args excluded)."""
    local: set[str] = set()
    for sub in ast.walk(expr):
        if isinstance(sub, ast.comprehension):
            local |= {n.id for n in ast.walk(sub.target) if isinstance(n, ast.Name)}
        elif isinstance(sub, ast.Lambda):
            local |= {a.arg for a in ast.walk(sub.args) if isinstance(a, ast.arg)}
        elif isinstance(sub, ast.NamedExpr):
            local.add("<walrus>")  # binds in the test's scope: never the oracle's
    loaded = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return (loaded - local) | (local & {"<walrus>"})


# Modules whose values differ between two runs: a value drawn from them in the oracle would not be the
# one the candidate's run drew, so names bound from them count as the candidate's (evaluated in its run).
NONDETERMINISTIC = frozenset({"random", "time", "datetime", "uuid", "secrets", "os", "numpy", "tempfile"})


def _module_bindings(module: ast.Module, table: symtable.SymbolTable) -> tuple[set[str], set[str], set[str]]:
    """``(trusted_kind, other, varying)``: module-scope names bound by import/def/class, by anything
    else, and by importing from a :data:`NONDETERMINISTIC` module."""
    trusted: set[str] = set()
    varying: set[str] = set()
    for stmt in ast.walk(module):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names = {(a.asname or a.name).split(".")[0] for a in stmt.names}
            sources = (
                [stmt.module or ""] if isinstance(stmt, ast.ImportFrom) else [a.name for a in stmt.names]
            )
            if any(source.split(".")[0] in NONDETERMINISTIC for source in sources):
                varying |= names
            trusted |= names
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            trusted.add(stmt.name)
    other = {
        s.get_name()
        for s in table.get_symbols()
        if s.is_assigned() and not s.is_imported() and not s.is_namespace()
    }
    return trusted, other, varying


def candidate_names(table: symtable.SymbolTable) -> set[str]:
    """The test's free names that are not builtins: the candidate's (or unknown, so treated as its);
    ``table``: the test module's ``symtable``."""
    bound = {
        s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()
    }
    used: set[str] = set()
    stack = [table]
    while stack:
        scope = stack.pop()
        for symbol in scope.get_symbols():
            if symbol.is_referenced() and (scope.get_type() == "module" or symbol.is_global()):
                used.add(symbol.get_name())
        stack.extend(scope.get_children())
    return used - bound - BUILTIN_NAMES


class Flow:
    """Walks a test in order and records an :class:`AssertContext` per assert and the tainted statements."""

    def __init__(self, module: ast.Module) -> None:
        table = symtable.symtable(ast.unparse(module), "<test>", "exec")
        trusted_kind, other, varying = _module_bindings(module, table)
        self.trusted = (trusted_kind - other - varying) | (BUILTIN_NAMES - other - trusted_kind)
        self.candidates = frozenset(candidate_names(table))
        self.reached: set[str] = set(self.candidates) | varying
        self.contexts: dict[int, AssertContext] = {}
        self.tainted: set[int] = set()  # ids of statements that need the candidate (dropped by the oracle)
        self._body(module.body, frozenset(), strict=False)

    def _hits(self, node: ast.AST) -> bool:
        return bool(mentions(node) & self.reached)

    def _reach(self, names: set[str], bound: set[str] | None = None) -> None:
        self.reached |= (names - self.trusted) | (bound or set())

    def _body(self, stmts: list[ast.stmt], variant: frozenset[str], strict: bool) -> None:
        for stmt in stmts:
            self._stmt(stmt, variant, strict)

    def _stmt(self, stmt: ast.stmt, variant: frozenset[str], strict: bool) -> None:
        if isinstance(stmt, ast.Assert):
            self.contexts[id(stmt)] = AssertContext(frozenset(self.reached), variant, strict)
            if self._hits(stmt.test):  # handed to the candidate: reached for the statements after
                self._reach(free_names(stmt.test))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if self._hits(ast.Module(stmt.body, [])) or strict:
                self.tainted.add(id(stmt))
                self.reached.add(stmt.name)
            self._inner(stmt.body)
        elif isinstance(stmt, ast.If):
            self._branches(stmt, stmt.test, [stmt.body, stmt.orelse], variant, strict)
        elif isinstance(stmt, ast.With):
            self._branches(
                stmt,
                ast.Tuple([i.context_expr for i in stmt.items], ast.Load()),
                [stmt.body],
                variant,
                strict,
            )
        elif isinstance(stmt, ast.Try):
            self._try(stmt, variant, strict)
        elif isinstance(stmt, (ast.For, ast.While)):
            self._loop(stmt, variant, strict)
        elif _is_compound(stmt):  # match, async for/with, try*: not modelled
            self.tainted.add(id(stmt))
            self._reach(mentions(stmt), _bound(stmt))
            self._inner([stmt])
        elif self._hits(stmt) or strict:
            self.tainted.add(id(stmt))
            self._reach(mentions(stmt), _bound(stmt))

    def _inner(self, stmts: list[ast.stmt]) -> None:
        """Asserts in a scope the walk does not follow: only trusted names are usable there."""
        for node in ast.walk(ast.Module(stmts, [])):
            if isinstance(node, ast.Assert) and id(node) not in self.contexts:
                self.contexts[id(node)] = AssertContext(frozenset(), frozenset(), True)

    def _branches(
        self,
        stmt: ast.stmt,
        header: ast.expr,
        bodies: list[list[ast.stmt]],
        variant: frozenset[str],
        strict: bool,
    ) -> None:
        tainted = self._hits(header) or strict
        if tainted:  # the header hands its names to the candidate
            self._reach(mentions(header))
        start, out = set(self.reached), set(self.reached)
        for body in bodies:
            self.reached = set(start)
            self._body(body, variant, strict or tainted)
            out |= self.reached
        self.reached = out
        self._after(stmt, tainted)

    def _try(self, stmt: ast.Try, variant: frozenset[str], strict: bool) -> None:
        before = len(self.tainted)
        self._body(stmt.body, variant, strict)
        tainted = strict or len(self.tainted) > before or self._hits(ast.Module(stmt.body, []))
        for handler in stmt.handlers:
            if tainted and handler.name:
                self.reached.add(handler.name)
            self._body(handler.body, variant, strict)
        self._body(stmt.orelse, variant, strict)
        self._body(stmt.finalbody, variant, strict)
        self._after(stmt, tainted)

    def _loop(self, stmt: ast.For | ast.While, variant: frozenset[str], strict: bool) -> None:
        header: ast.AST = stmt.iter if isinstance(stmt, ast.For) else stmt.test
        inner = frozenset(variant | (_changed(stmt) - self.trusted))
        tainted = strict
        for _ in range(2):  # the second pass sees what the first iteration reached
            tainted = tainted or self._hits(header)
            if tainted:
                self._reach(mentions(header), _bound(stmt.target) if isinstance(stmt, ast.For) else None)
            self._body(stmt.body, inner, tainted)
        self._body(stmt.orelse, variant, tainted)
        # A loop with any statement that needs the candidate (its break, its changes) is not replayed
        # by the oracle: what it leaves behind is the candidate's.
        inside = any(
            id(n) in self.tainted for n in ast.walk(ast.Module(stmt.body, [])) if isinstance(n, ast.stmt)
        )
        self._after(stmt, tainted or inside or self._hits(header))

    def _after(self, stmt: ast.stmt, tainted: bool) -> None:
        if tainted:  # what it binds or changes depends on the candidate's control flow
            self.tainted.add(id(stmt))
            self._reach(_changed(stmt), _bound(stmt))


def _is_compound(stmt: ast.stmt) -> bool:
    return any(isinstance(getattr(stmt, f, None), list) for f in ("body", "orelse", "cases", "handlers"))


def _bound(node: ast.AST) -> set[str]:
    return _names(node, loads=False)


def _names(node: ast.AST, *, loads: bool) -> set[str]:
    """Names ``node`` stores or binds, and with ``loads`` also those it reads."""
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and (loads or not isinstance(sub.ctx, ast.Load)):
            names.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
        elif isinstance(sub, ast.alias):
            names.add((sub.asname or sub.name).split(".")[0])
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            names.add(sub.name)
    return names


def _changed(stmt: ast.stmt) -> set[str]:
    """Names a compound statement binds, plus every name its non-assert statements mention (may mutate)."""
    names = _bound(stmt)
    for node in ast.walk(stmt):
        if isinstance(node, ast.stmt) and not isinstance(node, ast.Assert) and not _is_compound(node):
            names |= mentions(node)
    return names
