"""``code_solution``: the code-generation (RLVR) reward — format rule, then share of unit tests passed.

Rules (ours, written in the spirit of AWS's Codeforces RFT sample: code in a fenced block, graded by
running the problem's tests, partial credit per test):

1. **Format.** The program is the last fenced code block of the response (```python, ```py or a bare
   ```); a response with no closed fence (prose only, a program pasted without a fence, an answer cut
   off mid-block) or an empty block scores 0 — ``code_format_ok`` is 0 then. ``code_tests`` alone
   would run the whole response as code; training on it teaches the model nothing about the format.
2. **Partial credit.** Score = passed / total tests, each test an assert snippet (or stdin/stdout pair)
   run by :mod:`.codeexec`'s hardened runner: the candidate runs in an isolated child and never sees an
   expected value; the parent decides every verdict, so forged result lines, always-equal objects,
   early exits and patched builtins pass nothing. A timeout or a crash fails the tests not yet passed.
3. **Not applicable** (``None``) when the sample carries no tests.

Metrics per sample: ``code_format_ok``, ``code_all_passed`` (1 when every test passed: its mean is
pass@1) and ``code_tests``' own counters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bedrock_rft_provider.rewards.codeexec import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TEST_PLACES,
    DEFAULT_TIMEOUT_S,
    fenced_blocks,
    make_code_tests,
    tests_of,
)
from bedrock_rft_provider.rewards.contract import RewardResult, Sample


def fenced_program(response: str) -> str | None:
    """The last fenced code block of ``response`` when it holds code, else None (the format rule)."""
    blocks = fenced_blocks(response)
    if not blocks or not blocks[-1].strip():
        return None
    return blocks[-1]


def make_code_solution(
    places: Sequence[str] = DEFAULT_TEST_PLACES,
    *,
    isolation: str = "auto",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
    name: str = "code_solution",
) -> Any:
    """A ``code_solution`` reward reading tests from ``places`` (see :func:`.codeexec.make_code_tests`)."""
    place_list = tuple(places)
    run_tests = make_code_tests(
        place_list, isolation=isolation, timeout_s=timeout_s, memory_mb=memory_mb, name="code_tests"
    )

    def reward(sample: Sample) -> RewardResult | None:
        tests, _ = tests_of(sample.raw, place_list)
        if not tests:
            return None
        if fenced_program(sample.response) is None:
            metrics = {"code_format_ok": 0.0, "code_all_passed": 0.0, "code_tests_total": float(len(tests))}
            return RewardResult(0.0, {name: 0.0}, metrics)
        # code_tests runs the last fenced block: the same program fenced_program found.
        graded = run_tests(sample)
        share = float(graded.score)
        metrics = {**graded.metrics, "code_format_ok": 1.0, "code_all_passed": float(share >= 1.0)}
        return RewardResult(share, {name: share}, metrics)

    reward.reward_name = name  # type: ignore[attr-defined]
    reward.score_range = (0.0, 1.0)  # type: ignore[attr-defined]
    reward.reference_places = place_list  # type: ignore[attr-defined]
    reward.runs_code = True  # type: ignore[attr-defined]
    return reward


code_solution = make_code_solution()
code_solution.__doc__ = """Code generation: 0 without a fenced code block, else the share of tests passed.

Tests are read like ``code_tests`` (``metadata.reference_answer``, ``reference_answer``,
``metadata.test_cases``, ``test_cases``); ``None`` when the sample has none. See :mod:`.codegen`.
"""
