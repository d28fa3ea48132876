"""The block path's non-ASCII lines: msgspec's UTF-8 line re-escaped equals the stdlib's line."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_rft_provider.data import PrepareOptions, blockpath, gsm8k, prepare_dataset
from bedrock_rft_provider.data.blockpath import ascii_line
from bedrock_rft_provider.data.split import SPLITS
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


@pytest.mark.parametrize(
    "questions",
    [
        ["caf\u00e9 \x7f", "plain \x7f", "plain"],  # DEL in a non-ASCII line and in an ASCII one
        ["caf\u00e9", "\U0001f600 and \u2028", "plain"],  # non-ASCII lines, no DEL
    ],
    ids=["with-del", "without-del"],
)
def test_a_block_with_non_ascii_lines_writes_what_the_per_record_path_writes(
    questions: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        json.dumps({"id": f"r{i}", "question": f"{questions[i % 3]} {i}?", "answer": f"x\n#### {i}"})
        for i in range(60)
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    options = PrepareOptions(min_records=1, max_records=None, val_fraction=0.3, test_fraction=0.3)
    outputs = {}
    for fast in (False, True):
        monkeypatch.setattr(blockpath, "ENABLED", fast)
        if fast:  # the whole file must go through the block path
            monkeypatch.setattr(gsm8k, "to_rft_record", None)
        prepare_dataset("gsm8k", str(tmp_path / "in.jsonl"), str(tmp_path / f"out-{fast}"), options=options)
        outputs[fast] = [(tmp_path / f"out-{fast}" / f"{s}.jsonl").read_bytes() for s in SPLITS]
    assert outputs[True] == outputs[False]
    assert all(part.isascii() and part.count(b"\n") > 5 for part in outputs[True])
