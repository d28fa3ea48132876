"""Dataset inputs from the field: encodings and line endings, typed cells, tool specs, streaming bounds."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bedrock_rft_provider.data import ColumnMapping, DatasetValidationError, PrepareOptions, prepare_dataset
from bedrock_rft_provider.data.records import validate_record
from bedrock_rft_provider.data.uris import MAX_RECORD_BYTES
from bedrock_rft_provider.data.validate import validate_file
from tests.unit.data.helpers import read_jsonl, rft_record

LOOSE = PrepareOptions(min_records=1, val_fraction=0.0, test_fraction=0.0)


def _lines(count: int) -> bytes:
    return b"".join(json.dumps(rft_record(i)).encode() + b"\n" for i in range(count))


def _problems(caught: pytest.ExceptionInfo[DatasetValidationError]) -> list[str]:
    return [str(p) for p in caught.value.problems]


# ---- 4: encodings and line endings ----


def test_prepare_accepts_and_removes_a_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _lines(3))
    result = prepare_dataset("jsonl", str(path), str(tmp_path / "out"), options=LOOSE)
    assert [r["id"] for r in read_jsonl(Path(result.train_uri))] == ["r0", "r1", "r2"]
    assert not Path(result.train_uri).read_bytes().startswith(b"\xef\xbb\xbf")


def test_gsm8k_source_accepts_a_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "gsm.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps({"question": "1+1?", "answer": "2\n#### 2"}).encode() + b"\n"
    )
    result = prepare_dataset("gsm8k", str(path), str(tmp_path / "out"), options=LOOSE)
    assert result.counts["train"] == 1


def test_validate_names_the_bom_as_the_cause(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _lines(3))
    report = validate_file(str(path), min_records=1)
    assert not report.ok
    assert [str(p) for p in report.problems] == [
        f"{path}:1: file starts with a UTF-8 byte order mark (BOM); "
        "Bedrock's handling of it is undocumented: "
        "save the file as UTF-8 without BOM (prepare-data removes it)"
    ]


@pytest.mark.parametrize(
    ("prefix", "encoding"),
    [(b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"), (b"\xff\xfe\x00\x00", "UTF-32")],
)
@pytest.mark.parametrize("source", ["jsonl", "csv"])
def test_wide_encodings_are_named(tmp_path: Path, prefix: bytes, encoding: str, source: str) -> None:
    path = tmp_path / f"in.{source}"
    path.write_bytes(prefix + "question\nhi\n".encode("utf-16-le"))
    mapping = ColumnMapping(prompt_field="question") if source == "csv" else None
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset(source, str(path), str(tmp_path / "out"), options=LOOSE, mapping=mapping)
    assert _problems(caught) == [f"{path}:1: file is {encoding} encoded (byte order mark); expected UTF-8"]
    assert not (tmp_path / "out").exists()


def test_jsonl_with_cr_only_line_endings_names_the_cause(tmp_path: Path) -> None:
    path = tmp_path / "mac.jsonl"
    path.write_bytes(_lines(3).replace(b"\n", b"\r"))
    report = validate_file(str(path), min_records=1)
    assert "CR-only line endings" in str(report.problems[0]) and str(report.problems[0]).startswith(
        f"{path}:1:"
    )


def test_jsonl_with_crlf_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "dos.jsonl"
    path.write_bytes(_lines(3).replace(b"\n", b"\r\n"))
    assert validate_file(str(path), min_records=1).ok


@pytest.mark.parametrize("newline", [b"\r", b"\r\n", b"\n"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_csv_line_endings_and_bom(tmp_path: Path, newline: bytes, bom: bytes) -> None:
    rows = [b"question,answer", b"What is 2+2?,4", b'"Multi' + newline + b'line?",5', b"Last one?,6"]
    path = tmp_path / "q.csv"
    path.write_bytes(bom + newline.join(rows) + newline)
    mapping = ColumnMapping(prompt_field="question", reference_answer_field="answer")
    result = prepare_dataset("csv", str(path), str(tmp_path / "out"), options=LOOSE, mapping=mapping)
    records = read_jsonl(Path(result.train_uri))
    assert sorted(r["reference_answer"] for r in records) == ["4", "5", "6"]
    assert any(r["messages"][0]["content"] == "Multi" + newline.decode() + "line?" for r in records)


def test_csv_cr_only_problem_rows_keep_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(b"question,answer\rok?,1\r,2\r")
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("csv", str(path), str(tmp_path / "out"), options=LOOSE,
                        mapping=ColumnMapping(prompt_field="question"))  # fmt: skip
    assert _problems(caught) == [f'{path}:3: column "question" is empty; the prompt needs it']


def test_csv_malformed_header_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(b'"' + b"q" * (MAX_RECORD_BYTES + 1) + b'",answer\n"x",1\n')  # over the cell limit
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("csv", str(path), str(tmp_path / "out"), options=LOOSE,
                        mapping=ColumnMapping(prompt_field="question"))  # fmt: skip
    assert _problems(caught)[0].startswith(f"{path}:1: malformed CSV header:")


# ---- 5: typed cells ----


def _parquet(tmp_path: Path, columns: dict[str, list[Any]]) -> Path:
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table(columns), path)
    return path


def test_parquet_messages_list_becomes_the_prompt_messages(tmp_path: Path) -> None:
    messages = [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}]]
    path = _parquet(tmp_path, {"prompt": messages, "answer": ["4"]})
    mapping = ColumnMapping(prompt_field="prompt", reference_answer_field="answer")
    result = prepare_dataset("parquet", str(path), str(tmp_path / "out"), options=LOOSE, mapping=mapping)
    (record,) = read_jsonl(Path(result.train_uri))
    assert record["messages"] == messages[0]


@pytest.mark.parametrize(
    ("columns", "mapping", "message"),
    [
        ({"prompt": [["a", "b"]]}, ColumnMapping(prompt_field="prompt"),
         'column "prompt" holds a list; expected text or a list of {role, content} messages'),
        ({"prompt": [7]}, ColumnMapping(prompt_field="prompt"),
         'column "prompt" holds a int; expected text or a list of {role, content} messages'),
        ({"q": ["2+2?"], "answer": [["3", "three"]]},
         ColumnMapping(prompt_field="q", reference_answer_field="answer"),
         'column "answer" (reference answer) holds a list; expected text, an object or a number'),
        ({"q": ["2+2?"], "answer": [True]}, ColumnMapping(prompt_field="q", reference_answer_field="answer"),
         'column "answer" (reference answer) holds a boolean; expected text, an object or a number'),
        ({"q": ["2+2?"], "qid": [7.5]}, ColumnMapping(prompt_field="q", id_field="qid"),
         'column "qid" (id) holds a float 7.5; expected text or a whole number'),
        ({"q": ["2+2?"], "qid": [["a"]]}, ColumnMapping(prompt_field="q", id_field="qid"),
         'column "qid" (id) holds a list; expected text or a whole number'),
        ({"a": [["x"]], "b": ["y"]}, ColumnMapping(prompt_template="{a} and {b}"),
         'column "a" holds a list; expected text or a number'),
        ({"q": ["2+2?"], "blob": [b"\x00\x01"]}, ColumnMapping(prompt_field="q"),
         'column "blob" holds bytes; expected text, a number or a JSON value'),
    ],
)  # fmt: skip
def test_mistyped_cells_are_rejected_with_file_row_column(
    tmp_path: Path, columns: dict[str, list[Any]], mapping: ColumnMapping, message: str
) -> None:
    path = _parquet(tmp_path, columns)
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("parquet", str(path), str(tmp_path / "out"), options=LOOSE, mapping=mapping)
    assert _problems(caught) == [f"{path}:1: {message}"]
    assert not (tmp_path / "out").exists()


def test_numeric_cells_are_written_as_decimal_text(tmp_path: Path) -> None:
    path = _parquet(tmp_path, {"q": ["a?", "b?", "c?"], "qid": [7.0, 8.0, None], "answer": [3, 2.5, 1e20],
                               "score": [0.5, float("nan"), 1.0]})  # fmt: skip
    mapping = ColumnMapping(prompt_field="q", reference_answer_field="answer", id_field="qid")
    result = prepare_dataset("parquet", str(path), str(tmp_path / "out"), options=LOOSE, mapping=mapping)
    records = {r["messages"][0]["content"]: r for r in read_jsonl(Path(result.train_uri))}
    assert (records["a?"]["id"], records["a?"]["reference_answer"]) == ("7", "3")
    assert (records["b?"]["id"], records["b?"]["reference_answer"]) == ("8", "2.5")
    assert (
        records["c?"]["id"].startswith("rft-")
        and records["c?"]["reference_answer"] == "100000000000000000000"
    )
    assert records["b?"]["score"] is None  # NaN is not JSON: null


# ---- 6: tool specs, as AWS's Nova RFT validator checks them ----

FUNCTION = {
    "name": "add",
    "description": "Add two numbers.",
    "parameters": {"type": "object", "properties": {}},
}


def _tool(**function: Any) -> dict[str, Any]:
    return {"type": "function", "function": {**FUNCTION, **function}}


def _without(key: str) -> dict[str, Any]:
    return {"type": "function", "function": {k: v for k, v in FUNCTION.items() if k != key}}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tools": []}, "tools is empty; leave it out or give at least one function spec"),
        ({"tools": [_tool(description="")]},
         'tools[0].function.description is ""; expected a non-empty string'),
        ({"tools": [_tool(description="  ")]}, "tools[0].function.description is"),
        ({"tools": [_without("description")]}, "tools[0].function.description is null"),
        ({"tools": [_without("parameters")]},
         "tools[0].function.parameters is null; expected a JSON schema object"),
        ({"tools": [_tool(parameters={"type": "object"})]},
         "tools[0].function.parameters.properties is null"),
        ({"tools": [_tool(parameters={"type": "array", "properties": {}})]},
         'tools[0].function.parameters.type is "array"; expected "object"'),
        ({"tools": [_tool(parameters={"type": "object", "properties": {}, "required": "x"})]},
         "tools[0].function.parameters.required is"),
        ({"tools": [{"function": FUNCTION}]}, "tools[0].type is null; expected function"),
        ({"tools": [_tool(), _tool()]}, 'tools[1].function.name "add" is used by an earlier tool'),
        ({"reference_answer": "   "}, 'reference_answer is "   "; expected a non-empty string or object'),
        ({"reference_answer": {}}, "reference_answer is dict; expected a non-empty string or object"),
    ],
)  # fmt: skip
def test_tool_specs_and_reference_answers_follow_the_nova_validator(
    fields: dict[str, Any], message: str
) -> None:
    problems = validate_record(rft_record(1, **fields))
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_a_complete_tool_spec_is_valid() -> None:
    properties = {"a": {"type": "number"}, "b": {"type": "number"}}
    tool = _tool(parameters={"type": "object", "properties": properties, "required": ["a", "b"]})
    assert validate_record(rft_record(1, tools=[tool])) == []


# ---- 7: bounds checked while streaming ----


def test_synthetic_over_max_records_fails_fast(tmp_path: Path) -> None:
    options = PrepareOptions(min_records=1, max_records=50)
    started = time.monotonic()
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("synthetic", "1000000000", str(tmp_path / "out"), options=options)
    assert time.monotonic() - started < 30  # a safety net: it stops after ~60 records, not 1e9
    (problem,) = _problems(caught)
    assert "training split has more than 50 records" in problem and "stopped reading at line" in problem
    assert not (tmp_path / "out").exists()


def test_jsonl_over_max_records_stops_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(_lines(40) + b"not json\n")  # the bad line is never reached
    report = validate_file(str(path), min_records=1, max_records=10)
    assert [str(p) for p in report.problems] == [
        f"{path}: file has more than 10 records; at most 10 are allowed "
        "(max_records; stopped reading at line 11)"
    ]


@pytest.mark.parametrize("command", ["validate", "prepare"])
def test_oversized_record_is_rejected_at_its_line(tmp_path: Path, command: str) -> None:
    path = tmp_path / "huge.jsonl"
    huge = json.dumps(rft_record(9, messages=[{"role": "user", "content": "x" * 5000}]))
    path.write_bytes(_lines(2) + huge.encode() + b"\n" + json.dumps(rft_record(20)).encode() + b"\n")
    if command == "validate":
        report = validate_file(str(path), min_records=1, max_record_bytes=4096)
        problems = [str(p) for p in report.problems]
    else:
        options = PrepareOptions(min_records=1, max_record_bytes=4096)
        with pytest.raises(DatasetValidationError) as caught:
            prepare_dataset("jsonl", str(path), str(tmp_path / "out"), options=options)
        problems = _problems(caught)
    assert problems == [
        f"{path}:3: record is {len(huge) + 1:,} bytes; at most 4,096 are allowed "
        "(max_record_bytes: a grader Lambda invocation carries at most 6 MB)"
    ]


def test_record_too_large_once_encoded_is_rejected(tmp_path: Path) -> None:
    path = _parquet(tmp_path, {"q": ["short?", "y" * 5000]})
    options = PrepareOptions(min_records=1, max_record_bytes=4096, val_fraction=0.0, test_fraction=0.0)
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("parquet", str(path), str(tmp_path / "out"), options=options,
                        mapping=ColumnMapping(prompt_field="q"))  # fmt: skip
    (problem,) = _problems(caught)
    assert problem.startswith(f"{path}:2: record is ") and "at most 4,096 are allowed" in problem


def test_default_record_limit_is_the_lambda_payload_limit() -> None:
    assert PrepareOptions().max_record_bytes == 6 * 1024 * 1024


def test_validate_data_rejects_a_line_over_the_default_limit_without_reading_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bedrock_rft_provider.cli import main

    path = tmp_path / "big.jsonl"
    prompt = "x" * (6 * 1024 * 1024 + 10)
    with open(path, "wb") as handle:
        handle.write(_lines(2))
        handle.write(
            json.dumps(rft_record(7, messages=[{"role": "user", "content": prompt}])).encode() + b"\n"
        )
    assert main(["validate-data", str(path), "--min-records", "1"]) == 1
    out = capsys.readouterr().out
    assert f"{path}:3: record is " in out and "at most 6,291,456 are allowed (max_record_bytes" in out
