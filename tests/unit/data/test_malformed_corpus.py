"""A corpus of malformed inputs: each fails with a clear ``file:line`` problem and writes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.data import ColumnMapping, DatasetValidationError, PrepareOptions, prepare_dataset
from bedrock_rft_provider.data.uris import MAX_RECORD_BYTES
from tests.unit.data.helpers import rft_record

GOOD = [json.dumps(rft_record(i)) for i in range(2)]  # lines 1-2 are valid; the bad line is line 3
GSM_GOOD = json.dumps({"question": "What is 1 + 1?", "answer": "1+1=2\n#### 2"})


def _with(**fields: Any) -> str:
    return json.dumps(rft_record(99, **fields))


def _messages(*messages: Any) -> str:
    return _with(messages=list(messages))


USER = {"role": "user", "content": "Solve it."}


@dataclass(frozen=True)
class Case:
    lines: list[str | bytes]
    line: int | None
    message: str
    source: str = "jsonl"
    suffix: str = ".jsonl"
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    options: dict[str, Any] = field(default_factory=dict)


CASES: dict[str, Case] = {
    "broken_json": Case([*GOOD, '{"messages": ['], 3, "invalid JSON"),
    "trailing_comma": Case([*GOOD, '{"messages": [],}'], 3, "invalid JSON"),
    "json_array_line": Case([*GOOD, "[1, 2]"], 3, "expected an object"),
    "json_string_line": Case([*GOOD, '"hello"'], 3, "expected an object"),
    "blank_line": Case([GOOD[0], "", GOOD[1]], 2, "blank line"),
    "invalid_utf8": Case([*GOOD, b'{"messages": "\xff\xfe"}'], 3, "not valid UTF-8"),
    "missing_messages": Case([*GOOD, '{"id": "x", "reference_answer": "1"}'], 3, "messages is missing"),
    "messages_not_list": Case([*GOOD, _with(messages="What is 2+2?")], 3, "expected a list"),
    "messages_empty": Case([*GOOD, _with(messages=[])], 3, "messages is empty"),
    "message_not_object": Case([*GOOD, _messages("hi")], 3, "messages[0] is"),
    "wrong_role": Case(
        [*GOOD, _messages({"role": "robot", "content": "x"})], 3, 'messages[0].role is "robot"'
    ),
    "missing_role": Case([*GOOD, _messages({"content": "x"}, USER)], 3, "messages[0].role is null"),
    "empty_content": Case(
        [*GOOD, _messages({"role": "user", "content": ""})], 3, "messages[0].content is empty"
    ),
    "blank_content": Case([*GOOD, _messages({"role": "user", "content": "  \n"})], 3, "content is empty"),
    "null_content": Case([*GOOD, _messages({"role": "user", "content": None})], 3, "content is null"),
    "list_content": Case(
        [*GOOD, _messages({"role": "user", "content": [{"type": "text", "text": "x"}]})], 3, "content is list"
    ),
    "system_not_first": Case(
        [*GOOD, _messages(USER, {"role": "system", "content": "Be brief."}, USER)], 3, "may only come first"
    ),
    "no_user_turn": Case(
        [*GOOD, _messages({"role": "system", "content": "Be brief."})], 3, "no user message"
    ),
    "trailing_assistant_turn": Case(
        [*GOOD, _messages(USER, {"role": "assistant", "content": "4"})], 3, "must end on a user turn"
    ),
    "empty_id": Case([*GOOD, _with(id="")], 3, "id is"),
    "integer_id": Case([*GOOD, _with(id=7)], 3, "id is int"),
    "duplicate_id": Case([*GOOD, _with(id="r0")], 3, 'id "r0" is used by an earlier record'),
    "tools_not_list": Case([*GOOD, _with(tools={"name": "f"})], 3, "tools is dict"),
    "tool_without_function": Case([*GOOD, _with(tools=[{"type": "function"}])], 3, "tools[0].function"),
    "tool_bad_name": Case(
        [*GOOD, _with(tools=[{"type": "function", "function": {"name": "get weather!"}}])], 3, "function.name"
    ),
    "tool_duplicate_names": Case(
        [*GOOD, _with(tools=[{"function": {"name": "f"}}, {"function": {"name": "f"}}])], 3, "must be unique"
    ),
    "tool_parameters_not_object": Case(
        [*GOOD, _with(tools=[{"function": {"name": "f", "parameters": {"type": "array"}}}])], 3, "parameters"
    ),
    "tool_wrong_type": Case(
        [*GOOD, _with(tools=[{"type": "retrieval", "function": {"name": "f"}}])], 3, "type"
    ),
    "null_reference_answer": Case([*GOOD, _with(reference_answer=None)], 3, "reference_answer is null"),
    "empty_reference_answer": Case([*GOOD, _with(reference_answer="")], 3, "reference_answer is"),
    "missing_required_reference_answer": Case(
        [*GOOD, json.dumps({"id": "z", "messages": [USER]})],
        3,
        "reference_answer is missing",
        options={"require_reference_answer": True},
    ),
    "too_few_records": Case(GOOD, None, "at least 5 are required", options={"min_records": 5}),
    "too_many_records": Case(
        [json.dumps(rft_record(i)) for i in range(6)],
        None,
        "at most 2 are allowed",
        options={"max_records": 2},
    ),
    "gsm8k_no_final_marker": Case(
        [GSM_GOOD, json.dumps({"question": "Q?", "answer": "It is 4."})], 2, 'no "#### <number>"', "gsm8k"
    ),
    "gsm8k_non_numeric_final": Case(
        [GSM_GOOD, json.dumps({"question": "Q?", "answer": "x\n#### four"})], 2, "expected a number", "gsm8k"
    ),
    "gsm8k_missing_question": Case(
        [GSM_GOOD, json.dumps({"answer": "#### 4"})], 2, "question is missing", "gsm8k"
    ),
    "csv_mapping_unknown_column": Case(
        ["question,answer", "What is 1+1?,2"],
        1,
        'uses column "prompt", which is not in the data',
        "csv",
        ".csv",
        ColumnMapping(prompt_field="prompt"),
    ),
    "csv_template_unknown_column": Case(
        ["question,answer", "What is 1+1?,2"],
        1,
        'uses column "context"',
        "csv",
        ".csv",
        ColumnMapping(prompt_template="{context}: {question}"),
    ),
    "csv_row_wrong_field_count": Case(
        ["question,answer", "What is 1+1?,2", "What is 2+2?,4,extra"],
        3,
        "row has 3 fields; the header has 2",
        "csv",
        ".csv",
        ColumnMapping(prompt_field="question"),
    ),
    "csv_empty_prompt_cell": Case(
        ["question,answer", "What is 1+1?,2", ",4"],
        3,
        'column "question" is empty',
        "csv",
        ".csv",
        ColumnMapping(prompt_field="question", reference_answer_field="answer"),
    ),
    "csv_empty_reference_cell": Case(
        ["question,answer", "What is 1+1?,2", "What is 2+2?,"],
        3,
        'column "answer" (reference answer) is empty',
        "csv",
        ".csv",
        ColumnMapping(prompt_field="question", reference_answer_field="answer"),
    ),
    "csv_invalid_utf8": Case(
        ["question,answer", "What is 1+1?,2", b"What is \xff?,3"],
        3,
        "line is not valid UTF-8",
        "csv",
        ".csv",
        ColumnMapping(prompt_field="question"),
    ),
    "csv_field_too_large": Case(
        ["question,answer", "What is 1+1?,2", '"' + "x" * (MAX_RECORD_BYTES + 1) + '",3'],
        3,
        "malformed CSV: field larger than field limit",
        "csv",
        ".csv",
        ColumnMapping(prompt_field="question"),
    ),
    "csv_empty_file": Case([], 1, "file is empty", "csv", ".csv", ColumnMapping(prompt_field="question")),
    "csv_no_prompt_mapping": Case(
        ["question,answer", "What is 1+1?,2"],
        1,
        "exactly one of prompt_field or prompt_template",
        "csv",
        ".csv",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_input_reports_file_line_and_writes_nothing(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    input_dir = tmp_path / "in"
    input_dir.mkdir()
    path = input_dir / f"{name}{case.suffix}"
    path.write_bytes(b"".join((ln if isinstance(ln, bytes) else ln.encode()) + b"\n" for ln in case.lines))
    output = tmp_path / "out" / "dataset"
    options = PrepareOptions(**{"min_records": 1, **case.options})

    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset(case.source, str(path), str(output), options=options, mapping=case.mapping)

    prefix = f"{path}:{case.line}: " if case.line else f"{path}: "
    rendered = caught.value.render()
    assert any(line.startswith(prefix) and case.message in line for line in rendered), rendered
    assert not (tmp_path / "out").exists()  # not even the output's parent folder, nor a staging folder


def test_corpus_has_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_missing_input_file_is_reported_and_nothing_written(tmp_path: Path) -> None:
    with pytest.raises(DatasetValidationError, match="cannot read input"):
        prepare_dataset("jsonl", str(tmp_path / "absent.jsonl"), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_all_problems_are_reported_not_just_the_first(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(["{", '{"messages": []}', "[]"]) + "\n")
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("jsonl", str(path), str(tmp_path / "out"), options=PrepareOptions(min_records=1))
    assert [p.line for p in caught.value.problems] == [1, 2, 3]
    assert caught.value.total == 3


def test_error_message_lists_at_most_twenty_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("{\n" * 30)
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("jsonl", str(path), str(tmp_path / "out"), options=PrepareOptions(min_records=1))
    message = str(caught.value)
    assert f"{path}:20: invalid JSON" in message
    assert f"{path}:21:" not in message
    assert "and 10 more" in message


def test_invalid_options_are_rejected_before_reading(tmp_path: Path) -> None:
    with pytest.raises(DatasetValidationError, match="val_fraction \\+ test_fraction"):
        prepare_dataset(
            "jsonl",
            str(tmp_path / "absent.jsonl"),
            str(tmp_path / "out"),
            options=PrepareOptions(val_fraction=0.6, test_fraction=0.5),
        )
    assert not (tmp_path / "out").exists()
