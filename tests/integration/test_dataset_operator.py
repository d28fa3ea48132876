"""BedrockRFTDatasetOperator: S3 via the hook, the Asset event, failures listing source:line problems."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import Asset
from airflow.sdk.execution_time.context import OutletEventAccessors
from moto import mock_aws

from bedrock_rft_provider.data.synthetic import generate
from bedrock_rft_provider.operators.dataset import BedrockRFTDatasetOperator, training_data_asset
from support.airflow_compat import dagbag_for_test

BUCKET = "rft-operator-data"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def _context() -> dict[str, Any]:
    return {"outlet_events": OutletEventAccessors()}


def _upload_gsm8k(s3: Any, key: str, n: int, extra_lines: tuple[str, ...] = ()) -> str:
    lines = [json.dumps({"question": p["question"], "answer": p["answer"]}) for p in generate(n, seed=8)]
    s3.put_object(Bucket=BUCKET, Key=key, Body=("\n".join([*lines, *extra_lines]) + "\n").encode())
    return f"s3://{BUCKET}/{key}"


def test_execute_uploads_and_returns_uris_and_emits_the_asset_event(s3: Any) -> None:
    source = _upload_gsm8k(s3, "raw/2026-11-25.jsonl", 200)
    operator = BedrockRFTDatasetOperator(
        task_id="prepare", source="gsm8k", input_uri=source, output_uri=f"s3://{BUCKET}/rft/gsm8k/"
    )
    context = _context()
    result = operator.execute(context)  # type: ignore[arg-type]

    assert set(result) == {
        "train_uri",
        "validation_uri",
        "test_uri",
        "report_uri",
        "sha256",
        "counts",
        "reused",
    }
    assert result["train_uri"] == f"s3://{BUCKET}/rft/gsm8k/{result['sha256'][:16]}/train.jsonl"
    assert sum(result["counts"][s] for s in ("train", "validation", "test")) == 200
    body = s3.get_object(Bucket=BUCKET, Key=result["train_uri"].split(f"{BUCKET}/", 1)[1])["Body"].read()
    assert body.count(b"\n") == result["counts"]["train"]

    assert operator.outlets == [Asset(uri=f"s3://{BUCKET}/rft/gsm8k")]
    event = context["outlet_events"][operator.asset]
    assert event.extra["sha256"] == result["sha256"]
    assert event.extra["train_uri"] == result["train_uri"]
    assert event.extra["counts"]["train"] == result["counts"]["train"]
    assert json.loads(json.dumps(event.extra)) == event.extra  # JSON-serializable for the metadata DB


def test_retry_is_a_no_op(s3: Any) -> None:
    source = _upload_gsm8k(s3, "raw/in.jsonl", 150)
    kwargs = {"source": "gsm8k", "input_uri": source, "output_uri": f"s3://{BUCKET}/rft"}
    first = BedrockRFTDatasetOperator(task_id="a", **kwargs).execute(_context())  # type: ignore[arg-type]
    second = BedrockRFTDatasetOperator(task_id="a", **kwargs).execute(_context())  # type: ignore[arg-type]
    assert second == {**first, "reused": True}
    assert first["reused"] is False


def test_invalid_data_fails_without_retry_listing_first_twenty_problems(s3: Any) -> None:
    bad = tuple('{"question": "broken"' for _ in range(25))
    source = _upload_gsm8k(s3, "raw/bad.jsonl", 120, bad)
    operator = BedrockRFTDatasetOperator(
        task_id="prepare", source="gsm8k", input_uri=source, output_uri=f"s3://{BUCKET}/rft"
    )
    with pytest.raises(AirflowFailException) as caught:
        operator.execute(_context())  # type: ignore[arg-type]
    message = str(caught.value)
    assert f"{source}:121: invalid JSON" in message
    assert f"{source}:140: invalid JSON" in message
    assert f"{source}:141:" not in message
    assert "and 5 more" in message
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="rft").get("KeyCount") == 0


def test_local_output_and_synthetic_source(tmp_path: Path) -> None:
    operator = BedrockRFTDatasetOperator(
        task_id="prepare", source="synthetic", input_uri="300", output_uri=str(tmp_path / "out"), seed=4
    )
    result = operator.execute(_context())  # type: ignore[arg-type]
    assert result["train_uri"] == str(tmp_path / "out" / "train.jsonl")
    assert operator.asset == Asset(uri=(tmp_path / "out").as_uri())


@pytest.mark.parametrize(
    ("output_uri", "expected"),
    [
        ("s3://b/rft/{{ ds }}/", "s3://b/rft"),
        ("s3://b/rft/run-{{ ds_nodash }}", "s3://b/rft"),
        ("s3://b/{{ ds }}", "s3://b/"),
        ("s3://{{ var.value.bucket }}/rft", "bedrock-rft://training-data/prepare"),
    ],
)
def test_default_asset_is_the_fixed_prefix_of_the_output(output_uri: str, expected: str) -> None:
    assert training_data_asset(output_uri, "prepare").uri == expected


def test_user_outlets_and_asset_are_kept() -> None:
    mine = Asset(uri="s3://b/other")
    chosen = Asset(name="gsm8k-training-data", uri="s3://b/rft")
    operator = BedrockRFTDatasetOperator(
        task_id="p",
        source="jsonl",
        input_uri="x",
        output_uri="s3://b/rft/{{ ds }}",
        asset=chosen,
        outlets=[mine],
    )
    assert operator.outlets == [mine, chosen]
    assert {"input_uri", "output_uri", "source", "aws_conn_id"} <= set(operator.template_fields)


DAG_SOURCE = """
from __future__ import annotations

from airflow.sdk import DAG

from bedrock_rft_provider.operators.dataset import BedrockRFTDatasetOperator

with DAG(dag_id="rft_dataset_smoke", schedule=None, catchup=False) as dag:
    BedrockRFTDatasetOperator(
        task_id="prepare",
        source="synthetic",
        input_uri="{{ params.records }}",
        output_uri="s3://BUCKET/datasets/{{ ds }}/",
        params={"records": 150},
    )
""".replace("BUCKET", BUCKET)


def test_dag_test_prepares_uploads_and_records_the_asset_event(
    airflow_db: Path, airflow_home: Path, moto_server: str, aws_conn_to: Callable[[str], None]
) -> None:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState

    aws_conn_to(moto_server)
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    dag_file = airflow_home / "dags" / "rft_dataset_smoke.py"
    dag_file.write_text(DAG_SOURCE)
    try:
        dagbag = dagbag_for_test(str(dag_file))
        assert dagbag.import_errors == {}
        run = dagbag.get_dag("rft_dataset_smoke").test()
        assert run.state == DagRunState.SUCCESS
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="datasets/")["Contents"]]
        assert len(keys) == 4 and all(k.startswith(f"datasets/{run.logical_date:%Y-%m-%d}/") for k in keys)
        with create_session() as session:
            asset = session.query(AssetModel).filter(AssetModel.uri == f"s3://{BUCKET}/datasets").one()
            events = session.query(AssetEvent).filter(AssetEvent.asset_id == asset.id).all()
            assert len(events) == 1
            assert (
                events[0].extra["train_uri"]
                == f"s3://{BUCKET}/{next(k for k in keys if k.endswith('train.jsonl'))}"
            )
    finally:
        dag_file.unlink(missing_ok=True)
        shutil.rmtree(airflow_home / "dags" / "__pycache__", ignore_errors=True)
