"""Record rules: the cheap common-case check agrees with the explaining checks for any input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_rft_provider.data import records
from bedrock_rft_provider.data.records import validate_messages, validate_record

roles = st.sampled_from(["system", "user", "assistant", "robot", None, 3])
contents = st.one_of(st.text(max_size=5), st.sampled_from(["", " ", "\n", "ok"]), st.none(), st.integers())
message = st.one_of(
    st.fixed_dictionaries({"role": roles, "content": contents}),
    st.fixed_dictionaries({"content": contents}),
    st.text(max_size=3),
)
messages = st.one_of(st.lists(message, max_size=5), st.none(), st.text(max_size=3))


@given(messages)
def test_fast_path_accepts_only_what_the_full_rules_accept(value: Any) -> None:
    if records._messages_look_valid(value):
        original = records._messages_look_valid
        try:
            records._messages_look_valid = lambda _: False  # type: ignore[assignment]
            assert validate_messages(value) == []
        finally:
            records._messages_look_valid = original


@given(messages)
def test_every_rejection_says_what_is_wrong(value: Any) -> None:
    problems = validate_messages(value)
    assert all(p.startswith("messages") for p in problems)


@pytest.mark.parametrize(
    "record",
    [
        {"messages": [{"role": "system", "content": "Be exact."}, {"role": "user", "content": "2+2?"}]},
        {
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello"},
                {"role": "user", "content": "2+2?"},
            ]
        },
        {
            "id": "a",
            "messages": [{"role": "user", "content": "x"}],
            "reference_answer": {"final_answer": "4"},
        },
        {
            "messages": [{"role": "user", "content": "x"}],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "add",
                        "description": "Add.",
                        "parameters": {"type": "object", "properties": {}},
                    },
                }
            ],
            "extra_field": [1, 2],
        },
    ],
)
def test_valid_records(record: dict[str, Any]) -> None:
    assert validate_record(record) == []
