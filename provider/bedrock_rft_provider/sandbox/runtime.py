"""Bedrock Runtime emulation: Converse and InvokeModel answered by the base or tuned simulated policy.

SIMULATED answers. Where a Converse request offers tools (``toolConfig``), a call the simulated model
writes comes back as ``toolUse`` blocks with ``stopReason`` "tool_use" (``sandbox/tool_use.py``).
The model is right only about prompts whose reference answer appears in a JSONL
dataset in the sandbox's S3 (training, validation or test splits); for anything else it guesses. At
temperature 0 it answers greedily, so a given seed always gives the same answer.
"""

from __future__ import annotations

import random
import threading
import time
from typing import TYPE_CHECKING, Any

from bedrock_rft_provider.rewards.contract import text_of
from bedrock_rft_provider.sandbox.dataset import last_user_text
from bedrock_rft_provider.sandbox.judge import JUDGE_MODELS, SimulatedJudge, is_judge_request
from bedrock_rft_provider.sandbox.policy import (
    SimulatedPolicy,
    Task,
    prompt_key,
    render,
    stable_seed,
    token_count,
    truncate,
)
from bedrock_rft_provider.sandbox.protocol import ServiceError, validation_error
from bedrock_rft_provider.sandbox.tool_use import converse_tool_use, lift_calls, offered_tools
from bedrock_rft_provider.sandbox.validation import parse_json_body

if TYPE_CHECKING:
    from bedrock_rft_provider.sandbox.control_plane import BedrockControlPlane
    from bedrock_rft_provider.sandbox.deployments import Deployments

DEFAULT_TEMPERATURE = 0.7
SANDBOX_LABEL = "bedrock-rft sandbox: simulated model answer"


