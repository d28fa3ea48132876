"""Tool calls from the sandbox's runtime: Converse ``toolUse`` and Chat Completions ``tool_calls`` when a
request offers tools, text otherwise; every answer checked against the botocore / openai shapes."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import openai
import pytest
from botocore.config import Config
from botocore.validate import validate_parameters
from openai.types.chat import ChatCompletion

from bedrock_rft_provider.data.toolcalls import generate
from bedrock_rft_provider.rewards.builtin import tool_call_match
from bedrock_rft_provider.rewards.contract import grader_sample, parse_sample
from bedrock_rft_provider.sandbox.dataset import grader_metadata
from bedrock_rft_provider.sandbox.server import Sandbox
from unit.sandbox.mantle_helpers import MODEL, openai_client
from unit.sandbox.sandbox_helpers import jsonl, unique

pytestmark = pytest.mark.integration

BASE = "amazon.nova-2-lite-v1:0"
RECORDS = list(generate(24, seed=41))
_CONVERSE_OUTPUT = (
    botocore.session.get_session()
    .get_service_model("bedrock-runtime")
    .operation_model("Converse")
    .output_shape
)


@pytest.fixture(scope="module")
def known(bedrock_rft_sandbox: Sandbox) -> list[dict[str, Any]]:
    """The tool records in the sandbox's S3, so that its simulated model knows their expected calls."""
    s3 = bedrock_rft_sandbox.client("s3")
    bucket = unique("tool-calls")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="tools/test.jsonl", Body=jsonl(RECORDS))
    return RECORDS


def _tool_config(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "tools": [
            {
                "toolSpec": {
                    "name": t["function"]["name"],
                    "description": t["function"]["description"],
                    "inputSchema": {"json": t["function"]["parameters"]},
                }
            }
            for t in record["tools"]
        ]
    }


def _converse(runtime: Any, record: dict[str, Any], tools: bool) -> dict[str, Any]:
    request: dict[str, Any] = {
        "modelId": BASE,
        "system": [{"text": record["messages"][0]["content"]}],
        "messages": [{"role": "user", "content": [{"text": record["messages"][1]["content"]}]}],
        "inferenceConfig": {"temperature": 1.0},
    }
    if tools:
        request["toolConfig"] = _tool_config(record)
    answer = runtime.converse(**request)
    answer.pop("ResponseMetadata")
    validate_parameters(answer, _CONVERSE_OUTPUT)
    return answer


def _score(record: dict[str, Any], turn: dict[str, Any]) -> float:
    sample = grader_sample("s", record["messages"], "", metadata=grader_metadata(record))
    sample["messages"][-1] = turn
    result = tool_call_match(parse_sample(sample))
    assert result is not None
    return result.score


def test_converse_with_tools_answers_tool_use_blocks_the_reward_reads(
    bedrock_rft_sandbox: Sandbox, known: list[dict[str, Any]]
) -> None:
    runtime = bedrock_rft_sandbox.client("bedrock-runtime", config=Config(retries={"max_attempts": 1}))
    answers = [(record, _converse(runtime, record, tools=True)) for record in known for _ in range(2)]
    calls = [(r, a) for r, a in answers if a["stopReason"] == "tool_use"]
    texts = [(r, a) for r, a in answers if a["stopReason"] == "end_turn"]
    assert calls and texts  # the simulated model sometimes calls, sometimes answers in prose
    for record, answer in calls:
        (block,) = answer["output"]["message"]["content"]
        use = block["toolUse"]
        assert use["toolUseId"].startswith("tooluse_") and isinstance(use["input"], dict)
        assert use["name"] in {t["function"]["name"] for t in record["tools"]}
    scores = [_score(r, a["output"]["message"]) for r, a in calls]
    assert max(scores) == 1.0  # a structured right call is paid in full
    assert all(_score(r, a["output"]["message"]) < 1.0 for r, a in texts)


