"""GSM8K conversion: real data and hand-written fixtures validate, answers match the #### number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bedrock_rft_provider.data import (
    INSTRUCTION,
    PrepareOptions,
    prepare_dataset,
    to_rft_record,
    validate_file,
)
from bedrock_rft_provider.data.gsm8k import split_answer, strip_calculator_notes
from bedrock_rft_provider.data.records import validate_record
from tests.unit.data.helpers import read_jsonl


def _final_after_hashes(answer: str) -> str:
    return answer.rsplit("####", 1)[1].strip().replace(",", "").lstrip("$")


@pytest.mark.gsm8k
@pytest.mark.parametrize("split", ["train", "test"])
def test_every_real_gsm8k_record_converts_validates_and_keeps_its_answer(gsm8k_dir: Path, split: str) -> None:
    ids = set()
    lines = (gsm8k_dir / f"{split}.jsonl").read_text().splitlines()
    for line_no, line in enumerate(lines, start=1):
        raw = json.loads(line)
        record = to_rft_record(raw)
        assert validate_record(record, require_reference_answer=True) == [], f"{split}.jsonl:{line_no}"
        assert record["reference_answer"]["final_answer"] == _final_after_hashes(raw["answer"])
        assert "<<" not in record["reference_answer"]["steps"]
        assert "####" not in record["reference_answer"]["steps"]
        assert record["messages"][0]["content"] == raw["question"].strip() + INSTRUCTION
        ids.add(record["id"])
    assert len(ids) == len(lines)


@pytest.mark.gsm8k
def test_prepared_real_gsm8k_files_pass_validate_data(gsm8k_dir: Path, tmp_path: Path) -> None:
    result = prepare_dataset("gsm8k", str(gsm8k_dir / "train.jsonl"), str(tmp_path / "out"))
    assert result.counts["read"] == 7473
    for uri in (result.train_uri, result.validation_uri, result.test_uri):
        report = validate_file(uri, min_records=1, require_reference_answer=True)
        assert report.ok, report.problems[:3]
    answers = {
        json.loads(line)["question"].strip(): _final_after_hashes(json.loads(line)["answer"])
        for line in (gsm8k_dir / "train.jsonl").read_text().splitlines()
    }
    for record in read_jsonl(Path(result.train_uri)):
        question = record["messages"][0]["content"].removesuffix(INSTRUCTION)
        assert record["reference_answer"]["final_answer"] == answers[question]


def test_handwritten_fixture_converts_with_expected_answers(fixtures_dir: Path) -> None:
    raws = read_jsonl(fixtures_dir / "gsm8k_sample.jsonl")
    records = [to_rft_record(raw) for raw in raws]
    assert [r["reference_answer"]["final_answer"] for r in records] == ["72", "3600", "-7", "2.25", "42"]
    assert all(validate_record(r, require_reference_answer=True) == [] for r in records)
    assert records[0]["reference_answer"]["steps"] == (
        "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May."
    )
    assert records[3]["id"] == "custom-7"
    assert records[3]["source"] == "handwritten"  # extra raw fields stay as grader metadata
    assert records[4]["messages"][0]["content"].startswith("What is 6 times 7?\n\n")


def test_id_is_a_stable_hash_of_the_question() -> None:
    raw = {"question": "What is 1 + 1?", "answer": "1+1=2\n#### 2"}
    first, second = to_rft_record(raw), to_rft_record(dict(raw, answer="Two.\n#### 2"))
    assert first["id"] == second["id"]
    assert first["id"].startswith("gsm8k-") and len(first["id"]) == len("gsm8k-") + 16
    assert to_rft_record({**raw, "question": "What is 2 + 2?"})["id"] != first["id"]


def test_instruction_asks_for_the_hash_final_line() -> None:
    assert "#### <number>" in INSTRUCTION


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("a\n#### 72", ("a", "72")),
        ("x #### y\n#### 1,234", ("x #### y", "1234")),
        ("#### -3", ("", "-3")),
        ("steps\n#### $5", ("steps", "5")),
        ("s\n#### 0.5", ("s", "0.5")),
    ],
)
def test_split_answer_takes_the_last_hash_number(answer: str, expected: tuple[str, str]) -> None:
    assert split_answer(answer) == expected


@pytest.mark.parametrize("answer", ["no marker 72", "#### seventy", "#### ", "#### 7 apples"])
def test_split_answer_rejects_non_numeric_finals(answer: str) -> None:
    with pytest.raises(ValueError, match="####"):
        split_answer(answer)


def test_calculator_notes_are_stripped_everywhere() -> None:
    assert strip_calculator_notes("a <<1+1=2>>2 and <<2*3=6>>6") == "a 2 and 6"


def test_synthetic_source_runs_through_the_gsm8k_converter(tmp_path: Path) -> None:
    result = prepare_dataset(
        "synthetic", "150", str(tmp_path / "out"), options=PrepareOptions(seed=3, min_records=50)
    )
    records = read_jsonl(Path(result.train_uri))
    assert sum(result.counts[s] for s in ("train", "validation", "test")) == 150
    assert all(r["id"].startswith("synthetic-3-") for r in records)
    assert all(r["messages"][0]["content"].endswith(INSTRUCTION) for r in records)
