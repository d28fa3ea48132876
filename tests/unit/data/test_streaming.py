"""The streaming pieces prepare-data's speed rests on give exactly what the simple versions give.

- ``iter_lines`` reads 1 MiB blocks: lines, numbers and oversized-line sizes match a plain split at
  every block boundary, and the blocks it hands to ``on_block`` are the whole input, in order; so do
  the runs of ``iter_line_runs`` (LF-joined lines, or a list when one is oversized) at any block size;
- ``encode_line``: msgspec for strict-JSON records, the stdlib otherwise; always ASCII, always the
  same value back;
- ``splitter`` / ``assign_split``: the documented formula (salted blake2b-64 of the id).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_rft_provider.data import PrepareOptions, prepare_dataset, uris
from bedrock_rft_provider.data.prepare import encode_line
from bedrock_rft_provider.data.split import assign_split, splitter
from bedrock_rft_provider.data.uris import OversizedLine, iter_line_runs, iter_lines

LINE_BYTES = st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"x"))


def _reference(data: bytes, limit: int | None) -> list[tuple[int, bytes | int]]:
    """Lines of ``data`` (LF-split, final line without LF kept); oversized ones as their size."""
    pieces = data.split(b"\n")
    last = pieces.pop()
    out: list[tuple[int, bytes | int]] = []
    for number, piece in enumerate(pieces, start=1):
        out.append((number, piece if limit is None or len(piece) <= limit else len(piece) + 1))
    if last:
        out.append((len(pieces) + 1, last if limit is None or len(last) <= limit else len(last)))
    return out


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(LINE_BYTES, max_size=12),
    final_lf=st.booleans(),
    block=st.integers(1, 9),
    limit=st.one_of(st.none(), st.integers(0, 10)),
)
def test_block_reader_matches_a_plain_split_at_every_boundary(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    *,
    lines: list[bytes],
    final_lf: bool,
    block: int,
    limit: int | None,
) -> None:
    data = b"\n".join(lines) + (b"\n" if final_lf and lines else b"")
    path = tmp_path_factory.mktemp("lines") / "in.jsonl"
    path.write_bytes(data)
    monkeypatch.setattr(uris, "_BLOCK_BYTES", block)
    seen: list[bytes] = []
    got = [
        (number, line.size if isinstance(line, OversizedLine) else line)
        for number, line in iter_lines(str(path), max_line_bytes=limit, on_block=seen.append)
    ]
    assert got == _reference(data, limit)
    assert b"".join(seen) == data


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(LINE_BYTES, max_size=12),
    final_lf=st.booleans(),
    block=st.integers(1, 40),
    limit=st.one_of(st.none(), st.integers(0, 10)),
)
def test_line_runs_are_the_plain_split_at_any_block_size(
    tmp_path_factory: pytest.TempPathFactory,
    *,
    lines: list[bytes],
    final_lf: bool,
    block: int,
    limit: int | None,
) -> None:
    data = b"\n".join(lines) + (b"\n" if final_lf and lines else b"")
    path = tmp_path_factory.mktemp("runs") / "in.jsonl"
    path.write_bytes(data)
    seen: list[bytes] = []
    got: list[tuple[int, bytes | int]] = []
    for first, run in iter_line_runs(
        str(path), max_line_bytes=limit, on_block=seen.append, block_bytes=block
    ):
        assert first == len(got) + 1
        if isinstance(run, bytes):  # a run is joined only when none of its lines is oversized
            got.extend(enumerate(run.split(b"\n"), start=first))
        else:
            got.extend((first + i, x.size if isinstance(x, OversizedLine) else x) for i, x in enumerate(run))
    assert got == _reference(data, limit)
    assert b"".join(seen) == data


def test_a_line_over_the_limit_spanning_many_blocks_is_counted_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"ok\n" + b"y" * 100 + b"\nlast")
    monkeypatch.setattr(uris, "_BLOCK_BYTES", 7)
    got = list(iter_lines(str(path), max_line_bytes=10))
    assert [(n, type(line).__name__, len(line)) for n, line in got] == [
        (1, "bytes", 2),
        (2, "OversizedLine", 0),
        (3, "bytes", 4),
    ]
    assert got[1][1].size == 101  # type: ignore[attr-defined]


FINITE = st.floats(allow_nan=False, allow_infinity=False)  # strict JSON (msgspec-decoded) has no inf
JSON_RECORDS = st.dictionaries(
    st.text(max_size=5), st.none() | st.booleans() | st.integers() | FINITE | st.text(), max_size=5
)


@given(JSON_RECORDS, st.booleans())
def test_encoded_lines_are_ascii_json_of_the_same_record(record: dict[str, Any], strict: bool) -> None:
    line = encode_line(record, strict_json=strict)
    assert line.isascii() and b"\n" not in line and b"\r" not in line
    assert json.loads(line) == record


def test_a_line_separator_in_text_is_escaped_on_both_paths() -> None:
    record = {"id": "a", "text": "one\u2028two\u00e9\U0001f600"}
    for strict in (True, False):
        line = encode_line(record, strict_json=strict)
        assert b"\\u2028" in line and json.loads(line) == record


@given(st.text(min_size=1, max_size=30), st.integers(0, 2**32), st.floats(0, 0.45), st.floats(0, 0.45))
def test_split_is_the_documented_salted_blake2b(record_id: str, seed: int, val: float, test: float) -> None:
    salt = hashlib.blake2b(str(seed).encode(), digest_size=16).digest()
    digest = hashlib.blake2b(record_id.encode(), digest_size=8, salt=salt).digest()
    point = int.from_bytes(digest, "big") / 2**64
    expected = "test" if point < test else "validation" if point < test + val else "train"
    assert splitter(seed, val, test)(record_id) == assign_split(record_id, seed, val, test) == expected


def test_prepare_still_reports_an_unpaired_surrogate_at_its_line(tmp_path: Path) -> None:
    from bedrock_rft_provider.data import DatasetValidationError

    path = tmp_path / "in.jsonl"
    good = '{"id": "a", "messages": [{"role": "user", "content": "hi"}]}'
    path.write_text(good + "\n" + good.replace('"a"', '"b"').replace("hi", "\\ud800 there") + "\n")
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("jsonl", str(path), str(tmp_path / "out"), options=PrepareOptions(min_records=1))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2: messages[0].content holds an unpaired UTF-16 surrogate escape (e.g. \\ud800); "
        "not valid Unicode text"
    ]
