"""Chat Completions answered by the simulated policies of base, fine-tuned and checkpoint models.

UG ``fine-tuning-openai-apis``: the fine-tuned model (and checkpoints) answer through Chat Completions on
the same endpoint without a deployment step. SIMULATED answers, exactly as Converse on the native path
(``runtime.py``): right only about prompts whose reference answer is in a dataset the sandbox holds (an
uploaded file or a JSONL object in its S3), greedy at temperature 0. With ``tools`` offered (and
``tool_choice`` not "none"), a call the simulated model writes comes back as ``message.tool_calls`` with
``finish_reason`` "tool_calls" (``sandbox/tool_use.py``). Streaming, ``n > 1``, the legacy
``functions`` and the Responses API are not emulated (501, naming what).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bedrock_rft_provider.sandbox.mantle.requests import MODELS
from bedrock_rft_provider.sandbox.mantle.wire import OpenAIError, bad_request, new_suffix, not_found
from bedrock_rft_provider.sandbox.tool_use import chat_tool_calls, lift_calls

if TYPE_CHECKING:
    from bedrock_rft_provider.sandbox.mantle.jobs import FineTuningJobs
    from bedrock_rft_provider.sandbox.policy import SimulatedPolicy
    from bedrock_rft_provider.sandbox.runtime import Runtime

ROLES = ("system", "developer", "user", "assistant", "tool")
NOT_EMULATED_FIELDS = ("functions", "audio", "modalities", "prediction")


def _not_emulated(what: str, param: str) -> OpenAIError:
    return OpenAIError(
        501,
        f"The bedrock-rft sandbox does not emulate {what} in chat completions.",
        type="not_implemented_error",
        param=param,
        code="not_emulated",
        retry=False,
    )


class ChatCompletions:
    """``POST /v1/chat/completions`` for the open-weight base models and this sandbox's tuned models."""

    def __init__(self, runtime: Runtime, jobs: FineTuningJobs) -> None:
        self.runtime = runtime
        self.jobs = jobs

    def policy(self, model: object) -> SimulatedPolicy:
        if not isinstance(model, str) or not model:
            raise bad_request("Missing required parameter: 'model'.", param="model")
        if model in MODELS:
            return self.runtime.plane.base_policy(model)
        tuned = self.jobs.policy_for(model)
        if tuned is None:
            raise not_found(
                f"The model `{model}` does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        return tuned

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        policy = self.policy(body.get("model"))
        messages = _messages(body.get("messages"))
        if body.get("stream"):
            raise _not_emulated("streaming (stream=true)", "stream")
        if body.get("n") not in (None, 1):
            raise _not_emulated(f"n={body.get('n')!r} (only n=1)", "n")
        for name in NOT_EMULATED_FIELDS:
            if body.get(name) is not None:
                raise _not_emulated(f"'{name}'", name)
        temperature = _number(body, "temperature", 0.0, 2.0)
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise bad_request(
                f"Invalid 'max_tokens': {limit!r} must be a positive integer.", param="max_tokens"
            )
        offered = _tools(body.get("tools"), body.get("tool_choice"))
        text, stop, n_in, n_out = self.runtime.answer_with(policy, messages, temperature, limit)
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
        finish = "length" if stop == "max_tokens" else "stop"
        calls = lift_calls(text) if offered and finish == "stop" else None
        if calls:
            message = {
                **message,
                "content": None,
                "tool_calls": chat_tool_calls(calls, (body["model"], text)),
            }
            finish = "tool_calls"
        return {
            "id": f"chatcmpl-{new_suffix(29)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": finish,
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out},
        }


def _tools(tools: object, choice: object) -> bool:
    """Whether the request offers tools the model may call; 400 on a malformed ``tools`` list."""
    if tools is None:
        return False
    if not isinstance(tools, list):
        raise bad_request("Invalid 'tools': expected an array of tools.", param="tools")
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            raise bad_request(
                f"Invalid 'tools[{index}]': expected {{'type': 'function', 'function': {{...}}}}.",
                param=f"tools[{index}]",
            )
        if not isinstance(function.get("name"), str) or not function["name"]:
            raise bad_request(
                f"Missing required parameter: 'tools[{index}].function.name'.",
                param=f"tools[{index}].function.name",
            )
    return bool(tools) and choice != "none"


def _messages(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise bad_request("Invalid 'messages': expected a non-empty array of messages.", param="messages")
    for index, message in enumerate(value):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            role = message.get("role") if isinstance(message, dict) else None
            raise bad_request(
                f"Invalid 'messages[{index}].role': {role!r}; expected one of {', '.join(ROLES)}.",
                param=f"messages[{index}].role",
            )
        content = message.get("content")
        if not isinstance(content, (str, list)) and not (content is None and message["role"] == "assistant"):
            raise bad_request(
                f"Invalid 'messages[{index}].content': expected a string or an array of content parts.",
                param=f"messages[{index}].content",
            )
    if not any(m["role"] == "user" for m in value):
        raise bad_request("Invalid 'messages': at least one user message is required.", param="messages")
    return value


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise bad_request(
            f"Invalid '{name}': {value!r} must be a number from {low:g} to {high:g}.", param=name
        )
    return float(value)
