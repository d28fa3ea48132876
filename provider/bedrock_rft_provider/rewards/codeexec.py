"""``code_tests``: run candidate code against reference tests, with a verdict the candidate cannot reach.

The candidate runs in one isolated child per sample (:mod:`.isolation`: namespaces where available,
seccomp/Landlock, and a floor that works in AWS Lambda). The child receives the candidate code and the
tests rewritten by :mod:`.testplan` — without any expected value — and reports plain values; the parent
decides every pass/fail. There is no nonce or other secret in the child to steal, and the score is
``passed / total`` with ``passed`` counted by the parent over the known tests, so it lies in [0, 1].

Where the tests come from is explicit: :data:`DEFAULT_TEST_PLACES`, first match wins; build a reward
reading other places (or with stricter isolation) with :func:`make_code_tests`.
"""

from __future__ import annotations

import json
import marshal
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.rewards.contract import RewardResult, Sample
from bedrock_rft_provider.rewards.isolation import Limits, run_isolated
from bedrock_rft_provider.rewards.testplan import build_plan, judge, needs_oracle, oracle_jobs, read_reports

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MEMORY_MB = 512
# Where a sample's tests are looked for, in order (dotted paths into the grader sample):
# the documented reference answer (under metadata, then top level), then AWS's code-sample layout.
DEFAULT_TEST_PLACES = ("metadata.reference_answer", "reference_answer", "metadata.test_cases", "test_cases")
_FENCED_CODE = re.compile(r"```(?:python|py|python3)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)

# Runs in the child after the isolation preamble. Reads the marshalled {"code", "tests"} on stdin and
# reports one Python literal per line on the original stdout, which the candidate cannot reach through
# print() (fd 1 then points at /dev/null). Deliberately imports nothing (json alone would double the
# cost of a run); the parent reads the lines with ast.literal_eval, which builds plain values only.
_PRELUDE = r"""
import io, marshal, os, sys
payload = marshal.loads(sys.stdin.buffer.read())
chan = os.fdopen(os.dup(1), "w")
devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)
os.dup2(devnull, 2)
_confine(*_CONFINE_ARGS)
INF = float("inf")

def lit(v, depth=0):
    t = type(v)
    if v is None or t is bool or t is str or t is bytes:
        return repr(v)
    if t is int:
        if v.bit_length() > 12000:
            raise ValueError("integer too large")
        return repr(v)
    if t is float:
        if v != v:
            raise ValueError("nan")
        return "1e999" if v == INF else "-1e999" if v == -INF else repr(v)
    if t is complex:
        return "(" + lit(v.real) + "+" + lit(v.imag) + "j)"
    if depth > 60:
        raise ValueError("value nested too deeply")
    if t is list:
        return "[" + ",".join([lit(x, depth + 1) for x in v]) + "]"
    if t is tuple:
        return "(" + "".join([lit(x, depth + 1) + "," for x in v]) + ")"
    if t is set or t is frozenset:
        return "{" + ",".join([lit(x, depth + 1) for x in v]) + "}" if v else "set()"
    if t is dict:
        return "{" + ",".join([lit(k, depth + 1) + ":" + lit(x, depth + 1) for k, x in v.items()]) + "}"
    raise TypeError("unserializable " + t.__name__)

def send(text):
    chan.write(text + "\n")
    chan.flush()

def entry(thunk, *args):
    try:
        return "('v'," + lit(thunk(*args)) + ")"
    except BaseException as exc:
        return "('e'," + repr(type(exc).__name__) + ")"
"""

_HARNESS = (
    _PRELUDE
    + r"""
code, tests = payload["code"], payload["tests"]
del payload

class __raises_info__:
    def __init__(self, exc):
        self.value, self.type = exc, type(exc)

def __check__(site, *thunks):
    send("('s'," + repr(site) + ",[" + ",".join([entry(thunk) for thunk in thunks]) + "])")

def run(index, test):
    namespace = {"__name__": "__main__", "__builtins__": __builtins__, "__check__": __check__,
                 "__raises_info__": __raises_info__}
    real_stdin, real_stdout = sys.stdin, sys.stdout
    sys.stdin = io.TextIOWrapper(io.BytesIO(test.get("input", "").encode()), encoding="utf-8")
    sys.stdout = captured = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    try:
        try:
            exec(compile(code, "<candidate>", "exec"), namespace)
        except SystemExit:
            pass
        if test["kind"] == "io":
            captured.flush()
            text = captured.buffer.getvalue().decode("utf-8", "replace")
            send("('t'," + repr(index) + ",'out'," + repr(text) + ")")
            return
        exec(compile(test["source"], "<test>", "exec"), namespace)
        send("('t'," + repr(index) + ",'done')")
    except BaseException:
        pass
    finally:
        sys.stdin, sys.stdout = real_stdin, real_stdout

for index, test in enumerate(tests):
    run(index, test)
"""
)

# The oracle (see :mod:`.oracle`): the tests' own computations, without the candidate's code. Each
# expression is evaluated once; a ``post`` one once per candidate value list the parent sent.
_ORACLE = (
    _PRELUDE
    + r"""
sources, jobs = payload["tests"], payload["jobs"]
del payload
evaluated = set()

def __oracle__(ident, thunk):
    if ident not in evaluated:
        evaluated.add(ident)
        send("('o'," + repr(ident) + "," + entry(thunk) + ")")

def __post__(ident, function):
    if ident not in evaluated:
        evaluated.add(ident)
        for number, values in enumerate(jobs.get(ident, ())):
            if values is not None:
                send("('p'," + repr(ident) + "," + repr(number) + "," + entry(function, values) + ")")

for source in sources:
    if source:
        namespace = {"__name__": "__main__", "__builtins__": __builtins__, "__oracle__": __oracle__,
                     "__post__": __post__}
        try:
            exec(compile(source, "<oracle>", "exec"), namespace)
        except BaseException:
            pass
"""
)


@dataclass(frozen=True)
class CodeTestReport:
    """How the candidate did: ``passed`` of ``total`` tests; how the run ended; which layers ran;
    ``unverifiable``: tests with no ``assert``, which always fail (see :mod:`.testplan`)."""

    passed: int
    total: int
    timed_out: bool = False
    output_capped: bool = False
    layers: tuple[str, ...] = ()
    unverifiable: int = 0

    @property
    def share(self) -> float:
        """Share of tests passed (0.0 with no tests), in [0, 1] by construction."""
        return self.passed / self.total if self.total else 0.0


def fenced_blocks(response: str) -> list[str]:
    """The fenced code blocks (```python, ```py, ```python3 or bare ```) of a response, in order."""
    return [str(block) for block in _FENCED_CODE.findall(response)]


def extract_code(response: str) -> str:
    """The candidate program: the last fenced Python block of the response, or the whole response."""
    blocks = fenced_blocks(response)
    return blocks[-1] if blocks else response


def run_code_tests(
    code: str,
    tests: Sequence[str | dict[str, Any]],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
    isolation: str = "auto",
) -> CodeTestReport:
    """Run ``code`` against ``tests`` (assert snippets, or ``{"input", "output"}`` stdin/stdout pairs).

    ``isolation``: ``auto`` (every layer the host offers), ``strict`` (namespaces required: raises
    :class:`~.isolation.IsolationUnavailable` without them) or ``basic`` (the floor only).
    """
    plan = build_plan(tests)
    limits = Limits(timeout_s=timeout_s, memory_mb=memory_mb)
    payload = marshal.dumps({"code": code, "tests": plan.child_tests})
    outcome = run_isolated(_HARNESS, payload, limits, isolation=isolation)
    reports = read_reports(plan, outcome.stdout)
    oracle_output = b""
    if needs_oracle(plan, reports):  # a second confined child, which never holds the candidate's code
        job = marshal.dumps({"tests": plan.oracle_tests, "jobs": oracle_jobs(plan, reports)})
        oracle_output = run_isolated(_ORACLE, job, limits, isolation=isolation).stdout
    passed = sum(judge(plan, reports, oracle_output))
    return CodeTestReport(
        passed, len(tests), outcome.timed_out, outcome.output_capped, outcome.layers, len(plan.unverifiable)
    )


def _at(raw: Any, path: str) -> Any:
    value = raw
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _tests_in(value: Any) -> tuple[list[Any], dict[str, Any]]:
    if isinstance(value, str):
        try:  # a JSON-encoded list or object, as CSV-born datasets often hold it
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            decoded = None
        if isinstance(decoded, (list, dict)):
            return _tests_in(decoded)
        return ([value] if value.strip() else []), {}
    if isinstance(value, list):
        return [t for t in value if isinstance(t, (str, dict))], {}
    if isinstance(value, dict):
        tests, _ = _tests_in(value.get("tests", value.get("test_cases")))
        return tests, value
    return [], {}


def tests_of(raw: Any, places: Sequence[str] = DEFAULT_TEST_PLACES) -> tuple[list[Any], dict[str, Any]]:
    """The tests and options found at the first of ``places`` (dotted paths) that holds any."""
    for place in places:
        tests, options = _tests_in(_at(raw, place))
        if tests:
            return tests, options
    return [], {}


def make_code_tests(
    places: Sequence[str] = DEFAULT_TEST_PLACES,
    *,
    isolation: str = "auto",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
    name: str = "code_tests",
) -> Any:
    """A ``code_tests`` reward reading its tests from ``places`` with the given isolation and limits.

    A place's value is test code, a list of tests, or ``{"tests" | "test_cases": [...], "timeout_s",
    "memory_mb"}``; the sample may lower the limits, never raise them above ``timeout_s``/``memory_mb``.
    """
    place_list = tuple(places)

    def reward(sample: Sample) -> RewardResult | None:
        tests, options = tests_of(sample.raw, place_list)
        if not tests:
            return None
        report = run_code_tests(
            extract_code(sample.response),
            tests,
            timeout_s=min(timeout_s, _option(options, "timeout_s", timeout_s)),
            memory_mb=int(min(memory_mb, _option(options, "memory_mb", memory_mb))),
            isolation=isolation,
        )
        metrics = {
            "code_tests_passed": float(report.passed),
            "code_tests_total": float(report.total),
            "code_tests_timed_out": float(report.timed_out),
            "code_tests_output_capped": float(report.output_capped),
            "code_tests_unverifiable": float(report.unverifiable),
        }
        return RewardResult(report.share, {name: report.share}, metrics)

    reward.reward_name = name  # type: ignore[attr-defined]
    reward.score_range = (0.0, 1.0)  # type: ignore[attr-defined]
    reward.reference_places = place_list  # type: ignore[attr-defined]
    reward.runs_code = True  # type: ignore[attr-defined]
    return reward


def _option(options: dict[str, Any], key: str, default: float) -> float:
    value = options.get(key, default)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf"):
        return float(value)
    return default


code_tests = make_code_tests()
code_tests.__doc__ = """Share of the sample's tests the response's code passes (``None``: it has no tests).

Tests are read from :data:`DEFAULT_TEST_PLACES`: ``metadata.reference_answer``, ``reference_answer``,
``metadata.test_cases`` (AWS's layout), ``test_cases``. Each is assert snippets or ``{"input",
"output"}`` pairs, optionally inside ``{"tests": [...], "timeout_s": 10, "memory_mb": 512}``.
"""