def test_converse_without_tools_answers_text(
    bedrock_rft_sandbox: Sandbox, known: list[dict[str, Any]]
) -> None:
    runtime = bedrock_rft_sandbox.client("bedrock-runtime")
    for record in known[:8]:
        answer = _converse(runtime, record, tools=False)
        assert answer["stopReason"] == "end_turn" and "text" in answer["output"]["message"]["content"][0]


def _chat(client: openai.OpenAI, record: dict[str, Any], **extra: Any) -> ChatCompletion:
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=record["messages"], temperature=1.0, **extra
    )
    return ChatCompletion.model_validate(raw.http_response.json())


def test_chat_with_tools_answers_tool_calls_the_reward_reads(
    bedrock_rft_sandbox: Sandbox, known: list[dict[str, Any]]
) -> None:
    client = openai_client(bedrock_rft_sandbox)
    answers = [(r, _chat(client, r, tools=r["tools"])) for r in known for _ in range(2)]
    calls = [(r, a) for r, a in answers if a.choices[0].finish_reason == "tool_calls"]
    assert calls and len(calls) < len(answers)
    scores = []
    for record, answer in calls:
        message = answer.choices[0].message
        assert message.content is None and message.tool_calls
        for call in message.tool_calls:
            assert call.type == "function" and call.id.startswith("call_")
            assert isinstance(json.loads(call.function.arguments), dict)
        scores.append(_score(record, message.model_dump()))
    assert max(scores) == 1.0


def test_chat_tool_choice_none_answers_text_and_bad_tools_are_refused(
    bedrock_rft_sandbox: Sandbox, known: list[dict[str, Any]]
) -> None:
    client = openai_client(bedrock_rft_sandbox)
    for record in known[:8]:
        answer = _chat(client, record, tools=record["tools"], tool_choice="none")
        assert answer.choices[0].finish_reason == "stop" and not answer.choices[0].message.tool_calls
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.chat.completions.create(
            model=MODEL,
            messages=known[0]["messages"],
            tools=[{"type": "function", "function": {}}],  # type: ignore[list-item]
        )
    assert "tools[0].function.name" in str(excinfo.value)


# -- evaluation: tools offered, calls kept, per-argument view ---------------------------------------


def test_an_evaluation_offers_the_tools_keeps_the_calls_and_reports_each_argument(
    bedrock_rft_sandbox: Sandbox, known: list[dict[str, Any]], tmp_path: Any
) -> None:
    from bedrock_rft_provider.evaluation.inference import ConverseRunner
    from bedrock_rft_provider.evaluation.pipeline import evaluate
    from bedrock_rft_provider.evaluation.records import load_dataset
    from bedrock_rft_provider.evaluation.scoring import handler_grader
    from bedrock_rft_provider.rewards import make_handler

    dataset = tmp_path / "test.jsonl"
    dataset.write_bytes(jsonl(known))
    runtime = bedrock_rft_sandbox.client("bedrock-runtime", config=Config(retries={"max_attempts": 1}))
    runner = ConverseRunner(runtime, BASE, inference_config={"temperature": 1.0}, samples_per_prompt=2)
    runner.run(load_dataset(dataset), tmp_path / "responses.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "responses.jsonl").read_text().splitlines()]
    assert any(line["response"].startswith('{"tool_calls"') for line in lines)
    summary = evaluate(
        dataset_path=dataset,
        responses_path=tmp_path / "responses.jsonl",
        grader=handler_grader(make_handler(tool_call_match)),
        output_dir=tmp_path / "out",
        resamples=200,
    )
    assert 0.0 < summary["mean_reward"] < 1.0
    assert summary["slice_field"] == "category"  # accuracy per function
    city = summary["metrics"]["tool_arg.get_weather.city"]
    assert 0.0 < city < 1.0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Tool calls: accuracy per part and per argument" in report
    assert f"| argument: get_weather.city | {100 * city:.1f}% |" in report
    assert "argument: get_weather.city" in (tmp_path / "out" / "report.html").read_text()
