"""The dataset pipeline on S3 (moto): S3 inputs, content-addressed outputs, rerun no-op, no partial writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from bedrock_rft_provider.data import (
    ColumnMapping,
    DatasetValidationError,
    PrepareOptions,
    prepare_dataset,
    validate_file,
)
from bedrock_rft_provider.data.synthetic import generate

BUCKET = "rft-datasets"
LOOSE = PrepareOptions(min_records=1)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def _put_lines(s3: Any, key: str, lines: list[str]) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=("\n".join(lines) + "\n").encode())
    return f"s3://{BUCKET}/{key}"


def _gsm8k_lines(n: int) -> list[str]:
    return [json.dumps({k: p[k] for k in ("question", "answer")}) for p in generate(n, seed=2)]


def _keys(s3: Any, prefix: str = "") -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def _count_puts(s3: Any) -> list[str]:
    puts: list[str] = []
    s3.meta.events.register("before-call.s3.PutObject", lambda params, **_: puts.append(params["Key"]))
    s3.meta.events.register(
        "before-call.s3.CreateMultipartUpload", lambda params, **_: puts.append(params["Key"])
    )
    return puts


def test_s3_input_to_s3_output_with_content_addressed_keys(s3: Any, tmp_path: Path) -> None:
    source = _put_lines(s3, "raw/gsm8k/train.jsonl", _gsm8k_lines(150))
    result = prepare_dataset("gsm8k", source, f"s3://{BUCKET}/prepared/gsm8k/", options=LOOSE, s3_client=s3)

    prefix = f"prepared/gsm8k/{result.sha256[:16]}"
    assert _keys(s3, "prepared/") == sorted(
        f"{prefix}/{name}" for name in ("report.json", "test.jsonl", "train.jsonl", "validation.jsonl")
    )
    assert result.train_uri == f"s3://{BUCKET}/{prefix}/train.jsonl"
    assert result.report_uri == f"s3://{BUCKET}/{prefix}/report.json"
    assert result.reused is False

    local = prepare_dataset("gsm8k", source, str(tmp_path / "local"), options=LOOSE, s3_client=s3)
    assert local.sha256 == result.sha256
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl"):
        body = s3.get_object(Bucket=BUCKET, Key=f"{prefix}/{name}")
        assert body["Body"].read() == (tmp_path / "local" / name).read_bytes()
        assert body["Metadata"]["sha256"] == result.report["files"][name]["sha256"]
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{prefix}/report.json")["Body"].read())
    assert report["sha256"] == result.sha256
    assert report["source"]["input"] == source


def test_rerun_on_same_input_uploads_nothing(s3: Any) -> None:
    source = _put_lines(s3, "raw/in.jsonl", _gsm8k_lines(40))
    first = prepare_dataset("gsm8k", source, f"s3://{BUCKET}/out", options=LOOSE, s3_client=s3)
    puts = _count_puts(s3)
    second = prepare_dataset("gsm8k", source, f"s3://{BUCKET}/out", options=LOOSE, s3_client=s3)
    assert puts == []
    assert second.reused is True
    assert second.to_dict() == {**first.to_dict(), "reused": True}


def test_new_data_lands_under_a_new_prefix_and_old_outputs_stay(s3: Any) -> None:
    first = prepare_dataset(
        "gsm8k",
        _put_lines(s3, "raw/a.jsonl", _gsm8k_lines(40)),
        f"s3://{BUCKET}/out",
        options=LOOSE,
        s3_client=s3,
    )
    second = prepare_dataset(
        "gsm8k",
        _put_lines(s3, "raw/b.jsonl", _gsm8k_lines(60)),
        f"s3://{BUCKET}/out",
        options=LOOSE,
        s3_client=s3,
    )
    assert first.sha256 != second.sha256
    assert len(_keys(s3, "out/")) == 8
    assert s3.head_object(Bucket=BUCKET, Key=first.train_uri.split(f"{BUCKET}/", 1)[1])


def test_invalid_input_uploads_nothing(s3: Any) -> None:
    source = _put_lines(s3, "raw/bad.jsonl", [*_gsm8k_lines(5), '{"question": "Q"}'])
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("gsm8k", source, f"s3://{BUCKET}/out", options=LOOSE, s3_client=s3)
    assert caught.value.render() == [f"{source}:6: answer is missing or empty; expected the worked solution "
                                     "ending in #### <number>"]  # fmt: skip
    assert _keys(s3, "out/") == []


def test_unreadable_s3_object_is_reported_and_nothing_uploaded(s3: Any) -> None:
    source = f"s3://{BUCKET}/raw/missing.jsonl"
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("jsonl", source, f"s3://{BUCKET}/out", s3_client=s3)
    assert caught.value.render()[0].startswith(f"{source}: cannot read input (NoSuchKey")
    assert _keys(s3, "out/") == []
    with pytest.raises(DatasetValidationError, match="NoSuchBucket"):
        prepare_dataset("jsonl", "s3://no-such-bucket/x.jsonl", f"s3://{BUCKET}/out", s3_client=s3)


def test_conflicting_object_at_content_key_is_never_overwritten(s3: Any) -> None:
    source = _put_lines(s3, "raw/in.jsonl", _gsm8k_lines(30))
    result = prepare_dataset("gsm8k", source, f"s3://{BUCKET}/out", options=LOOSE, s3_client=s3)
    key = result.validation_uri.split(f"{BUCKET}/", 1)[1]
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"tampered\n", Metadata={"sha256": "0" * 64})
    with pytest.raises(DatasetValidationError, match="refusing to overwrite"):
        prepare_dataset("gsm8k", source, f"s3://{BUCKET}/out", options=LOOSE, s3_client=s3)
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"tampered\n"


def test_csv_and_parquet_inputs_from_s3(s3: Any, tmp_path: Path) -> None:
    csv_uri = _put_lines(s3, "raw/q.csv", ["question,answer", "What is 1+1?,2", "What is 2+2?,4"])
    mapping = ColumnMapping(prompt_field="question", reference_answer_field="answer")
    from_csv = prepare_dataset(
        "csv", csv_uri, str(tmp_path / "csv"), options=LOOSE, mapping=mapping, s3_client=s3
    )
    assert from_csv.counts["read"] == 2

    pq.write_table(
        pa.table({"question": ["What is 1+1?", "What is 2+2?"], "answer": ["2", "4"]}), tmp_path / "q.pq"
    )
    s3.upload_file(str(tmp_path / "q.pq"), BUCKET, "raw/q.parquet")
    from_parquet = prepare_dataset(
        "parquet",
        f"s3://{BUCKET}/raw/q.parquet",
        str(tmp_path / "pq"),
        options=LOOSE,
        mapping=mapping,
        s3_client=s3,
    )
    assert from_parquet.sha256 == from_csv.sha256


def test_validate_file_reads_s3(s3: Any) -> None:
    good = [json.dumps({"id": f"x{i}", "messages": [{"role": "user", "content": f"q{i}"}]}) for i in range(3)]
    uri = _put_lines(s3, "ready/train.jsonl", [*good, '{"messages": []}'])
    report = validate_file(uri, min_records=1, s3_client=s3)
    assert [str(p) for p in report.problems] == [
        f"{uri}:4: messages is empty; expected at least one user message"
    ]
