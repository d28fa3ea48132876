"""llm_judge against a Stubber-validated bedrock-runtime client: request shape, parsing, retries."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from bedrock_rft_provider.rewards import make_handler
from bedrock_rft_provider.rewards.judge import JudgeOutputError, grade_tool, llm_judge, parse_judge_score

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def _reply(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 12},
    }


def _expected(stubber: Stubber, text: str) -> None:
    stubber.add_response(
        "converse",
        _reply(text),
        {
            "modelId": MODEL,
            "system": ANY,
            "messages": ANY,
            "inferenceConfig": {"temperature": 0.0, "maxTokens": 512},
        },
    )


def test_judge_scores_and_normalizes(runtime: Any, make_event: Any) -> None:
    client, stubber = runtime
    _expected(stubber, '{"score": 8, "reason": "correct and concise"}')
    reward = llm_judge(MODEL, "Correctness and concision.", client=client)
    [result] = make_handler(reward)([make_event("Paris", "Paris")], None)
    assert result["aggregate_reward_score"] == pytest.approx(0.8)
    assert {"name": "judge_parse_error", "value": 0.0, "type": "Metric"} in result["metrics_list"]


def test_unparseable_judge_output_is_a_clear_metric(runtime: Any, make_event: Any) -> None:
    client, stubber = runtime
    _expected(stubber, "I refuse to grade this.")
    [result] = make_handler(llm_judge(MODEL, "rubric", client=client))([make_event("x")], None)
    assert result["aggregate_reward_score"] == 0.0
    assert {"name": "judge_parse_error", "value": 1.0, "type": "Metric"} in result["metrics_list"]
    assert {"name": "reward_error", "value": 0.0, "type": "Metric"} in result["metrics_list"]


def test_throttling_is_retried_with_backoff(runtime: Any, make_event: Any) -> None:
    client, stubber = runtime
    stubber.add_client_error("converse", "ThrottlingException", "Rate exceeded", 429)
    stubber.add_client_error("converse", "ThrottlingException", "Rate exceeded", 429)
    _expected(stubber, "score: 10")
    sleeps: list[float] = []
    reward = llm_judge(MODEL, "rubric", client=client, sleep=sleeps.append, backoff_s=1.0)
    [result] = make_handler(reward)([make_event("x")], None)
    assert result["aggregate_reward_score"] == 1.0
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0
    assert {"name": "judge_retries", "value": 2.0, "type": "Metric"} in result["metrics_list"]


def test_non_retryable_error_scores_zero_with_reward_error(runtime: Any, make_event: Any) -> None:
    client, stubber = runtime
    stubber.add_client_error("converse", "AccessDeniedException", "no access", 403)
    [result] = make_handler(llm_judge(MODEL, "rubric", client=client, sleep=lambda s: None))(
        [make_event("x")], None
    )
    assert result["aggregate_reward_score"] == 0.0
    assert {"name": "reward_error", "value": 1.0, "type": "Metric"} in result["metrics_list"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [('{"score": 7}', 0.7), ("Score: 10/10", 1.0), ('```json\n{"score": 0, "reason": "wrong"}\n```', 0.0)],
)
def test_parse_judge_score(text: str, expected: float) -> None:
    assert parse_judge_score(text, 0, 10) == pytest.approx(expected)


def test_out_of_range_score_is_rejected() -> None:
    with pytest.raises(JudgeOutputError, match="outside"):
        parse_judge_score('{"score": 11}', 0, 10)


def test_judge_hints_a_thread_pool() -> None:
    assert llm_judge(MODEL, "rubric", client=object()).max_workers == 8  # type: ignore[attr-defined]


def test_tool_mode_forces_a_structured_grade(runtime: Any, make_event: Any) -> None:
    client, stubber = runtime
    reply = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {
                        "toolUse": {
                            "toolUseId": "t1",
                            "name": "record_grade",
                            "input": {"score": 6, "reason": "ok"},
                        }
                    }
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 12},
    }
    stubber.add_response(
        "converse",
        reply,
        {
            "modelId": MODEL,
            "system": ANY,
            "messages": ANY,
            "inferenceConfig": {"temperature": 0.0, "maxTokens": 512},
            "toolConfig": grade_tool(0, 10),
        },
    )
    [result] = make_handler(llm_judge(MODEL, "rubric", client=client, use_tool=True))([make_event("x")], None)
    assert result["aggregate_reward_score"] == pytest.approx(0.6)
