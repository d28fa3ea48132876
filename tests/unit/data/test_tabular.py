"""CSV and Parquet sources with a column mapping (prompt field or template, system prompt, metadata)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bedrock_rft_provider.data import ColumnMapping, DatasetValidationError, PrepareOptions, prepare_dataset
from tests.unit.data.helpers import read_jsonl

LOOSE = PrepareOptions(min_records=1, val_fraction=0.0, test_fraction=0.0)


def test_csv_prompt_field_with_reference_id_and_metadata(fixtures_dir: Path, tmp_path: Path) -> None:
    mapping = ColumnMapping(
        prompt_field="question",
        reference_answer_field="answer",
        id_field="qid",
        system_prompt="Answer briefly.",
    )
    result = prepare_dataset(
        "csv", str(fixtures_dir / "questions.csv"), str(tmp_path / "out"), options=LOOSE, mapping=mapping
    )
    records = read_jsonl(Path(result.train_uri))
    assert [r["id"] for r in records] == ["q1", "q2", "q3"]
    assert records[1]["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "A farmer has 3 fields with 7 cows each.\nHow many cows are there?"},
    ]
    assert records[1]["reference_answer"] == "21"
    assert records[1]["topic"] == "multiplication"  # unmapped columns kept as grader metadata


def test_csv_multiline_record_errors_point_at_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('question,answer\n"line one\nline two",1\n"",2\n')
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset(
            "csv",
            str(path),
            str(tmp_path / "out"),
            options=LOOSE,
            mapping=ColumnMapping(prompt_field="question"),
        )
    assert caught.value.render() == [f'{path}:4: column "question" is empty; the prompt needs it']


def test_csv_prompt_template_and_selected_metadata(fixtures_dir: Path, tmp_path: Path) -> None:
    mapping = ColumnMapping(
        prompt_template="Topic: {topic}\n{question}",
        reference_answer_field="answer",
        metadata_fields=("qid",),
    )
    result = prepare_dataset(
        "csv", str(fixtures_dir / "questions.csv"), str(tmp_path / "out"), options=LOOSE, mapping=mapping
    )
    first = read_jsonl(Path(result.train_uri))[0]
    assert first["messages"][0]["content"] == "Topic: addition\nWhat is 12 + 30?"
    assert first["qid"] == "q1" and "topic" not in first
    assert first["id"].startswith("rft-")


def test_parquet_rows_map_like_csv_and_errors_name_the_row(tmp_path: Path) -> None:
    table = pa.table(
        {
            "prompt": ["What is 2+2?", "What is 3+3?", None],
            "answer": ["4", "6", "8"],
            "level": [1, 2, 3],
        }
    )
    path = tmp_path / "data.parquet"
    pq.write_table(table, path)
    mapping = ColumnMapping(prompt_field="prompt", reference_answer_field="answer")
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("parquet", str(path), str(tmp_path / "out"), options=LOOSE, mapping=mapping)
    assert caught.value.render() == [f'{path}:3: column "prompt" is empty; the prompt needs it']

    pq.write_table(table.slice(0, 2), path)
    result = prepare_dataset("parquet", str(path), str(tmp_path / "out"), options=LOOSE, mapping=mapping)
    records = read_jsonl(Path(result.train_uri))
    assert [(r["messages"][0]["content"], r["reference_answer"], r["level"]) for r in records] == [
        ("What is 2+2?", "4", 1),
        ("What is 3+3?", "6", 2),
    ]


def test_parquet_mapping_checked_against_schema(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"q": ["x"]}), path)
    with pytest.raises(DatasetValidationError, match='uses column "prompt", which is not in the data'):
        prepare_dataset(
            "parquet",
            str(path),
            str(tmp_path / "out"),
            options=LOOSE,
            mapping=ColumnMapping(prompt_field="prompt"),
        )
    assert not (tmp_path / "out").exists()


def test_not_a_parquet_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    path.write_text("not parquet")
    with pytest.raises(DatasetValidationError, match="not a readable Parquet file"):
        prepare_dataset(
            "parquet",
            str(path),
            str(tmp_path / "out"),
            options=LOOSE,
            mapping=ColumnMapping(prompt_field="q"),
        )


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (ColumnMapping(), "exactly one of prompt_field or prompt_template"),
        (ColumnMapping(prompt_field="a", prompt_template="{a}"), "exactly one of"),
        (ColumnMapping(prompt_template="{}"), "placeholder"),
        (ColumnMapping(prompt_template="{a.b}"), "placeholder"),
        (ColumnMapping(prompt_field="a", metadata_fields=("zz",)), 'uses column "zz"'),
    ],
)
def test_bad_mappings_are_explained(mapping: ColumnMapping, message: str) -> None:
    problems = mapping.check(["a", "b"])
    assert problems and message in problems[0]
