"""Every public operator/sensor parameter is documented, and the README's reference is generated from
those docstrings, so the two cannot drift; README examples need nothing a pip user lacks (issue 10,
fault 7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bedrock_rft_provider import operator_reference as ref
from unit.test_readme import README, _commands

REPO = Path(__file__).resolve().parents[2]


def test_every_public_parameter_is_documented() -> None:
    assert ref.missing_docs() == []


def test_the_readme_reference_is_the_generated_one() -> None:
    start, end = README.index(ref.START), README.index(ref.END) + len(ref.END)
    regenerate = "python -m bedrock_rft_provider.operator_reference --write README.md"
    assert README[start:end] == ref.render(), f"README's operator reference is stale: run {regenerate}"


def test_every_operator_in_the_readme_summary_is_in_the_reference() -> None:
    summary = set(re.findall(r"^\| `(Bedrock\w+(?:Operator|Sensor))` \|", README, re.M))
    assert summary and summary <= {path.rsplit(".", 1)[1] for path in ref.CLASSES}


@pytest.mark.parametrize("path", ref.CLASSES, ids=lambda p: p.rsplit(".", 1)[1])
def test_durations_state_their_unit(path: str) -> None:
    cls = ref.load(path)
    docs = ref.documented_params(cls)
    for name in ref.public_params(cls):
        if re.search(r"interval|delay|timeout|wait$", name) and name not in ("wait_for_completion",):
            assert re.search(r"second|\bs\b|\bh\b|minute|hour", docs[name]), (
                f"{cls.__name__}.{name}: {docs[name]}"
            )


def test_readme_commands_need_nothing_from_the_repository_checkout() -> None:
    for argv in _commands("bedrock-rft"):
        assert not any(word.startswith(("tests/", "./tests")) for word in argv), argv


def test_the_readme_test_reward_commands_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bedrock_rft_provider.cli import main

    monkeypatch.chdir(tmp_path)  # a command's --output lands here, not in the checkout
    commands = [a for a in _commands("bedrock-rft") if a[0] == "test-reward"]
    assert commands
    for argv in commands:
        assert main(argv) == 0, argv
        assert "samples: " in capsys.readouterr().out


def test_an_unknown_shipped_sample_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from bedrock_rft_provider.cli import main

    argv = [
        "test-reward",
        "--reward",
        "bedrock_rft_provider.rewards.builtin:math_answer",
        "--samples",
        "sample:nope",
    ]
    assert main(argv) == 2
    assert "no such shipped sample; choose one of ['code_events', 'gsm8k_events']" in capsys.readouterr().err
