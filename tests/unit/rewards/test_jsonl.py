"""The one JSON Lines reader (``rewards.jsonl``): values by line number, errors naming ``file:line``,
and the readers built on it (grader events, preflight records, evaluation files, the sandbox's dataset
check) all following its rules (issue 11 item 4)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.records import load_dataset
from bedrock_rft_provider.rewards.jsonl import JsonLineError, json_lines, read_json_lines
from bedrock_rft_provider.rewards.preflight import parse_training_records
from bedrock_rft_provider.rewards.runner import load_events
from bedrock_rft_provider.sandbox.dataset import parse_dataset


def test_values_come_with_their_line_numbers_and_blank_lines_are_skipped() -> None:
    body = b'\xef\xbb\xbf{"a": 1}\n\n  \n[2]\r\n"x\xe2\x80\xa8y"\n'
    assert list(json_lines(body, "f.jsonl")) == [(1, {"a": 1}), (4, [2]), (5, "x\u2028y")]
    assert list(json_lines(body.decode("utf-8"), "f.jsonl")) == [(1, {"a": 1}), (4, [2]), (5, "x\u2028y")]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"{not json}", "not valid JSON (Expecting property name enclosed in double quotes)"),
        (b'{"a": NaN}', "NaN is not valid JSON"),
        (b"[Infinity]", "Infinity is not valid JSON"),
        (b'{"a": "\xff"}', "not valid UTF-8 (byte 8)"),
        (b"[" * 100_000, "JSON nested too deeply"),
        (b'{"a": 1}\r{"b": 2}', "not valid JSON (Extra data)"),  # CR-only line ends: one line
    ],
)
def test_a_bad_line_names_file_and_line(line: bytes, message: str) -> None:
    with pytest.raises(JsonLineError) as caught:
        list(json_lines(b'{"ok": 1}\n' + line + b"\n", "data/f.jsonl"))
    assert caught.value.where == "data/f.jsonl:2"
    assert str(caught.value).startswith("data/f.jsonl:2: ")
    assert message in caught.value.message


def test_on_error_collects_bad_lines_and_keeps_reading() -> None:
    errors: list[JsonLineError] = []
    values = list(json_lines(b"1\nbad\n3\n\xff\n5", "f", on_error=errors.append))
    assert values == [(1, 1), (3, 3), (5, 5)]
    assert [e.where for e in errors] == ["f:2", "f:4"]


def test_read_json_lines_streams_a_file(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2}\n')
    assert [value["a"] for _, value in read_json_lines(path)] == [1, 2]


BAD = b'{"messages": [{"role": "user", "content": "q"}]}\n{"messages": NaN}\n'


def test_every_jsonl_reader_reports_the_same_line(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(BAD)
    expected = f"{path}:2: NaN is not valid JSON"
    with pytest.raises(ValueError, match="^" + re.escape(expected)):
        load_events(path)
    with pytest.raises(ValueError, match="^" + re.escape(expected)):
        parse_training_records(BAD.decode(), str(path))
    with pytest.raises(ConfigError, match="^" + re.escape(expected)):
        load_dataset(path)
    problems = parse_dataset("s3://b/f.jsonl", BAD, min_records=1).problems
    assert problems[0].startswith("f.jsonl:2: NaN is not valid JSON")
