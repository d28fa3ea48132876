"""The msgspec fast path reads every JSON line exactly as the stdlib decoder does, or steps aside."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_rft_provider.data import DatasetValidationError, PrepareOptions, prepare_dataset
from bedrock_rft_provider.data.decoding import _UNDECODED, fast_decode
from bedrock_rft_provider.data.validate import validate_file

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@given(JSON_VALUES, st.booleans())
def test_any_json_line_decodes_to_what_json_loads_gives(value: Any, ascii_only: bool) -> None:
    line = json.dumps(value, ensure_ascii=ascii_only).encode() + b"\n"
    decoded = fast_decode(line)
    assert decoded is not _UNDECODED
    assert decoded == json.loads(line)
    assert json.dumps(decoded) == json.dumps(json.loads(line))  # same types, same key order


@pytest.mark.parametrize(
    "line",
    [
        b'{"a": NaN}',
        b'{"a": 1e400}',
        b'{"a": "\\ud800"}',
        b'{"a": "\xff"}',
        b'{"a": 1,}',
        b'{"a": "x\x00"}',
        b"[" * 5000 + b"]" * 5000,
        b"",
    ],
    ids=[
        "nan",
        "overflow-to-inf",
        "lone-surrogate",
        "bad-utf8",
        "trailing-comma",
        "control-char",
        "deep",
        "empty",
    ],
)
def test_lines_the_stdlib_reads_differently_or_rejects_take_the_stdlib_path(line: bytes) -> None:
    assert fast_decode(line) is _UNDECODED


@pytest.mark.parametrize("number", ["1e400", "-1E400", "1" + "0" * 400 + ".0"])
def test_a_number_beyond_a_double_is_refused_at_its_line_by_prepare_and_validate(
    number: str, tmp_path: Path
) -> None:
    """It used to decode to inf and be written as ``Infinity``: a split file validate-data refused."""
    lines = [
        '{"question": "Q1?", "answer": "x #### 1"}',
        '{"question": "Q2?", "answer": "x #### 2", "n": ' + number + "}",
        '{"question": "Q3?", "answer": "x #### 3"}',
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("gsm8k", str(source), str(tmp_path / "out"), options=PrepareOptions(min_records=1))
    assert [(p.line, "too large" in p.message) for p in caught.value.problems] == [(2, True)]
    prepared = prepare_dataset(
        "gsm8k",
        str(source),
        str(tmp_path / "skipped"),
        options=PrepareOptions(min_records=1, skip_invalid=True, val_fraction=0, test_fraction=0),
    )
    assert prepared.counts["invalid_skipped"] == 1
    assert b"Infinity" not in (tmp_path / "skipped" / "train.jsonl").read_bytes()
    assert validate_file(prepared.train_uri, min_records=None).ok
    rft = tmp_path / "rft.jsonl"
    rft.write_text('{"messages": [{"role": "user", "content": "hi"}], "n": ' + number + "}\n")
    report = validate_file(str(rft), min_records=None)
    assert [(p.line, "too large" in p.message) for p in report.problems] == [(1, True)]
