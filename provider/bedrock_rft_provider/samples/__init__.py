"""Sample files shipped with the package, so the README's examples work from a pip install.

``bedrock-rft test-reward --samples sample:gsm8k_events`` reads ``gsm8k_events.jsonl`` from here: a
few GSM8K grader events in the shapes Bedrock sends (reference answer under ``metadata`` or at the
top level, string or block content, ``nova_assistant``); ``sample:code_events`` holds code answers with
their tests, for ``code_tests``.
"""

from __future__ import annotations

from pathlib import Path

PREFIX = "sample:"
FOLDER = Path(__file__).resolve().parent


def names() -> list[str]:
    """The shipped samples, without their ``.jsonl`` suffix."""
    return sorted(p.stem for p in FOLDER.glob("*.jsonl"))


def resolve(path_or_sample: str) -> str:
    """``sample:NAME`` -> the shipped file's path; any other value is returned unchanged.

    Raises ValueError naming the shipped samples when NAME is unknown.
    """
    if not path_or_sample.startswith(PREFIX):
        return path_or_sample
    name = path_or_sample[len(PREFIX) :]
    if name not in names():
        raise ValueError(f"--samples {path_or_sample}: no such shipped sample; choose one of {names()}")
    return str(FOLDER / f"{name}.jsonl")
