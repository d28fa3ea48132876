"""Evaluation of tool calling: tools offered in both APIs' requests, calls kept from both APIs' replies,
and the report's per-argument view."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.validate import validate_parameters

from bedrock_rft_provider.data.toolcalls import generate
from bedrock_rft_provider.evaluation.chat_runner import chat_reply, chat_request
from bedrock_rft_provider.evaluation.inference import converse_request, response_text
from bedrock_rft_provider.evaluation.records import EvalRecord
from bedrock_rft_provider.evaluation.report import render_markdown
from bedrock_rft_provider.evaluation.tool_calls import (
    argument_accuracy,
    html_section,
    markdown_section,
    summary_lines,
)
from bedrock_rft_provider.rewards.builtin import tool_call_match
from bedrock_rft_provider.rewards.contract import grader_sample, parse_sample

RAW = next(iter(generate(1, seed=9)))
RECORD = EvalRecord(RAW["id"], RAW["messages"], RAW["reference_answer"], {}, RAW["tools"])
CALL = RAW["reference_answer"]["tool_calls"][0]
_CONVERSE_INPUT = (
    botocore.session.get_session()
    .get_service_model("bedrock-runtime")
    .operation_model("Converse")
    .input_shape
)


def _score(text: str) -> float:
    result = tool_call_match(parse_sample(grader_sample("s", RAW["messages"], text, RAW["reference_answer"])))
    assert result is not None
    return result.score


def test_converse_requests_offer_the_records_tools_in_the_service_shape() -> None:
    request = converse_request(RECORD, "amazon.nova-2-lite-v1:0")
    validate_parameters(request, _CONVERSE_INPUT)
    names = [t["toolSpec"]["name"] for t in request["toolConfig"]["tools"]]
    assert names == [t["function"]["name"] for t in RAW["tools"]]
    plain = EvalRecord("p", RAW["messages"], RAW["reference_answer"])
    assert "toolConfig" not in converse_request(plain, "amazon.nova-2-lite-v1:0")


def test_a_converse_tool_use_reply_is_kept_as_calls_the_reward_reads() -> None:
    response: dict[str, Any] = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"text": "Calling."},
                    {"toolUse": {"toolUseId": "t", "name": CALL["name"], "input": CALL["arguments"]}},
                ],
            }
        }
    }
    assert _score(response_text(response)) == 1.0
    assert response_text({"output": {"message": {"content": [{"text": "just text"}]}}}) == "just text"


def test_chat_requests_offer_the_tools_and_tool_calls_replies_are_kept_as_written() -> None:
    assert chat_request(RECORD, "openai.gpt-oss-20b")["tools"] == RAW["tools"]
    assert "tools" not in chat_request(EvalRecord("p", RAW["messages"]), "openai.gpt-oss-20b")
    body = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": CALL["name"], "arguments": '{"x": '},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    reply = chat_reply(body)
    assert reply.stop_reason == "tool_use"
    assert 0.0 < _score(reply.text) < 0.5  # the right function, but arguments that are not JSON


def test_the_report_gains_a_tool_call_section_only_for_tool_call_metrics() -> None:
    summary = {
        "n": 4,
        "mean_reward": 0.5,
        "metrics": {"tool_call_arguments": 0.75, "tool_arg.get_weather.city": 0.5, "math_answer": 1.0},
        "baseline": {"metrics": {"tool_arg.get_weather.city": 0.25}},
    }
    assert argument_accuracy(summary) == {"get_weather.city": {"challenger": 0.5, "baseline": 0.25}}
    lines = markdown_section(summary)
    assert "| argument: get_weather.city | 50.0% | 25.0% |" in lines
    assert "| part: arguments | 75.0% | n/a |" in lines
    assert "get_weather.city" in html_section(summary)
    assert "## Tool calls" in render_markdown(summary, [])
    assert markdown_section({"metrics": {"math_answer": 1.0}}) == [] and html_section({}) == ""


def test_the_demo_summary_names_the_parts_and_the_weakest_arguments() -> None:
    summary = {
        "metrics": {
            "tool_call_function": 0.9,
            "tool_arg.a.x": 0.8,
            "tool_arg.b.y": 0.4,
            "tool_arg.c.z": 1.0,
        },
        "baseline": {"metrics": {"tool_arg.b.y": 0.1}},
    }
    parts, weakest = summary_lines(summary, worst=2)
    assert parts == "Tool calls   tuned per part: function 90.0%"
    assert weakest == "Tool calls   weakest arguments: b.y 40.0% (baseline 10.0%), a.x 80.0% (baseline n/a)"
    assert summary_lines({"metrics": {"math_answer": 1.0}}) == []
