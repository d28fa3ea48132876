"""The Chat Completions runner: the shared loop's guarantees through the real ``openai`` client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai.types.chat.completion_create_params import CompletionCreateParamsBase

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.chat_runner import (
    CHAT_PARAMETERS,
    ChatCompletionsRunner,
    chat_parameters,
    chat_request,
)
from bedrock_rft_provider.evaluation.inference import (
    ConverseRunner,
    InferenceAbortedError,
    InferenceIncompleteError,
)
from bedrock_rft_provider.evaluation.records import EvalRecord, load_responses
from bedrock_rft_provider.evaluation.runner import MAX_REPLY_CHARS

from .fake_chat import FakeChat, error_body
from .fake_runtime import FakeRuntime
from .test_inference import make_records, output_keys

MODEL = "openai.gpt-oss-20b"


def fast_chat(fake: FakeChat, **kwargs: Any) -> ChatCompletionsRunner:
    options: dict[str, Any] = {"concurrency": 8, "base_delay_s": 0.001, "max_delay_s": 0.01, "seed": 1}
    options.update(kwargs)
    return ChatCompletionsRunner(fake.client(), MODEL, **options)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_chat_request_keeps_roles_as_text_and_maps_converse_settings() -> None:
    record = EvalRecord(
        "a",
        [
            {"role": "system", "content": "S"},
            {"role": "user", "content": [{"type": "text", "text": "Q"}]},
            {"role": "tool", "content": "ignored"},
        ],
    )
    params = chat_parameters({"maxTokens": 64, "temperature": 0.0, "topP": 0.9, "stopSequences": ("END",)})
    assert chat_request(record, MODEL, params) == {
        "model": MODEL,
        "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}],
        "max_tokens": 64,
        "temperature": 0.0,
        "top_p": 0.9,
        "stop": ["END"],
    }


def test_every_chat_parameter_is_one_the_openai_client_takes() -> None:
    assert set(CHAT_PARAMETERS) <= set(CompletionCreateParamsBase.__annotations__)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"topK": 5}, "inference_config.topK"),
        ({"stream": True}, "inference_config.stream"),
        ({"maxTokens": 5, "max_tokens": 6}, "inference_config.max_tokens"),
    ],
)
def test_a_setting_chat_completions_does_not_take_is_refused_before_any_call(
    config: dict[str, Any], field: str
) -> None:
    fake = FakeChat()
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        fast_chat(fake, inference_config=config)
    assert not fake.calls


def test_every_prompt_answered_exactly_once_under_latency_and_throttling(tmp_path: Path) -> None:
    records = make_records(120)
    fake = FakeChat(latency_s=0.005, throttle_rate=0.2, seed=3)
    out = tmp_path / "responses.jsonl"
    stats = fast_chat(fake, max_attempts=50, throttle_tolerance=0.1).run(records, out)

    assert sorted(output_keys(out)) == [(r.id, 0) for r in records]
    assert set(fake.answered.values()) == {1}
    # Every 429 reached our limiter: the openai client's own retries are off.
    assert fake.throttled > 0 and stats.throttles == fake.throttled
    assert stats.completed == 120 and stats.unfinished == 0
    assert stats.lowest_concurrency_limit < 8 and fake.max_in_flight <= 8


def test_the_clients_own_retries_are_turned_off(tmp_path: Path) -> None:
    fake = FakeChat(errors={"prompt 0": (503, error_body(503, "busy"))})
    runner = ChatCompletionsRunner(fake.client(max_retries=5), MODEL, max_attempts=3, base_delay_s=0.001)
    with pytest.raises(InferenceIncompleteError, match="1 of 2 request"):
        runner.run(make_records(2), tmp_path / "r.jsonl")
    assert fake.calls["prompt 0"] == 3  # our three attempts, none multiplied by the client


def test_bad_request_is_recorded_and_not_retried(tmp_path: Path) -> None:
    fake = FakeChat(
        errors={"prompt 2": (400, error_body(400, "context too long", "context_length_exceeded"))}
    )
    out = tmp_path / "r.jsonl"
    stats = fast_chat(fake).run(make_records(4), out)
    by_id = {r.id: r for r in load_responses(out)}
    assert by_id["p0002"].response is None and "context_length_exceeded" in (by_id["p0002"].error or "")
    assert fake.calls["prompt 2"] == 1 and stats.errors == 1 and stats.completed == 3


def test_server_errors_are_retried_until_they_pass(tmp_path: Path) -> None:
    class Flaky(FakeChat):
        failures_left = 2

        def handle(self, request: Any) -> Any:
            import httpx2

            if self.failures_left and b"prompt 1" in request.content:
                self.failures_left -= 1
                return httpx2.Response(500, json=error_body(500, "internal"))
            return super().handle(request)

    fake = Flaky()
    stats = fast_chat(fake).run(make_records(3), tmp_path / "r.jsonl")
    assert stats.completed == 3 and stats.retries == 2 and fake.answered["prompt 1"] == 1


def test_unknown_model_stops_the_run(tmp_path: Path) -> None:
    missing = (404, error_body(404, "The model does not exist", "model_not_found"))
    fake = FakeChat(errors={f"prompt {i}": missing for i in range(50)})
    with pytest.raises(InferenceAbortedError, match="404 model_not_found"):
        fast_chat(fake, concurrency=2).run(make_records(50), tmp_path / "r.jsonl")
    assert sum(fake.calls.values()) < 10


@pytest.mark.parametrize("body", ["<html>bad gateway</html>", {"choices": []}, {"choices": "x"}])
def test_a_malformed_answer_is_retried_and_never_recorded(tmp_path: Path, body: Any) -> None:
    fake = FakeChat(errors={"prompt 0": (200, body)})
    out = tmp_path / "r.jsonl"
    with pytest.raises(InferenceIncompleteError, match="1 of 3 request"):
        fast_chat(fake, max_attempts=3).run(make_records(3), out)
    assert sorted(output_keys(out)) == [("p0001", 0), ("p0002", 0)]
    assert fake.calls["prompt 0"] == 3


def test_rerun_resumes_from_the_answers_already_saved(tmp_path: Path) -> None:
    records = make_records(10)
    out = tmp_path / "r.jsonl"
    fast_chat(FakeChat()).run(records[:6], out)
    with out.open("a") as handle:
        handle.write('{"id": "p0006", "sample": 0, "resp')  # a write cut short by a kill
    fake = FakeChat()
    stats = fast_chat(fake).run(records, out)
    assert stats.already_done == 6 and stats.completed == 4
    assert sorted(fake.calls) == ["prompt 6", "prompt 7", "prompt 8", "prompt 9"]
    assert sorted(output_keys(out)) == [(r.id, 0) for r in records]


def test_samples_per_prompt_sends_one_request_per_sample(tmp_path: Path) -> None:
    fake = FakeChat()
    out = tmp_path / "r.jsonl"
    fast_chat(fake, samples_per_prompt=3, inference_config={"temperature": 1.0}).run(make_records(5), out)
    assert sorted(output_keys(out)) == [(f"p{i:04d}", s) for i in range(5) for s in range(3)]
    assert all("n" not in body and body["temperature"] == 1.0 for body in fake.bodies)
    assert set(fake.calls.values()) == {3}


def test_lines_have_the_converse_runners_shape_and_tokens_are_counted(tmp_path: Path) -> None:
    records = make_records(6)
    chat_out, converse_out = tmp_path / "chat.jsonl", tmp_path / "converse.jsonl"
    chat_stats = fast_chat(FakeChat()).run(records, chat_out)
    ConverseRunner(FakeRuntime(), "amazon.nova-2-lite-v1:0", concurrency=4).run(records, converse_out)

    def shape(line: dict[str, Any]) -> tuple[Any, ...]:
        return (
            sorted(line),
            sorted(line["usage"]),
            line["stop_reason"],
            type(line["latency_ms"]),
            line["attempts"],
            line["response"],
        )

    chat_lines = sorted(lines(chat_out), key=lambda line: line["id"])
    converse_lines = sorted(lines(converse_out), key=lambda line: line["id"])
    assert [shape(line) for line in chat_lines] == [shape(line) for line in converse_lines]
    assert chat_stats.input_tokens == sum(line["usage"]["inputTokens"] for line in chat_lines) > 0
    assert chat_stats.output_tokens == sum(line["usage"]["outputTokens"] for line in chat_lines) > 0


def test_reasoning_is_kept_apart_and_a_huge_reply_is_cut(tmp_path: Path) -> None:
    fake = FakeChat(answer=lambda body: "x" * (MAX_REPLY_CHARS + 10), reasoning="I think 4.")
    out = tmp_path / "r.jsonl"
    fast_chat(fake).run(make_records(1), out)
    (line,) = lines(out)
    assert len(line["response"]) == MAX_REPLY_CHARS and line["truncated"] is True
    (response,) = load_responses(out)
    assert response.reasoning == "I think 4." and "I think" not in (response.response or "")
