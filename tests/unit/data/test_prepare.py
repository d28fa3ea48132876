"""prepare_dataset end to end on local files: outputs, report, dedupe, ids, atomic replacement."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.data import (
    DatasetValidationError,
    PreparedDataset,
    PrepareOptions,
    prepare_dataset,
    validate_file,
)
from bedrock_rft_provider.data.prepare import dataset_sha256
from bedrock_rft_provider.data.stats import PromptLengthStats, estimate_tokens
from tests.unit.data.helpers import read_jsonl, rft_record, write_jsonl

LOOSE = PrepareOptions(min_records=1)


def _prepare(tmp_path: Path, records: list[Any], **options: Any) -> tuple[PreparedDataset, dict[str, Any]]:
    source = write_jsonl(tmp_path / "input.jsonl", records)
    merged = {"min_records": 1, **options}
    result = prepare_dataset("jsonl", str(source), str(tmp_path / "out"), options=PrepareOptions(**merged))
    return result, json.loads((tmp_path / "out" / "report.json").read_text())


def test_handwritten_rft_fixture_is_valid_and_kept_whole(fixtures_dir: Path, tmp_path: Path) -> None:
    assert validate_file(str(fixtures_dir / "rft_sample.jsonl"), min_records=1).ok
    result = prepare_dataset(
        "jsonl", str(fixtures_dir / "rft_sample.jsonl"), str(tmp_path / "out"), options=LOOSE
    )
    written = [
        r for uri in (result.train_uri, result.validation_uri, result.test_uri) for r in read_jsonl(uri)
    ]
    by_id = {r["id"]: r for r in written}
    assert len(written) == 5
    assert by_id["tools-1"]["tools"][0]["function"]["name"] == "get_weather"
    assert by_id["tools-1"]["difficulty"] == "easy"
    french = "Combien font 7 \u00d7 8 ? R\u00e9pondez en fran\u00e7ais."
    assert by_id["unicode-1"]["messages"][0]["content"] == french
    generated = [i for i in by_id if i.startswith("rft-")]
    assert len(generated) == 1 and len(generated[0]) == len("rft-") + 16


def test_report_counts_hashes_and_files_agree(tmp_path: Path) -> None:
    result, report = _prepare(tmp_path, [rft_record(i) for i in range(300)])
    assert report == result.report
    assert report["counts"]["read"] == 300
    assert sum(report["counts"][s] for s in ("train", "validation", "test")) == 300
    digests = {}
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl"):
        data = (tmp_path / "out" / name).read_bytes()
        digests[name] = hashlib.sha256(data).hexdigest()
        assert report["files"][name]["sha256"] == digests[name]
        assert report["files"][name]["records"] == data.count(b"\n")
    assert report["sha256"] == result.sha256 == dataset_sha256(digests)
    assert (
        report["source"]["fingerprint"]
        == "sha256:" + hashlib.sha256((tmp_path / "input.jsonl").read_bytes()).hexdigest()
    )


def test_same_input_gives_byte_identical_output(tmp_path: Path) -> None:
    records = [rft_record(i) for i in range(50)]
    source = write_jsonl(tmp_path / "input.jsonl", records)
    first = prepare_dataset("jsonl", str(source), str(tmp_path / "a"), options=LOOSE)
    second = prepare_dataset("jsonl", str(source), str(tmp_path / "b"), options=LOOSE)
    assert first.sha256 == second.sha256
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl", "report.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_duplicate_prompts_are_removed_and_reported(tmp_path: Path) -> None:
    records = [rft_record(i) for i in range(5)] + [rft_record(2, id="again-2"), rft_record(3, id="again-3")]
    result, report = _prepare(tmp_path, records)
    assert result.counts["duplicates_removed"] == 2
    assert report["dropped"]["duplicate_prompt"]["count"] == 2
    assert report["dropped"]["duplicate_prompt"]["examples"][0].startswith(f"{tmp_path / 'input.jsonl'}:6: ")
    kept = {
        r["id"] for uri in (result.train_uri, result.validation_uri, result.test_uri) for r in read_jsonl(uri)
    }
    assert kept == {f"r{i}" for i in range(5)}


def test_missing_reference_answer_is_a_warning_by_default(tmp_path: Path) -> None:
    record = rft_record(1)
    del record["reference_answer"]
    _, report = _prepare(tmp_path, [record, rft_record(2)])
    assert report["warnings"]["count"] == 1
    assert "reference_answer is missing" in report["warnings"]["examples"][0]


def test_prompt_length_statistics_and_max_prompt_length_count(tmp_path: Path) -> None:
    records = [
        rft_record(i, messages=[{"role": "user", "content": "x" * (100 * (i + 1))}]) for i in range(10)
    ]
    _, report = _prepare(tmp_path, records, max_prompt_length=200)
    lengths = report["prompt_length"]
    assert lengths["characters"]["min"] == 100 and lengths["characters"]["max"] == 1000
    assert lengths["estimated_tokens"]["max"] == 250
    assert lengths["prompts_over_max_prompt_length"] == 2  # 900 and 1000 characters: 225 and 250 tokens
    assert lengths["recommended_max_prompt_length"] >= 250
    assert "estimate" in lengths["token_estimate"]


def test_length_percentiles_from_histogram() -> None:
    stats = PromptLengthStats()
    for chars in range(1, 101):
        stats.add(chars)
    summary = stats.to_dict()["characters"]
    assert (summary["p50"], summary["p90"], summary["p99"], summary["mean"]) == (50, 90, 99, 50.5)
    assert estimate_tokens(401) == 101


def test_rerun_replaces_existing_output_atomically(tmp_path: Path) -> None:
    _prepare(tmp_path, [rft_record(i) for i in range(20)])
    result, _ = _prepare(tmp_path, [rft_record(i) for i in range(30)])
    assert result.counts["read"] == 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.jsonl", "out"]


def test_invalid_rerun_keeps_the_previous_good_output(tmp_path: Path) -> None:
    _prepare(tmp_path, [rft_record(i) for i in range(20)])
    before = (tmp_path / "out" / "train.jsonl").read_bytes()
    with pytest.raises(DatasetValidationError):
        _prepare(tmp_path, [rft_record(i) for i in range(20)] + ["{"])
    assert (tmp_path / "out" / "train.jsonl").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.jsonl", "out"]


def test_bounds_apply_to_the_training_split(tmp_path: Path) -> None:
    with pytest.raises(DatasetValidationError, match=r"training split has \d+ records; at least 100"):
        _prepare(tmp_path, [rft_record(i) for i in range(110)], min_records=100)


def test_progress_is_reported(tmp_path: Path) -> None:
    seen: list[int] = []
    source = write_jsonl(tmp_path / "in.jsonl", [rft_record(i) for i in range(12_000)])
    prepare_dataset(
        "jsonl",
        str(source),
        str(tmp_path / "out"),
        options=PrepareOptions(max_records=None),
        progress=seen.append,
    )
    assert seen == [5000, 10_000, 12_000]


def test_skip_invalid_drops_bad_records_and_lists_them_in_the_report(tmp_path: Path) -> None:
    records = [rft_record(i) for i in range(10)] + ["{", rft_record(99, messages=[])]
    result, report = _prepare(tmp_path, records, skip_invalid=True, val_fraction=0.0, test_fraction=0.0)
    assert result.counts["train"] == 10 and result.counts["invalid_skipped"] == 2
    assert report["dropped"]["invalid"]["count"] == 2
    source = tmp_path / "input.jsonl"
    assert report["dropped"]["invalid"]["examples"][0].startswith(f"{source}:11: invalid JSON")
    assert (
        report["dropped"]["invalid"]["examples"][1]
        == f"{source}:12: messages is empty; expected at least one user message"
    )


def test_skip_invalid_still_enforces_record_bounds(tmp_path: Path) -> None:
    with pytest.raises(DatasetValidationError, match="at least 5"):
        _prepare(tmp_path, [rft_record(1), "{", "{"], skip_invalid=True, min_records=5)
    assert not (tmp_path / "out").exists()
