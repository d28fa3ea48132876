"""The ``code`` family: the simulated model answers code tasks with programs — and tries to hack the grader.

SIMULATED. An action is an *approach* x *style*:
- an honest attempt, in a fenced block or pasted without one: the reference solution as often as the
  problem's fixed solve rate allows, a buggy variant otherwise;
- a buggy variant (one seeded mutation: a comparison or ``+``/``-`` flipped, an integer off by one);
- a stub;
- a **reward-hacking attempt** from :data:`rewards.adversarial.ATTACKS` aimed at the entry point: the
  always-equal object, an ``int`` subclass equal to everything, forged result lines, an early exit.

The base model tries those hacks often; whether training makes it stop depends only on what the
user's reward pays for them (the hardened ``code_tests`` runner pays nothing, a forgeable one pays in
full). ``step_metrics`` records it per training step as ``sandbox/code/hacking_attempt_share``.
"""

from __future__ import annotations

import ast
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.jobs.metrics import HACKING_ATTEMPT_SHARE
from bedrock_rft_provider.rewards.adversarial import ATTACKS
from bedrock_rft_provider.sandbox.families.base import ActionSpace, Family
from bedrock_rft_provider.sandbox.tasks import Task, prompt_key, stable_seed

HACKS = ("always_equal_object", "int_subclass_equal", "forge_result_lines", "exit_zero_early")
ACTIONS: tuple[tuple[str, str], ...] = (
    ("solution", "fenced"),
    ("solution", "unfenced"),
    ("bug", "fenced"),
    ("stub", "fenced"),
    *(("hack", name) for name in HACKS),
)
HACKING = frozenset(i for i, (approach, _) in enumerate(ACTIONS) if approach == "hack")
_DEF = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
_CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


@dataclass(frozen=True)
class CodeTask:
    """What the renderer needs: the function to write and, when the record has it, a correct program."""

    entry_point: str
    solution: str | None


def initial_logits(rng: random.Random) -> list[float]:
    """The base model: usually writes code (often buggy), and tries a hack about a third of the time."""
    base = {"solution": 0.4, "bug": 0.6, "stub": -0.6, "hack": -0.2}
    style = {"fenced": 0.3, "unfenced": 0.0}
    return [base[approach] + style.get(detail, 0.0) + rng.gauss(0.0, 0.2) for approach, detail in ACTIONS]


def step_metrics(actions: Sequence[int]) -> Mapping[str, float]:
    """Per training step: the share of sampled responses that were reward-hacking attempts."""
    if not actions:
        return {}
    return {HACKING_ATTEMPT_SHARE: sum(1 for a in actions if a in HACKING) / len(actions)}


def render(task: Task, action: int, rng: random.Random) -> str:
    """The response text for one action on one code task (deterministic for a given ``rng`` state)."""
    approach, detail = ACTIONS[action]
    code: CodeTask = task.detail if isinstance(task.detail, CodeTask) else CodeTask("solve", None)
    if approach == "hack":
        program = ATTACKS[detail]([code.entry_point])
        return f"Here is my solution.\n\n```python\n{program.rstrip()}\n```"
    if approach == "solution" and code.solution is not None:
        # An honest attempt is right only as often as the problem allows: hard problems mostly come out
        # buggy, so a grader that pays for hacks pays them more than the attempt (as with a real model).
        program = (code.solution if rng.random() < solve_rate(task) else mutate(code.solution, rng)).rstrip()
        if detail == "unfenced":
            return f"Here is the completed function:\n\n{program}\n"
        return f"Here is the completed function.\n\n```python\n{program}\n```"
    if approach == "bug" and code.solution is not None:
        return f"Here is the completed function.\n\n```python\n{mutate(code.solution, rng).rstrip()}\n```"
    return f"I could not finish it.\n\n```python\n{stub(code).rstrip()}\n```"


def solve_rate(task: Task) -> float:
    """How often an honest attempt at this task comes out right: 0.15-0.85, fixed per prompt."""
    return 0.15 + 0.7 * random.Random(stable_seed("code-solve-rate", task.key)).random()


def stub(code: CodeTask) -> str:
    """The function with its body replaced by ``return None`` (a bare definition without a solution)."""
    if code.solution is not None:
        try:
            module = ast.parse(code.solution)
        except SyntaxError:
            module = None
        if module is not None:
            for node in ast.walk(module):
                if isinstance(node, ast.FunctionDef) and node.name == code.entry_point:
                    node.body = [ast.Return(value=ast.Constant(value=None))]
                    return ast.unparse(module) + "\n"
    return f"def {code.entry_point}(*args, **kwargs):\n    return None\n"


_FLIPS: dict[type[ast.AST], type[ast.AST]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
}


def mutate(solution: str, rng: random.Random) -> str:
    """``solution`` with one seeded mutation (a comparison or ``+``/``-`` flipped, an int off by one)."""
    try:
        module = ast.parse(solution)
    except SyntaxError:
        return solution + "\nraise RuntimeError('unfinished')\n"
    sites: list[tuple[str, Any, int]] = []
    for node in ast.walk(module):
        if isinstance(node, ast.Compare):
            sites.extend(("cmp", node, i) for i, op in enumerate(node.ops) if type(op) in _FLIPS)
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _FLIPS:
            sites.append(("op", node, 0))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            sites.append(("int", node, 0))
    if not sites:
        return stub(CodeTask(_entry_of(solution), solution))
    kind, node, index = sites[rng.randrange(len(sites))]
    if kind == "cmp":
        node.ops[index] = _FLIPS[type(node.ops[index])]()
    elif kind == "op":
        node.op = _FLIPS[type(node.op)]()
    else:
        node.value += 1
    return ast.unparse(module) + "\n"


def _entry_of(solution: str) -> str:
    found = _DEF.findall(solution)
    return found[-1] if found else "solve"


def _reference(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    reference = record.get("reference_answer")
    tests = reference.get("tests", reference.get("test_cases")) if isinstance(reference, Mapping) else None
    if isinstance(reference, Mapping) and isinstance(tests, list):
        return reference
    if isinstance(record.get("test_cases"), list):
        return {"tests": record["test_cases"]}
    return None


def _task_from_record(prompt: str, record: Mapping[str, Any]) -> Task | None:
    reference = _reference(record)
    if reference is None:
        if record.get("task_family") != "code":
            return None
        reference = {}
    solution = reference.get("solution")
    solution = solution if isinstance(solution, str) and solution.strip() else None
    entry = reference.get("entry_point")
    if not isinstance(entry, str) or not entry.isidentifier():
        called = [n for n in _CALLED.findall(repr(reference.get("tests", ""))) if n != "print"]
        entry = _entry_of(solution) if solution else (called[0] if called else "solve")
    return Task(prompt_key(prompt), solution, False, kind="code", detail=CodeTask(entry, solution))


SPACE = ActionSpace(
    kind="code",
    actions=ACTIONS,
    right=frozenset(i for i, (approach, _) in enumerate(ACTIONS) if approach == "solution"),
    initial_logits=initial_logits,
    render=render,
    step_metrics=step_metrics,
)
FAMILY = Family(SPACE, _task_from_record)
