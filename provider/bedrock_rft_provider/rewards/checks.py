"""Turn raise-based checks into asserts, so that every check of a test is a site the parent decides.

The candidate shares the harness's process, so "the test ran to its end" is a line it can send itself;
a check that only shows by *not* raising (``if f(1) != 2: raise AssertionError``) is then forged by
sending that line and exiting before the check runs. :func:`normalise_checks` rewrites such checks into
asserts, which :mod:`.testplan` splits so the parent decides them on plain values:

- ``if C: raise SomeError(...)`` and ``if C: assert False`` (nothing else in the ``if``) become
  ``assert not C`` (inside a function or ``try``, only for ``AssertionError``/``Exception``, since a
  ``ValueError`` there may be meant to be caught; ``SystemExit`` is an exit, not a check);
- an unconditional ``raise AssertionError(...)`` or ``pytest.fail(...)`` becomes ``assert False``;
- ``with pytest.raises(E[, match=P]) [as info]: BODY`` becomes ``try: BODY; assert False`` with
  ``except E`` (``info.value``/``info.type`` available; ``match`` checked as an assert);
- in a ``try`` whose body or ``else`` ends in an unconditional ``assert False`` (the code before it must
  raise), that assert is *must-not-reach*: a correct program never reports it, so it is not required
  (:data:`MUST_NOT_REACH`), but each handler (other than one for ``AssertionError``) starts with an
  ``assert True`` that must be reported — positive evidence that the expected exception was caught,
  which an early exit does not give;
- an unconditional ``assert False`` in an ``except`` block (the ``try`` body must not raise) is
  must-not-reach too: a correct program never runs it, and reaching it fails the test.
"""

from __future__ import annotations

import ast

MUST_NOT_REACH = "_must_not_reach"  # attribute set on an ``ast.Assert`` that need not be reported
RAISED = "__raised__"  # the caught exception inside a rewritten ``pytest.raises`` block
RAISES_INFO = "__raises_info__"  # the child harness's stand-in for pytest's ExceptionInfo


def _false() -> ast.Assert:
    return ast.Assert(ast.Constant(False), None)


def _is_false_assert(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Assert) and isinstance(stmt.test, ast.Constant) and not stmt.test.value


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _is_failure(stmt: ast.stmt, fail_forms: set[str]) -> bool:
    """``raise AssertionError[(...)]`` or ``pytest.fail(...)``: the test fails when it gets here."""
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return _dotted(exc) == "AssertionError"
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and _dotted(stmt.value.func) in fail_forms
    )


def _raised_name(stmt: ast.Raise) -> str:
    return _dotted(stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc) if stmt.exc else ""


class _Normaliser(ast.NodeTransformer):
    def __init__(self, raises_forms: set[str], fail_forms: set[str]) -> None:
        self.raises_forms, self.fail_forms = raises_forms, fail_forms
        self.nested = 0  # inside a function or a try: a raise there may be meant to be caught

    def visit_Import(self, node: ast.Import) -> ast.stmt | None:
        kept = [a for a in node.names if a.name != "pytest"]  # not importable in the child (stdlib only)
        return ast.copy_location(ast.Import(kept), node) if kept else None

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.stmt | None:
        return None if node.module == "pytest" else node

    def _scoped(self, node: ast.AST) -> ast.AST:
        self.nested += 1
        try:
            return self.generic_visit(node)
        finally:
            self.nested -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _scoped

    def visit_If(self, node: ast.If) -> ast.stmt:
        self.generic_visit(node)
        if node.orelse or len(node.body) != 1:
            return node
        only = node.body[0]
        raised = _raised_name(only) if isinstance(only, ast.Raise) else ""
        # ``raise ValueError`` inside a function or try may be meant to be caught; a generic one is a check.
        error = raised.endswith(("Error", "Exception")) and not raised.startswith("SystemExit")
        check = (
            _is_false_assert(only) or raised in ("AssertionError", "Exception") or (error and not self.nested)
        )
        if check:
            return ast.copy_location(ast.Assert(ast.UnaryOp(ast.Not(), node.test), None), node)
        return node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and (stmts or field == "body"):
                fixed = [
                    ast.copy_location(_false(), s) if _is_failure(s, self.fail_forms) else s for s in stmts
                ]
                setattr(node, field, fixed or [ast.Pass()])
        return node

    def visit_With(self, node: ast.With) -> ast.stmt:
        self.generic_visit(node)
        call = node.items[0].context_expr if len(node.items) == 1 else None
        if not isinstance(call, ast.Call) or _dotted(call.func) not in self.raises_forms or not call.args:
            return node
        target = node.items[0].optional_vars
        handler: list[ast.stmt] = []
        if isinstance(target, ast.Name):
            info = ast.Call(ast.Name(RAISES_INFO, ast.Load()), [ast.Name(RAISED, ast.Load())], [])
            handler.append(ast.Assign([ast.Name(target.id, ast.Store())], info))
        for keyword in call.keywords:
            if keyword.arg == "match":  # re.search(P, str(exc)), decided like any assert
                search = ast.parse(f"bool(__import__('re').search(_, str({RAISED})))", mode="eval").body
                assert isinstance(search, ast.Call) and isinstance(search.args[0], ast.Call)
                search.args[0].args[0] = keyword.value
                handler.append(ast.Assert(search, None))
        handlers = [ast.ExceptHandler(call.args[0], RAISED, handler or [ast.Pass()])]
        return _mark(ast.copy_location(ast.Try([*node.body, _false()], handlers, [], []), node))

    def visit_Try(self, node: ast.Try) -> ast.stmt:
        self.nested += 1
        try:
            self.generic_visit(node)
        finally:
            self.nested -= 1
        return _mark(node)


def _mark(node: ast.Try) -> ast.Try:
    """Make a must-raise ``try``'s final ``assert False`` optional, and require its handlers' evidence."""
    for handler in node.handlers:  # ``except Exception: assert False``: the body must not raise
        for stmt in handler.body:
            if _is_false_assert(stmt):
                setattr(stmt, MUST_NOT_REACH, True)
    markers = [s for s in node.body[-1:] + node.orelse[-1:] if _is_false_assert(s)]
    handlers = [h for h in node.handlers if h.type is None or "AssertionError" not in ast.unparse(h.type)]
    if markers and handlers:
        for marker in markers:
            setattr(marker, MUST_NOT_REACH, True)
        for handler in handlers:
            handler.body.insert(0, ast.copy_location(ast.Assert(ast.Constant(True), None), handler))
    return node


def normalise_checks(module: ast.Module) -> ast.Module:
    """``module`` with its raise-based checks turned into asserts (see the module doc), changed in place
    (new nodes have no source locations yet)."""
    raises_forms, fail_forms = {"pytest.raises"}, {"pytest.fail"}
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "pytest" and alias.asname:
                    raises_forms.add(f"{alias.asname}.raises")
                    fail_forms.add(f"{alias.asname}.fail")
        elif isinstance(node, ast.ImportFrom) and node.module == "pytest":
            for alias in node.names:
                forms = {"raises": raises_forms, "fail": fail_forms}.get(alias.name)
                if forms is not None:
                    forms.add(alias.asname or alias.name)
    result: ast.Module = _Normaliser(raises_forms, fail_forms).visit(module)
    return result
