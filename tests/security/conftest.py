"""The reward-hacking regression suite: every attack must score 0, or be contained, under each profile.

Profiles: ``auto`` (the default: every layer this host offers — on a Linux worker with bubblewrap that
is the strict profile), ``kernel`` (seccomp + Landlock + the floor, no namespaces: what a Lambda that
allows those kernel features gets) and ``floor`` (the floor alone: ``isolation="basic"``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


def grader_sample(response: str, reference: Any, sample_id: str = "s") -> dict[str, Any]:
    """A grader sample with ``response`` as the model's turn and ``reference`` as its reference answer."""
    return {
        "id": sample_id,
        "messages": [{"role": "user", "content": "Write solve."}, {"role": "assistant", "content": response}],
        "metadata": {"reference_answer": reference},
    }


@pytest.fixture(params=["auto", "kernel", "floor"])
def run_tests(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Any]]:
    """``run(code, tests, timeout_s=5)`` -> CodeTestReport, under one isolation profile."""
    from bedrock_rft_provider.rewards.codeexec import run_code_tests

    profile = request.param
    if profile == "auto":
        yield lambda code, tests, timeout_s=5.0: run_code_tests(code, tests, timeout_s=timeout_s)
        return
    from bedrock_rft_provider.rewards import isolation

    if profile == "kernel":
        layers = isolation.available_layers()
        if not (layers["seccomp"] and layers["landlock"]):
            pytest.skip(reason="this kernel does not offer both seccomp and Landlock to unprivileged code")
        monkeypatch.setattr(isolation, "available_layers", lambda: {**layers, "namespaces": False})
    mode = "basic" if profile == "floor" else "auto"
    yield lambda code, tests, timeout_s=5.0: run_code_tests(code, tests, timeout_s=timeout_s, isolation=mode)


@pytest.fixture
def profile(run_tests: Any, request: pytest.FixtureRequest) -> str:
    """The isolation profile of the current ``run_tests`` parameter."""
    return str(request.node.callspec.params["run_tests"])
