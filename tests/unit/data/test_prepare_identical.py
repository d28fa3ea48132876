"""``prepare-data --source gsm8k`` output, byte for byte: the block fast path changes speed, nothing else.

Each scenario's outcome (the three split files, report.json, or the error's problem lines, and the
progress calls) is reduced to one sha256. ``GOLDEN`` holds the digests the per-record implementation
gave before the fast path existed (commit e17d50f; the three scenarios with odd lines regenerated when
``1e400`` became a problem at its line instead of an ``Infinity`` in the output, that line's only change);
the fast path must reproduce them, and agree with the per-record path (still used for any block it does
not take) in the same run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from bedrock_rft_provider.data import (
    DatasetValidationError,
    PrepareOptions,
    blockpath,
    gsm8k,
    prepare_dataset,
)
from bedrock_rft_provider.data.records import validate_record
from tests.unit.data.gsm8k_corpus import ODD_LINES, corpus_lines, write_corpus

SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # name: (corpus arguments, PrepareOptions)
    "odd-lines-skipped": ({"count": 6000}, {"skip_invalid": True, "max_records": None}),
    "odd-lines-fail": ({"count": 6000}, {"max_records": None}),
    "stops-at-max-records": ({"count": 6000, "odd": False}, {"skip_invalid": True, "max_records": 3000}),
    "bom-seed-fractions": (
        {"count": 3000, "odd": False, "bom": True, "seed": 3},
        {"skip_invalid": True, "seed": 7, "val_fraction": 0.2, "test_fraction": 0.05},
    ),
    "record-bytes-bound": ({"count": 4000}, {"skip_invalid": True, "max_record_bytes": 700}),
}
GOLDEN: dict[str, str] = {
    "bom-seed-fractions": "90fd2ab8d1c689e609d86d035b734387388dfa2be99f51722bd4988109f6f133",
    "odd-lines-fail": "5f9dfd227eb04a9fdeb0c671675c4026d31bd51621ac620cad60f37ecd8bdfba",
    "odd-lines-skipped": "e45b181dcbdab565bbe911939bc81964ed6d0979c9c4452d42632c6ec535276d",
    "record-bytes-bound": "09a2cd982a805659b3af5b944d88f33142e0d189378ba6836488df535f6ca27c",
    "stops-at-max-records": "ca77f0df502c85c4912fbdb3c666f7894d7f09627c9bd9bc991ff6788421dbe2",
}
GSM8K_GOLDEN: dict[tuple[str, int], str] = {  # (split, seed) with default options otherwise
    ("train", 0): "f17b7a551dd005061171a5bf2efec2515f5d649fd8bc238d3f5c2e9e414e38b9",
    ("train", 5): "d81df04f084acd7ff2722f6c8a6c9e49b13f395d02fe15b28cdf714349ab25a3",
    ("test", 0): "06e23637c081afce73638d3e985c41850890e1040e6863c71d7284564d27395a",
    ("test", 5): "ad1a7d53b53d5cf120ea1e017f7bc4e155c590f8cc39d4d2e3b86d704f795304",
}


def outcome_digest(source: str, input_path: Path, output: Path, options: PrepareOptions) -> str:
    """sha256 over what a run produced: output files and report (input path left out), or problems."""
    calls: list[int] = []
    parts: list[bytes] = []
    try:
        prepare_dataset(source, str(input_path), str(output), options=options, progress=calls.append)
    except DatasetValidationError as exc:
        text = "\n".join(str(p) for p in exc.problems).replace(str(input_path), "INPUT")
        parts.append(f"error {exc.total}\n{text}".encode())
    else:
        for name in ("train.jsonl", "validation.jsonl", "test.jsonl"):
            parts.append((output / name).read_bytes())
        report = json.loads((output / "report.json").read_text())
        report["source"].pop("input")
        parts.append(json.dumps(report, sort_keys=True).replace(str(input_path), "INPUT").encode())
    parts.append(repr(calls).encode())
    return hashlib.sha256(b"\x00".join(parts)).hexdigest()


def _scenario_digest(name: str, tmp_path: Path) -> str:
    corpus, options = SCENARIOS[name]
    corpus = dict(corpus)
    bom = corpus.pop("bom", False)
    path = write_corpus(tmp_path / "input.jsonl", corpus_lines(**corpus), bom=bom)
    merged = {"min_records": 1, **options}
    return outcome_digest("gsm8k", path, tmp_path / "out", PrepareOptions(**merged))


@pytest.mark.parametrize("fast", [True, False], ids=["block-path", "per-record-path"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_gsm8k_outcome_is_what_the_per_record_implementation_gave(
    name: str, fast: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blockpath, "ENABLED", fast)
    assert _scenario_digest(name, tmp_path) == GOLDEN[name]


def test_plain_records_never_take_the_per_record_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The block path really runs: a clean corpus never reaches the per-record converter, and gives
    the same files as the per-record path."""
    repeats = (b'"id": "c-1"', b'"id": "again-')  # the corpus's repeated ids and prompts
    lines = [line for line in corpus_lines(3000, seed=5, odd=False) if not any(r in line for r in repeats)]
    path = write_corpus(tmp_path / "input.jsonl", lines)
    options = PrepareOptions(min_records=1, max_records=None)
    monkeypatch.setattr(blockpath, "ENABLED", False)
    slow = outcome_digest("gsm8k", path, tmp_path / "slow", options)
    monkeypatch.setattr(blockpath, "ENABLED", True)
    monkeypatch.setattr(gsm8k, "to_rft_record", _never)
    assert outcome_digest("gsm8k", path, tmp_path / "fast", options) == slow


def _never(*args: object) -> None:
    raise AssertionError("a plain record took the per-record path")


@pytest.mark.parametrize("seed", [0, 1])
def test_convert_block_gives_to_rft_record_or_declines(seed: int) -> None:
    """Line by line: the record to_rft_record gives, or None for a line it rejects (or that needs
    more than a plain record); a block with any declined line is declined whole."""
    lines = corpus_lines(400, seed=seed)
    for line in lines:
        block = gsm8k.convert_block(line)
        if block is None:
            continue
        expected = gsm8k.to_rft_record(json.loads(line))
        assert msgspec.json.decode(msgspec.json.encode(block.records[0])) == expected
        assert block.ids == [expected["id"]]
        assert block.prompts == [expected["messages"][0]["content"]]
    for odd in ODD_LINES:
        alone = gsm8k.convert_block(odd)
        if not _plain_valid(odd):
            assert alone is None, odd
        assert (gsm8k.convert_block(lines[0] + b"\n" + odd) is None) == (alone is None), odd


def _plain_valid(line: bytes) -> bool:
    try:
        raw = json.loads(line)
        record = gsm8k.to_rft_record(raw)
    except ValueError:
        return False
    return set(raw) <= {"id", "question", "answer"} and not validate_record(record)
