"""The block path's records with non-ASCII text encode to the line the per-record path writes."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_rft_provider.data import PrepareOptions, blockpath, gsm8k, prepare_dataset
from bedrock_rft_provider.data.split import SPLITS
from bedrock_rft_provider.data.splitfiles import encode_line

# Any Unicode text msgspec can hold (no lone surrogates), weighted to the awkward characters.
text = st.text(
    st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(["\x7f", "\u2028", "\u00e9", "\U0001f600", '"', "\\", "\n", "\x00", "\x1f"]),
    )
)


def _block_lines(raws: list[dict[str, str]]) -> bytes:
    """What the block path writes for ``raws``: convert_block's records, one msgspec call."""
    block = gsm8k.convert_block(b"\n".join(json.dumps(raw).encode() for raw in raws))
    assert block is not None
    return msgspec.json.Encoder().encode_lines(block.records)


def _per_record_lines(raws: list[dict[str, str]]) -> bytes:
    return b"".join(encode_line(gsm8k.to_rft_record(raw), strict_json=True) + b"\n" for raw in raws)


@given(st.lists(st.tuples(text, text, text), min_size=1, max_size=5))
def test_any_text_encodes_as_the_per_record_path_writes_it(fields: list[tuple[str, str, str]]) -> None:
    raws = [
        {"id": f"i{record_id}", "question": f"q{question}", "answer": f"{steps}\n#### 12"}
        for record_id, question, steps in fields
    ]
    assert _block_lines(raws) == _per_record_lines(raws)


@pytest.mark.parametrize(
    "question",
    [
        "caf\u00e9 \x7f",  # DEL in a non-ASCII record: escaped
        "plain \x7f",  # DEL in an ASCII record: written raw, as msgspec (and encode_line) writes it
        "\U0001f600 and \u2028",  # astral: a surrogate pair
        'back\\slash \u00ff \u0100 "quoted" \x00',
    ],
)
def test_awkward_text_encodes_as_the_per_record_path_writes_it(question: str) -> None:
    raws = [
        {"id": "r1", "question": question, "answer": "x\n#### 1"},
        {"id": "r2", "question": "plain", "answer": "y\n#### 2"},
        {"id": "r\u00e9", "question": "plain id not", "answer": "z <<1+1=2>>\n#### \u0663"},  # Arabic 3
        {"id": "del\x7f", "question": "caf\u00e9", "answer": "w\n#### 4"},  # DEL beside non-ASCII: escaped
    ]
    assert _block_lines(raws) == _per_record_lines(raws)


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
