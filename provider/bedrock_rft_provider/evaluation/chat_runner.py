"""Run a test set through Chat Completions (Bedrock's OpenAI-compatible API) with the shared runner loop.

Open-weight base models (``openai.gpt-oss-20b``, ...), their fine-tuned models and their checkpoints
answer through ``POST /v1/chat/completions`` on ``https://bedrock-mantle.<region>.api.aws/v1`` without
a deployment step (user guide ``fine-tuning-openai-apis``; bedrock-rft-facts §9). Everything but the
API is :class:`~bedrock_rft_provider.evaluation.runner.InferenceRunner`'s, so both runners write the
same lines: Chat's ``usage`` is recorded under Converse's keys and ``finish_reason`` as Converse's
``stopReason`` word.

Nothing heavy is imported with this module: the caller brings the ``openai`` client, and the runner
imports ``openai``'s error classes only to classify an error.

Unverified on Bedrock (the docs are silent; built defensively): the token limit is sent as
``max_tokens`` (the compatible servers' common name; ``max_completion_tokens`` may be given instead);
429 means throttling and 5xx transient, as on OpenAI; 401/403/404 (unknown model) and 501 (not
implemented) answer every request alike, so they stop the run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.records import EvalRecord
from bedrock_rft_provider.evaluation.runner import USAGE_KEYS, Failure, InferenceRunner, Outcome, Reply
from bedrock_rft_provider.evaluation.tool_calls import answer_text, chat_calls, chat_tools
from bedrock_rft_provider.rewards.contract import reasoning_of, text_of

# Converse ``inferenceConfig`` keys -> Chat Completions parameters.
CONVERSE_TO_CHAT = {
    "maxTokens": "max_tokens",
    "temperature": "temperature",
    "topP": "top_p",
    "stopSequences": "stop",
}
# Chat Completions sampling parameters passed through as given (each is in the openai client's
# ``CompletionCreateParams``; a test checks). The runner owns model, messages, n and streaming.
CHAT_PARAMETERS = frozenset(
    {
        *CONVERSE_TO_CHAT.values(),
        "max_completion_tokens",
        "seed",
        "reasoning_effort",
        "frequency_penalty",
        "presence_penalty",
    }
)
# ``finish_reason`` -> Converse ``stopReason``, so both runners' lines read alike.
STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "content_filter": "content_filtered",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
}
_CHAT_USAGE = dict(zip(("prompt_tokens", "completion_tokens", "total_tokens"), USAGE_KEYS, strict=True))
_ROLES = ("system", "user", "assistant")
# Unknown models, refused credentials and unimplemented features answer every request alike.
_FATAL_STATUSES = frozenset({401, 403, 404, 501})
_TRANSIENT_STATUSES = frozenset({408, 409})


class MalformedReplyError(ValueError):
    """A 200 answer that is not a chat completion (no JSON object, no choices)."""


def chat_parameters(inference_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Chat Completions parameters from a Converse-style ``inferenceConfig`` (or Chat names as given).

    :raises ConfigError: naming ``inference_config.<key>`` for a key neither API takes here, or a key
        given under both names (``maxTokens`` and ``max_tokens``).
    """
    params: dict[str, Any] = {}
    for key, value in (inference_config or {}).items():
        name = CONVERSE_TO_CHAT.get(key, key)
        if name not in CHAT_PARAMETERS:
            allowed = ", ".join(sorted({*CONVERSE_TO_CHAT, *CHAT_PARAMETERS}))
            raise ConfigError(
                f"inference_config.{key}", f"is not a Chat Completions setting; allowed: {allowed}"
            )
        if name in params:
            raise ConfigError(f"inference_config.{key}", f"sets {name} a second time")
        params[name] = list(value) if name == "stop" and isinstance(value, (list, tuple)) else value
    return params


