"""The msgspec fast path reads every JSON line exactly as the stdlib decoder does, or steps aside."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_rft_provider.data.decoding import _UNDECODED, fast_decode

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