class Runtime:
    """Resolves model ids to policies and renders answers in each API's response shape."""

    def __init__(self, plane: BedrockControlPlane, deployments: Deployments) -> None:
        self.plane = plane
        self.deployments = deployments
        # The n-th sampled answer to one prompt from one policy: reproducible whatever order concurrent
        # requests for *other* prompts arrive in (a process-wide counter made evaluations order-dependent).
        self._draws: dict[tuple[int, str], int] = {}
        self._lock = threading.Lock()
        self.judge = SimulatedJudge(plane.config.judge_accuracy, plane.config.seed, self._known_task)

    def _known_task(self, prompt: str) -> Task | None:
        task = self._task(prompt)
        return task if task.answer is not None else None

    def policy_for(self, model_id: str) -> SimulatedPolicy:
        if ":custom-model-deployment/" in model_id:
            return self.deployments.serving_model(model_id).policy
        if ":custom-model/" in model_id:
            raise validation_error(
                f"Invocation of model ID {model_id} with on-demand throughput isn't supported. "
                "Create a custom model deployment and invoke its ARN."
            )
        base = self.plane.known_base_model(model_id)
        if base is None:
            raise validation_error("The provided model identifier is invalid.")
        return self.plane.base_policy(base)

    def _task(self, prompt: str) -> Task:
        task = self.plane.answers.lookup(prompt)
        if task is None:
            self.plane.answers.refresh_from_s3()
            task = self.plane.answers.lookup(prompt)
        return task or Task(prompt_key(prompt), None, True)

    def answer(
        self, model_id: str, messages: list[dict[str, Any]], temperature: float | None, max_tokens: int | None
    ) -> tuple[str, str, int, int]:
        """(text, stop reason, input tokens, output tokens) for a conversation."""
        return self.answer_with(self.policy_for(model_id), messages, temperature, max_tokens)

    def answer_with(
        self,
        policy: SimulatedPolicy,
        messages: list[dict[str, Any]],
        temperature: float | None,
        max_tokens: int | None,
    ) -> tuple[str, str, int, int]:
        """The same for a policy the caller resolved (the OpenAI-compatible API's fine-tuned models)."""
        user_turns = [{"role": m.get("role"), "content": text_of(m.get("content"))} for m in messages]
        prompt = last_user_text(user_turns)
        if not prompt.strip():
            raise validation_error("A conversation must include a user message with text content.")
        task = self._task(prompt)
        temperature = DEFAULT_TEMPERATURE if temperature is None else temperature
        if temperature <= 0:
            action = policy.greedy(task)
            rng = random.Random(stable_seed("greedy", policy.seed, task.key))
        else:
            with self._lock:
                draw = self._draws.get((policy.seed, task.key), 0) + 1
                self._draws[(policy.seed, task.key)] = draw
            rng = random.Random(stable_seed("sample", policy.seed, task.key, draw))
            action = policy.sample(task, rng, temperature)
        text, cut = truncate(render(task, action, rng), max_tokens)
        stop = "max_tokens" if cut else "end_turn"
        input_tokens = sum(token_count(m["content"]) for m in user_turns if m["content"])
        return text, stop, input_tokens, token_count(text)

    def converse(self, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        config = body.get("inferenceConfig") or {}
        messages = body.get("messages") or []
        if not messages:
            raise validation_error("The messages field is required.")
        if is_judge_request(body) and (model_id in JUDGE_MODELS or self.plane.known_base_model(model_id)):
            return self.judge.converse(model_id, body)
        text, stop, n_in, n_out = self.answer(
            model_id, messages, config.get("temperature"), config.get("maxTokens")
        )
        content: list[dict[str, Any]] = [{"text": text}]
        tool_config = body.get("toolConfig")
        calls = (
            lift_calls(text)
            if stop == "end_turn"
            and isinstance(tool_config, dict)
            and offered_tools(tool_config.get("tools"))
            else None
        )
        if calls:
            content, stop = converse_tool_use(calls, (model_id, text)), "tool_use"
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": {"inputTokens": n_in, "outputTokens": n_out, "totalTokens": n_in + n_out},
            "metrics": {"latencyMs": max(1, int((time.monotonic() - started) * 1000))},
            "additionalModelResponseFields": {"sandbox": SANDBOX_LABEL},
        }

    def invoke_model(self, model_id: str, raw_body: bytes) -> dict[str, Any]:
        """InvokeModel for the messages-API shapes (Nova messages-v1, Anthropic messages, OpenAI chat)."""
        try:  # strict JSON, as the model providers parse it: no NaN, bounded nesting, UTF-8
            body = parse_json_body(raw_body or b"{}", what="input")
        except ServiceError as error:
            raise validation_error(
                f"Malformed input request: {error.message.rstrip('.')}, "
                "please reformat your input and try again."
            ) from None
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            raise validation_error(
                "Malformed input request: the bedrock-rft sandbox answers InvokeModel only for the messages "
                "API "
                "shape (a non-empty 'messages' list), please reformat your input and try again."
            )
        if "anthropic_version" in body:
            text, stop, n_in, n_out = self.answer(
                model_id, messages, body.get("temperature"), body.get("max_tokens")
            )
            return {
                "id": f"msg_sandbox_{stable_seed(text) % 10**12}",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn" if stop == "end_turn" else "max_tokens",
                "usage": {"input_tokens": n_in, "output_tokens": n_out},
            }
        nova = (
            "inferenceConfig" in body
            or "schemaVersion" in body
            or any(
                isinstance(m.get("content"), list) and m["content"] and "type" not in m["content"][0]
                for m in messages
            )
        )
        if nova:
            config = body.get("inferenceConfig") or {}
            text, stop, n_in, n_out = self.answer(
                model_id,
                messages,
                config.get("temperature"),
                config.get("maxTokens") or config.get("max_new_tokens"),
            )
            return {
                "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
                "stopReason": stop,
                "usage": {"inputTokens": n_in, "outputTokens": n_out, "totalTokens": n_in + n_out},
            }
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        text, stop, n_in, n_out = self.answer(model_id, messages, body.get("temperature"), max_tokens)
        return {
            "object": "chat.completion",
            "model": model_id,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop" if stop == "end_turn" else "length",
                }
            ],
            "usage": {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out},
        }
