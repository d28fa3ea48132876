"""The text of a message content has one reading, ``rewards.contract.text_of``: text blocks join with no
separator, reasoning and non-text blocks are left out. The reward contract, the judge (its text reply),
the evaluation runner (prompt and reply) and the sandbox all read content through it (issue 11 item 4).
"""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.evaluation.inference import converse_request, response_text
from bedrock_rft_provider.evaluation.records import EvalRecord
from bedrock_rft_provider.rewards.contract import text_of
from bedrock_rft_provider.rewards.judge import reply_text
from bedrock_rft_provider.sandbox.dataset import last_user_text

MIXED: list[tuple[Any, str]] = [
    ("plain string", "plain string"),
    ([{"text": "Half "}, {"text": "and half."}], "Half and half."),
    (["bare ", {"text": "and block"}], "bare and block"),
    (
        [{"type": "text", "text": "What is "}, {"type": "reasoning", "text": "hidden"}, {"text": "2+2?"}],
        "What is 2+2?",
    ),
    ([{"reasoningContent": {"reasoningText": {"text": "thinking"}}}, {"text": "4"}], "4"),
    ([{"type": "thinking", "text": "t"}, {"type": "redacted_thinking", "text": "r"}], ""),
    ([{"image": {"format": "png"}}, {"text": "caption"}, {"document": {"name": "d"}}], "caption"),
    ([{"text": 7}, {"text": None}, {"text": "ok"}, 5, None, ["nested"]], "ok"),
    ({"text": "one block"}, "one block"),
    ([], ""),
    (None, ""),
    (42, ""),
]


@pytest.mark.parametrize(("content", "text"), MIXED)
def test_blocks_join_with_no_separator_and_reasoning_is_left_out(content: Any, text: str) -> None:
    assert text_of(content) == text


@pytest.mark.parametrize(("content", "text"), [c for c in MIXED if isinstance(c[0], list)])
def test_a_converse_reply_and_a_judge_reply_read_the_same_way(content: Any, text: str) -> None:
    reply = {"output": {"message": {"role": "assistant", "content": content}}}
    assert response_text(reply) == text
    assert reply_text(content) == text


@pytest.mark.parametrize(("content", "text"), MIXED)
def test_the_evaluation_prompt_is_sent_as_that_text(content: Any, text: str) -> None:
    record = EvalRecord("r1", [{"role": "system", "content": content}, {"role": "user", "content": content}])
    request = converse_request(record, "amazon.nova-2-lite-v1:0")
    assert request["system"] == [{"text": text}]
    assert request["messages"] == [{"role": "user", "content": [{"text": text}]}]


@pytest.mark.parametrize(("content", "text"), MIXED)
def test_the_sandbox_keys_prompts_by_that_text(content: Any, text: str) -> None:
    messages = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "a"}]
    assert last_user_text([*messages, {"role": "user", "content": content}]) == text
