"""README "What it costs and how to cap it" is true: its commands, run in order, print the forecast it
shows (except what a machine measures), its over-a-cap message is the real one, and its price table
is a valid one."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from bedrock_rft_provider.jobs.prices import PriceTable
from unit.cli.test_cli_bad_input_corpus import run
from unit.test_readme import README

TITLE = "What it costs and how to cap it"
# Lines whose numbers come from measured grader latency: they differ by machine and run.
MEASURED = ("  Lambda GB-seconds:", "  money:")


def _section() -> str:
    found = re.search(rf"^## {re.escape(TITLE)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert found, TITLE
    return found[1]


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", _section(), re.S)


def _commands(program: str) -> list[list[str]]:
    found = []
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line)
            if words and words[0] == program:
                found.append(words[1:])
    return found


def test_the_readme_commands_print_the_forecast_it_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    *setup, forecast = _commands("bedrock-rft")
    assert forecast[0] == "forecast" and [argv[0] for argv in setup] == ["prepare-data", "test-reward"]
    for argv in setup:
        assert run(argv, capsys).code == 0
    outcome = run(forecast, capsys)
    assert outcome.code == 0, outcome.err
    (shown,) = _blocks("text")
    printed = outcome.out.splitlines()
    assert [line.startswith(MEASURED) for line in printed] == [
        line.startswith(MEASURED) for line in shown.splitlines()
    ]
    assert [p for p in printed if not p.startswith(MEASURED)] == [
        s for s in shown.splitlines() if not s.startswith(MEASURED)
    ]


def test_the_over_a_cap_message_is_the_real_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    *setup, forecast = _commands("bedrock-rft")
    assert run(setup[0], capsys).code == 0  # the dataset; no grader run needed for invocations
    capped = [*forecast[: forecast.index("--max-grader-invocations")], "--max-grader-invocations", "4000"]
    capped = [a for i, a in enumerate(capped) if a != "--preflight" and capped[i - 1] != "--preflight"]
    outcome = run(capped, capsys)
    assert outcome.code == 1
    quoted = re.search(r"exits 1 and says what to change:\n`([^`]+)`", _section())
    assert quoted and quoted[1] in outcome.err


def test_the_price_variable_is_a_valid_price_table() -> None:
    (variable,) = [
        shlex.split(line)
        for block in _blocks("bash")
        for line in block.splitlines()
        if line.startswith("airflow variables set")
    ]
    assert variable[3] == "bedrock_rft_prices"
    prices = PriceTable.from_dict(json.loads(variable[4]))
    assert prices.grader_gb_second is not None and prices.training_hour is None  # none invented
