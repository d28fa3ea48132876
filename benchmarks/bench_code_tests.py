"""``code_tests`` cost of isolation: the isolated runner per layer vs the pre-issue-12 runner, same run.

A 64-sample batch of simple functions (half correct, half off by one), 5 assert tests each, scored one
sample after the other as the grader handler does. Rows, each adding one layer to the one above:

- ``unisolated``: the old runner (``benchmarks/baselines/code_tests_unisolated.py``) — the baseline;
- ``floor``: ``isolation="basic"`` (clean env, rlimits, private dir, non-dumpable parent, output cap,
  group kill, parent-side verdicts);
- ``+seccomp``, ``+landlock``: the unprivileged kernel layers (what a Lambda allowing them gets);
- ``strict``: + namespaces through bubblewrap (a Linux worker).

Rows are interleaved over three rounds and each keeps its best samples/s and lowest p99, to filter
noise on a shared machine. Target: ``strict`` at most 2x the baseline's time per sample.

    .venv/bin/python benchmarks/bench_code_tests.py [--samples 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bedrock_rft_provider.rewards import isolation
from bedrock_rft_provider.rewards.codeexec import run_code_tests
from bedrock_rft_provider.rewards.runner import percentile

BASELINE = Path(__file__).resolve().parent / "baselines" / "code_tests_unisolated.py"


def _load_baseline() -> Callable[..., tuple[int, int, bool]]:
    spec = importlib.util.spec_from_file_location("code_tests_unisolated", BASELINE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.run_code_tests  # type: ignore[no-any-return]


TASKS = [
    ("square", "x * x", [(2, 4), (3, 9), (0, 0), (-4, 16), (10, 100)]),
    ("double", "x * 2", [(2, 4), (3, 6), (0, 0), (-4, -8), (10, 20)]),
    ("successor", "x + 1", [(2, 3), (3, 4), (0, 1), (-4, -3), (10, 11)]),
    ("negate", "-x", [(2, -2), (3, -3), (0, 0), (-4, 4), (10, -10)]),
]


def batch(n: int) -> list[tuple[str, list[str]]]:
    """``n`` (code, tests) pairs: half correct, half off by one."""
    items = []
    for i in range(n):
        name, body, cases = TASKS[i % len(TASKS)]
        code = f"def {name}(x):\n    return {body}{'' if i % 2 == 0 else ' + 1'}\n"
        items.append((code, [f"assert {name}({a}) == {b}" for a, b in cases]))
    return items


def _with_layers(**overrides: bool) -> Callable[[], None]:
    real = isolation.available_layers()

    def apply() -> None:
        isolation.available_layers = lambda: {**real, **overrides}  # type: ignore[assignment]

    return apply


def measure(run: Callable[[str, list[str]], Any], items: list[tuple[str, list[str]]]) -> tuple[float, float]:
    """``(samples/s, p99 ms per sample)`` of scoring ``items`` one after the other."""
    latencies = []
    started = time.perf_counter()
    for code, tests in items:
        t0 = time.perf_counter()
        run(code, tests)
        latencies.append((time.perf_counter() - t0) * 1000)
    return len(items) / (time.perf_counter() - started), percentile(latencies, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    items = batch(args.samples)
    real_layers = isolation.available_layers()
    real = isolation.available_layers
    rows: dict[str, tuple[Callable[[], None], Callable[[str, list[str]], Any]]] = {
        "unisolated": (lambda: None, _load_baseline()),
        "floor": (lambda: None, lambda c, t: run_code_tests(c, t, isolation="basic")),
        "+seccomp": (
            _with_layers(namespaces=False, landlock=False),
            lambda c, t: run_code_tests(c, t, isolation="auto"),
        ),
        "+landlock": (_with_layers(namespaces=False), lambda c, t: run_code_tests(c, t, isolation="auto")),
    }
    if real_layers["namespaces"]:
        rows["strict"] = (lambda: None, lambda c, t: run_code_tests(c, t, isolation="strict"))
    best: dict[str, tuple[float, float]] = {}
    expected = sum(1 for i in range(len(items)) if i % 2 == 0) * 5
    for _ in range(args.rounds):
        for name, (setup, run) in rows.items():
            isolation.available_layers = real  # type: ignore[assignment]
            setup()
            passed = sum(_passed(run(code, tests)) for code, tests in items[:4])
            assert passed == sum(5 for i in range(min(4, len(items))) if i % 2 == 0), (name, passed)
            rate, p99 = measure(run, items)
            old = best.get(name, (0.0, float("inf")))
            best[name] = (max(old[0], rate), min(old[1], p99))
    isolation.available_layers = real  # type: ignore[assignment]
    print(f"{args.samples} samples x 5 assert tests ({expected} of them pass), best of {args.rounds} rounds")
    print("layers here: " + ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in real_layers.items()))
    base_rate = best["unisolated"][0]
    print(f"{'runner':<12}{'samples/s':>11}{'ms/sample':>11}{'p99 ms':>9}{'x baseline time':>17}")
    for name, (rate, p99) in best.items():
        print(f"{name:<12}{rate:>11.1f}{1000 / rate:>11.1f}{p99:>9.1f}{base_rate / rate:>16.2f}x")
    if "strict" in best:
        ratio = base_rate / best["strict"][0]
        print(f"strict isolation: {ratio:.2f}x the unisolated runner's time per sample (target <= 2x)")


def _passed(report: Any) -> int:
    return report[0] if isinstance(report, tuple) else report.passed


if __name__ == "__main__":
    main()
