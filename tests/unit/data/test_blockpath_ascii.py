"""The block path's non-ASCII lines: msgspec's UTF-8 line re-escaped equals the stdlib's line."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from bedrock_rft_provider.data.blockpath import ascii_line
from bedrock_rft_provider.data.splitfiles import encode_line

# Any Unicode text msgspec can hold (no lone surrogates), weighted to the awkward characters.
text = st.text(
    st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(["\x7f", "\u2028", "\u00e9", "\U0001f600", '"', "\\", "\n", "\x00", "\x1f"]),
    )
)


@given(text, text, text)
def test_non_ascii_record_lines_equal_the_stdlib_encoding(record_id: str, content: str, steps: str) -> None:
    record = {
        "id": record_id,
        "messages": [{"role": "user", "content": content}],
        "reference_answer": {"final_answer": "12", "steps": steps},
    }
    assert ascii_line(msgspec.json.encode(record)) == encode_line(record, strict_json=False)
