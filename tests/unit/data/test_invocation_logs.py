"""RFT from production traffic: invocation-log source and filters, log parsing, preview, CLI (moto S3)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bedrock_rft_provider.cli import main
from bedrock_rft_provider.data.invocation_logs import log_record, preview_invocation_logs, s3_log_objects
from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.invocation_logs import InvocationLogSource
from bedrock_rft_provider.sandbox.invocation_logs import synthetic_invocation_logs, write_invocation_logs

BUCKET = "traffic-logs"
PREFIX = f"s3://{BUCKET}/bedrock"


def _objects(*bodies: bytes) -> list[tuple[str, Any]]:
    return [(f"s3://b/k{i}.json.gz", lambda body=body: body) for i, body in enumerate(bodies)]


def _jsonl(logs: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(log) + "\n" for log in logs).encode()


# -- the source and its filters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "where", "cause"),
    [
        ({"equals": {"app": "a"}, "notEquals": {"b": "c"}}, "request_metadata_filters", "exactly one"),
        ({"equals": {}}, "request_metadata_filters.equals", "exactly one key"),
        ({"equals": {"a": "1", "b": "2"}}, "request_metadata_filters.equals", "has 2 entries"),
        ({"equals": {"app": "bad!value"}}, "request_metadata_filters.equals.app", "0-256"),
        ({"equals": {"": "x"}}, "request_metadata_filters.equals", "1-256"),
        ({"andAll": []}, "request_metadata_filters.andAll", "1 to 16"),
        ({"orAll": [{"equals": {"a": "1"}}] * 17}, "request_metadata_filters.orAll", "1 to 16"),
        (
            {"andAll": [{"contains": {"a": "1"}}]},
            "request_metadata_filters.andAll[0]",
            "equals and/or notEquals",
        ),
        ({"startsWith": {"a": "1"}}, "request_metadata_filters.startsWith", "is not a filter"),
        ("app=a", "request_metadata_filters", "expected an object"),
    ],
)
def test_bad_filters_are_named_before_any_aws_call(filters: Any, where: str, cause: str) -> None:
    with pytest.raises(ConfigError) as raised:
        InvocationLogSource.build(f"{PREFIX}/", filters)
    assert f"invocation_logs.{where}" in str(raised.value) and cause in str(raised.value)


def test_bad_uri_and_flag_are_reported_together() -> None:
    with pytest.raises(ConfigError) as raised:
        InvocationLogSource.build("https://not-s3/logs", None, "yes")
    assert "invocation_logs.s3_uri" in str(raised.value)
    assert "invocation_logs.use_prompt_response" in str(raised.value)


def test_request_shape_is_botocores_invocation_logs_config() -> None:
    from botocore.session import get_session

    filters = {"andAll": [{"equals": {"app": "tutor"}}, {"notEquals": {"tier": "free"}}]}
    config = InvocationLogSource.build(f"{PREFIX}/", filters, True).to_request()
    model = get_session().get_service_model("bedrock")
    shape = model.shape_for("InvocationLogsConfig")
    assert set(config) <= set(shape.members) and set(shape.required_members) <= set(config)
    assert config == {
        "usePromptResponse": True,
        "invocationLogSource": {"s3Uri": f"{PREFIX}/"},
        "requestMetadataFilters": filters,
    }
    assert InvocationLogSource.from_request(config) == InvocationLogSource.build(f"{PREFIX}/", filters, True)


@pytest.mark.parametrize(
    ("filters", "metadata", "selected"),
    [
        (None, {}, True),
        ({"equals": {"app": "tutor"}}, {"app": "tutor"}, True),
        ({"equals": {"app": "tutor"}}, {"app": "chat"}, False),
        ({"equals": {"app": "tutor"}}, None, False),
        ({"notEquals": {"tier": "free"}}, {}, True),  # a missing key is not equal (undocumented)
        ({"notEquals": {"tier": "free"}}, {"tier": "free"}, False),
        (
            {"andAll": [{"equals": {"app": "t"}}, {"notEquals": {"tier": "free"}}]},
            {"app": "t", "tier": "pro"},
            True,
        ),
        (
            {"andAll": [{"equals": {"app": "t"}}, {"notEquals": {"tier": "free"}}]},
            {"app": "t", "tier": "free"},
            False,
        ),
        ({"orAll": [{"equals": {"app": "a"}}, {"equals": {"app": "b"}}]}, {"app": "b"}, True),
        ({"orAll": [{"equals": {"app": "a"}}, {"equals": {"app": "b"}}]}, {"app": "c"}, False),
    ],
)
def test_filters_select_logs_by_request_metadata(filters: Any, metadata: Any, selected: bool) -> None:
    assert InvocationLogSource.build(f"{PREFIX}/", filters).matches(metadata) is selected


# -- one log -> one RFT record ---------------------------------------------------------------------


def test_converse_log_becomes_a_prompt_with_its_metadata() -> None:
    log = synthetic_invocation_logs(1, request_metadata={"app": "tutor"})[0]
    log["input"]["inputBodyJson"]["system"] = [{"text": "Be brief."}]
    record, error = log_record(log)
    assert error is None and record is not None
    assert record["id"] == log["requestId"]
    assert [m["role"] for m in record["messages"]] == ["system", "user"]
    assert record["request_metadata"]["app"] == "tutor"
    assert record["reference_answer"] == log["requestMetadata"]["reference_answer"]


def test_invoke_model_chat_body_with_string_content_is_read() -> None:
    body = {"messages": [{"role": "user", "content": "What is 2+2?"}], "system": "Answer with a number."}
    record, error = log_record({"requestId": "r1", "input": {"inputBodyJson": json.dumps(body)}})
    assert error is None and record is not None
    assert record["messages"] == [
        {"role": "system", "content": "Answer with a number."},
        {"role": "user", "content": "What is 2+2?"},
    ]


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        ({"inputText": "titan style"}, "messages is missing"),
        (
            {"messages": [{"role": "user", "content": [{"image": {"format": "png"}}]}]},
            "non-text block (image)",
        ),
        ({"messages": [{"role": "tool", "content": "x"}]}, "role is 'tool'"),
        ({"messages": [{"role": "user", "content": 42}]}, "is int"),
    ],
)
def test_logs_that_cannot_be_prompts_say_why(body: dict[str, Any], cause: str) -> None:
    record, error = log_record({"input": {"inputBodyJson": body}})
    assert record is None and error is not None and cause in error


# -- preview ---------------------------------------------------------------------------------------


def test_preview_counts_filters_and_names_bad_logs_by_object_and_line() -> None:
    logs = synthetic_invocation_logs(6, request_metadata={"app": "tutor"})
    logs[1]["requestMetadata"]["app"] = "other"  # filtered out
    logs[2]["input"]["inputBodyJson"]["messages"].append({"role": "assistant", "content": [{"text": "x"}]})
    body = _jsonl(logs) + b"{not json\n"
    source = InvocationLogSource.build(f"{PREFIX}/", {"equals": {"app": "tutor"}})
    preview = preview_invocation_logs(source, _objects(gzip.compress(body)), min_records=1)
    assert (preview.objects, preview.logs, preview.matched, preview.prompts) == (1, 7, 5, 4)
    problems = [str(p) for p in preview.problems]
    assert problems[0].startswith("s3://b/k0.json.gz:3: ") and "user" in problems[0]
    assert problems[1].startswith("s3://b/k0.json.gz:7: not valid JSON")
    assert not preview.ok


def test_preview_requires_the_service_minimum_of_prompts() -> None:
    source = InvocationLogSource.build(f"{PREFIX}/")
    preview = preview_invocation_logs(source, _objects(_jsonl(synthetic_invocation_logs(20))))
    assert preview.prompts == 20 and not preview.ok
    assert "at least 100 are required" in str(preview.problems[0])


@pytest.mark.parametrize(
    "layout",
    [
        lambda logs: json.dumps(logs).encode(),  # a JSON array
        lambda logs: json.dumps(logs[0], indent=2).encode(),  # one pretty-printed record
    ],
    ids=["array", "pretty"],
)
def test_other_undocumented_object_layouts_are_read(layout: Any) -> None:
    logs = synthetic_invocation_logs(3)
    preview = preview_invocation_logs(
        InvocationLogSource.build(f"{PREFIX}/"), _objects(layout(logs)), min_records=1
    )
    assert preview.ok and preview.prompts >= 1


def test_a_gzip_bomb_is_not_inflated(monkeypatch: pytest.MonkeyPatch) -> None:
    from bedrock_rft_provider.data import invocation_logs

    monkeypatch.setattr(invocation_logs, "MAX_OBJECT_BYTES", 1024 * 1024)
    bomb = gzip.compress(b"\n" * (16 * 1024 * 1024))
    preview = preview_invocation_logs(InvocationLogSource.build(f"{PREFIX}/"), _objects(bomb), min_records=0)
    assert "decompresses to over" in str(preview.problems[0])


def test_non_log_records_and_large_bodies_are_skipped_and_counted() -> None:
    logs = synthetic_invocation_logs(2)
    logs[0]["input"] = {"inputBodyS3Path": "s3://b/large/1.json"}
    logs.append({"schemaType": "ModelInvocationLogPermissionCheck"})
    preview = preview_invocation_logs(
        InvocationLogSource.build(f"{PREFIX}/"), _objects(_jsonl(logs)), min_records=1
    )
    assert preview.ok and preview.prompts == 1
    assert sum(preview.skipped.values()) == 2


# -- S3 and the CLI --------------------------------------------------------------------------------


@pytest.fixture
def logs_in_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        logs = synthetic_invocation_logs(150, request_metadata={"app": "tutor"})
        logs += synthetic_invocation_logs(30, seed=1, request_metadata={"app": "chat"})
        uri = write_invocation_logs(s3, PREFIX, logs)
        s3.put_object(Bucket=BUCKET, Key="bedrock/AWSLogs/amazon-bedrock-logs-permission-check", Body=b"")
        yield uri


def test_logs_written_like_bedrock_are_listed_from_s3(logs_in_s3: str) -> None:
    assert "/AWSLogs/" in logs_in_s3 and logs_in_s3.endswith("/BedrockModelInvocationLogs/")
    objects = list(s3_log_objects(boto3.client("s3"), logs_in_s3))
    assert len(objects) == 4 and all(uri.endswith(".json.gz") for uri, _ in objects)
    source = InvocationLogSource.build(logs_in_s3, {"equals": {"app": "tutor"}})
    preview = preview_invocation_logs(source, objects)
    assert preview.ok and (preview.logs, preview.prompts) == (180, 150)


def test_cli_preview_exits_0_with_enough_valid_prompts(
    logs_in_s3: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preview-invocation-logs", logs_in_s3, "--equals", "app=tutor"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert "valid; 4 object(s), 180 log(s), 150 selected by the filters, 150 valid prompt(s)" in last


def test_cli_preview_exits_1_when_the_filters_leave_too_few(
    logs_in_s3: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["preview-invocation-logs", logs_in_s3, "--filters", '{"equals": {"app": "chat"}}', "--json"])
        == 1
    )
    report = json.loads(capsys.readouterr().out)
    assert report["prompts"] == 30 and "at least 100 are required" in report["problems"][0]


def test_cli_preview_exits_1_with_one_line_when_the_logs_cannot_be_read(
    logs_in_s3: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = "s3://no-such-log-bucket/bedrock/AWSLogs/"
    assert main(["preview-invocation-logs", missing, "--equals", "app=tutor"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"bedrock-rft preview-invocation-logs: cannot read {missing}: ")
    assert "NoSuchBucket" in captured.err and "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1


# -- the sandbox's service-side checks of invocationLogsConfig -------------------------------------


def _create_job_error(training: dict[str, Any]) -> str:
    from bedrock_rft_provider.sandbox.checks import check_create_job
    from bedrock_rft_provider.sandbox.protocol import ServiceError
    from unit.sandbox.test_checks import VALID

    with pytest.raises(ServiceError) as caught:
        check_create_job({**VALID, "trainingDataConfig": training})
    assert caught.value.code == "ValidationException"
    return str(caught.value)


def test_sandbox_rejects_a_filter_the_service_would_reject() -> None:
    config = {
        "invocationLogSource": {"s3Uri": f"{PREFIX}/"},
        "requestMetadataFilters": {"equals": {"a": "b!"}},
    }
    assert "requestMetadataFilters.equals.a" in _create_job_error({"invocationLogsConfig": config})


def test_sandbox_rejects_both_a_file_and_logs() -> None:
    config = {"invocationLogSource": {"s3Uri": f"{PREFIX}/"}}
    message = _create_job_error({"s3Uri": f"{PREFIX}/train.jsonl", "invocationLogsConfig": config})
    assert "exactly one of s3Uri or invocationLogsConfig" in message


# -- the job request -------------------------------------------------------------------------------

JOB = {
    "job_name": "rft-traffic-1",
    "custom_model_name": "traffic-model-1",
    "base_model_id": "amazon.nova-2-lite-v1:0:256k",
    "role_arn": "arn:aws:iam::123456789012:role/rft",
    "output_data_uri": "s3://out-bucket/rft/",
    "reward_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:g:3",
}


def test_a_job_on_invocation_logs_renders_a_request_botocore_accepts() -> None:
    from botocore.session import get_session
    from botocore.validate import ParamValidator

    from bedrock_rft_provider.jobs.spec import RFTJobSpec

    logs = {"s3_uri": f"{PREFIX}/", "request_metadata_filters": {"equals": {"app": "tutor"}}}
    request = RFTJobSpec.build(**JOB, invocation_logs=logs).to_request()
    assert request["trainingDataConfig"] == {
        "invocationLogsConfig": {
            "usePromptResponse": False,
            "invocationLogSource": {"s3Uri": f"{PREFIX}/"},
            "requestMetadataFilters": {"equals": {"app": "tutor"}},
        }
    }
    shape = (
        get_session().get_service_model("bedrock").operation_model("CreateModelCustomizationJob").input_shape
    )
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize(
    ("training", "cause"),
    [
        (
            {"training_data_uri": "s3://b-1/train.jsonl", "invocation_logs": {"s3_uri": f"{PREFIX}/"}},
            "not both",
        ),
        ({}, "training_data_uri: is required (or give invocation_logs)"),
        ({"invocation_logs": {"s3_uri": f"{PREFIX}/", "filters": {}}}, "unknown key(s) filters"),
    ],
)
def test_a_job_names_exactly_one_training_source(training: dict[str, Any], cause: str) -> None:
    from bedrock_rft_provider.jobs.spec import RFTJobSpec

    with pytest.raises(ConfigError) as raised:
        RFTJobSpec.build(**JOB, **{"training_data_uri": None, **training})
    assert cause in str(raised.value)


def test_open_weight_jobs_refuse_invocation_logs_before_any_call() -> None:
    from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator

    operator = BedrockRFTJobOperator(
        task_id="train",
        base_model_id="openai.gpt-oss-20b",
        role_arn=JOB["role_arn"],
        invocation_logs={"s3_uri": f"{PREFIX}/"},
        output_data_uri=JOB["output_data_uri"],
        reward_lambda_arn=JOB["reward_lambda_arn"],
    )
    with pytest.raises(ConfigError, match="invocation_logs: open-weight models train on a file"):
        operator.execute({})  # type: ignore[arg-type]