def chat_request(
    record: EvalRecord, model_id: str, parameters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Keyword arguments of ``chat.completions.create`` for one prompt (text content, one answer; the
    record's ``tools`` offered as given)."""
    messages = [
        {"role": message["role"], "content": text_of(message.get("content", ""))}
        for message in record.messages
        if message.get("role") in _ROLES
    ]
    tools = chat_tools(record.tools)
    return {
        "model": model_id,
        "messages": messages,
        **({"tools": tools} if tools else {}),
        **(parameters or {}),
    }


def chat_reply(body: Any) -> Reply:
    """The answer in a chat completion's JSON: first choice's text, its reasoning, usage, stop reason.

    Read defensively (the body is data): missing or mistyped fields read as absent.

    :raises MalformedReplyError: the body is not an object with at least one choice.
    """
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedReplyError("the answer holds no choices")
    choice = choices[0]
    message = choice.get("message")
    message = message if isinstance(message, dict) else {}
    finish = choice.get("finish_reason")
    return Reply(
        text=answer_text(text_of(message.get("content")), chat_calls(message)),
        reasoning=reasoning_of(message),
        usage=_usage(body.get("usage")),
        stop_reason=STOP_REASONS.get(finish, finish[:64]) if isinstance(finish, str) else None,
    )


def _usage(usage: Any) -> dict[str, Any] | None:
    if not isinstance(usage, dict):
        return None
    return {ours: usage[theirs] for theirs, ours in _CHAT_USAGE.items() if isinstance(usage.get(theirs), int)}


class ChatCompletionsRunner(InferenceRunner):
    """Answer every (prompt, sample) once through Chat Completions, appending each result to a JSONL file.

    :param client: an ``openai.OpenAI`` client for the endpoint (``BedrockRFTEvaluationHook.chat_client``);
        the runner turns its automatic retries off (``max_retries=0``) so that throttling reaches the
        adaptive limiter; its per-request timeout is the client's own. Each request is
        ``POST /chat/completions`` with the body :func:`chat_request` renders.
    :param model_id: an open-weight base model id, a fine-tuned model id or a checkpoint model id.
    :param inference_config: Converse-style keys (``maxTokens``, ``temperature``, ``topP``,
        ``stopSequences``) are mapped onto Chat's; Chat names in :data:`CHAT_PARAMETERS` pass as given.

    Every other option is :class:`~bedrock_rft_provider.evaluation.runner.InferenceRunner`'s.

    :raises ConfigError: an ``inference_config`` key Chat Completions does not take (before any call).
    """

    thread_name = "chat"

    def __init__(self, client: Any, model_id: str, **options: Any) -> None:
        import httpx2  # the openai client's HTTP library: its raw response type

        self.parameters = chat_parameters(options.get("inference_config"))
        self._raw_response = httpx2.Response
        super().__init__(client.with_options(max_retries=0), model_id, **options)

    def render(self, record: EvalRecord) -> dict[str, Any]:
        return chat_request(record, self.model_id, self.parameters)

    def call(self, request: dict[str, Any]) -> Reply:
        # The client's documented raw request: same auth, base URL, timeouts and error classes as
        # ``chat.completions.create``, without re-walking the body against the SDK's TypedDicts (a
        # third of the client's CPU per request). The body's keys are checked against those types
        # once, in chat_parameters (CHAT_PARAMETERS; a test holds it to CompletionCreateParams).
        raw = self.client.post("/chat/completions", body=request, cast_to=self._raw_response)
        try:
            body = json.loads(raw.content)
        except ValueError as exc:
            raise MalformedReplyError(f"the answer is not JSON ({exc})") from exc
        return chat_reply(body)

    def classify(self, exc: Exception) -> Failure | None:
        import openai

        if isinstance(exc, MalformedReplyError):
            return Failure(Outcome.TRANSIENT, f"malformed chat completion: {exc}")
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            problem = f"{status} {exc.code or exc.type or type(exc).__name__}: {exc.message}"
            if isinstance(exc, openai.RateLimitError):
                return Failure(Outcome.THROTTLED, problem)
            if status in _FATAL_STATUSES:
                return Failure(Outcome.FATAL, problem)
            if status >= 500 or status in _TRANSIENT_STATUSES:
                return Failure(Outcome.TRANSIENT, problem)
            return Failure(Outcome.REJECTED, problem)
        if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
            return Failure(Outcome.TRANSIENT, f"{type(exc).__name__}: {exc}")
        return None
