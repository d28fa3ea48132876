"""The seeded tool-calling generator: valid RFT records with tools, honest expected calls, stable seeds."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from bedrock_rft_provider.cli import main
from bedrock_rft_provider.data.records import validate_record
from bedrock_rft_provider.data.toolcalls import GENERATORS, TOOLS, generate
from bedrock_rft_provider.rewards.builtin import tool_call_match
from bedrock_rft_provider.rewards.contract import parse_sample
from bedrock_rft_provider.rewards.toolcall import tool_schemas

RECORDS = list(generate(1200, seed=5))


def test_same_seed_same_records_and_prefix_stable() -> None:
    assert list(generate(300, seed=5)) == RECORDS[:300]
    assert {r["id"] for r in generate(100, seed=6)} != {r["id"] for r in RECORDS[:100]}


def test_records_are_valid_unique_and_cover_every_function() -> None:
    assert all(validate_record(record) == [] for record in RECORDS)
    assert len({r["messages"][-1]["content"] for r in RECORDS}) == len(RECORDS)
    assert {r["category"] for r in RECORDS[:60]} == set(GENERATORS)


def test_the_expected_function_is_offered_with_two_distractors_and_its_arguments_fit_the_schema() -> None:
    for record in RECORDS:
        (call,) = record["reference_answer"]["tool_calls"]
        offered = tool_schemas(record["tools"])
        assert call["name"] in offered and len(offered) == 3
        schema = offered[call["name"]]
        assert set(call["arguments"]) == set(schema["required"]) == set(schema["properties"])


def _spoken(iso: str) -> str:
    day = datetime.strptime(iso, "%Y-%m-%d")
    return f"{day:%B} {day.day}, {day.year}"


def test_every_label_is_what_the_prompt_says() -> None:
    for record in RECORDS:
        prompt = record["messages"][-1]["content"]
        (call,) = record["reference_answer"]["tool_calls"]
        for name, value in call["arguments"].items():
            if name == "date":
                assert _spoken(value) in prompt
            elif name == "start_time":
                hour, minute = map(int, value.split(":"))
                assert f"{(hour - 1) % 12 + 1}:{minute:02d} {'am' if hour < 12 else 'pm'}" in prompt
            elif name == "minutes_from_now":
                spoken = re.search(r"in (\d+) (hour|minute)", prompt)
                assert spoken is not None
                assert value == int(spoken[1]) * (60 if spoken[2] == "hour" else 1)
            elif name in ("from_currency", "to_currency"):
                assert re.fullmatch(r"[A-Z]{3}", value)
            elif name == "passengers":
                assert (f"for {value} people" in prompt) if value > 1 else prompt.endswith("for me.")
            else:
                assert str(value) in prompt, (name, value, prompt)


def test_the_labelled_call_scores_one_and_a_distractor_zero() -> None:
    for record in RECORDS[:200]:
        (call,) = record["reference_answer"]["tool_calls"]
        sample = {
            "id": record["id"],
            "messages": [*record["messages"], {"role": "assistant", "content": json.dumps(call)}],
            "metadata": {"reference_answer": record["reference_answer"], "tools": record["tools"]},
        }
        result = tool_call_match(parse_sample(sample))
        assert result is not None and result.score == 1.0
        other = next(t["function"]["name"] for t in record["tools"] if t["function"]["name"] != call["name"])
        sample["messages"][-1]["content"] = json.dumps({**call, "name": other})
        wrong = tool_call_match(parse_sample(sample))
        assert wrong is not None and wrong.score == 0.0


def test_tool_specs_follow_the_rft_validator() -> None:
    assert (
        validate_record({"messages": [{"role": "user", "content": "x"}], "tools": list(TOOLS.values())}) == []
    )


def test_prepare_data_takes_the_source(tmp_path: Path) -> None:
    assert (
        main(["prepare-data", "--source", "synthetic-tools", "--input", "150", "--output", str(tmp_path)])
        == 0
    )
    lines = (tmp_path / "train.jsonl").read_text().splitlines()
    assert lines and all("tools" in json.loads(line) for line in lines)


def test_prepare_data_refuses_a_count_that_is_not_a_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["prepare-data", "--source", "synthetic-tools", "--input", "many", "--output", str(tmp_path)])
        == 1
    )
    assert "for --source synthetic-tools, --input is how many" in capsys.readouterr().out
