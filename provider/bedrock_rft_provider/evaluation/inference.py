"""Run a test set through Bedrock Runtime ``converse`` with bounded, adaptive concurrency and resume.

The loop (concurrency, retries, resume, output lines) is :mod:`evaluation.runner`'s; this module is the
Converse adapter. Its names are re-exported here, where callers have always imported them.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Protocol

from botocore.config import Config
from botocore.context import get_context
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.validate import ParamValidator

from bedrock_rft_provider.errors import ConfigError, aws_error_code
from bedrock_rft_provider.evaluation.limiter import AdaptiveLimiter
from bedrock_rft_provider.evaluation.records import EvalRecord, finished_keys
from bedrock_rft_provider.evaluation.runner import (
    Failure,
    InferenceAbortedError,
    InferenceIncompleteError,
    InferenceRunner,
    InferenceStats,
    Outcome,
    Reply,
)
from bedrock_rft_provider.evaluation.tool_calls import answer_text, converse_calls, converse_tool_config
from bedrock_rft_provider.rewards.contract import reasoning_of, text_of

__all__ = [
    "FATAL_CODES",
    "THROTTLE_CODES",
    "TRANSIENT_CODES",
    "AdaptiveLimiter",
    "ConverseClient",
    "ConverseRunner",
    "InferenceAbortedError",
    "InferenceIncompleteError",
    "InferenceStats",
    "converse_client_config",
    "converse_request",
    "finished_keys",
    "response_text",
    "reuse_user_agent",
]

THROTTLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException"})
TRANSIENT_CODES = THROTTLE_CODES | frozenset(
    {
        "ServiceUnavailableException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "InternalServerException",
        "RequestTimeout",
    }
)
# Errors that every further request would hit too: stop instead of paying for a run that cannot succeed.
FATAL_CODES = frozenset({"AccessDeniedException", "ResourceNotFoundException", "UnrecognizedClientException"})
_TRANSIENT_EXCEPTIONS = (
    ReadTimeoutError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ConnectionClosedError,
)


class ConverseClient(Protocol):
    """The one call of a ``bedrock-runtime`` client the runner makes."""

    def converse(self, **kwargs: Any) -> dict[str, Any]: ...


def converse_client_config(*, read_timeout: float, max_pool_connections: int) -> Config:
    """botocore settings for the runner's ``bedrock-runtime`` client.

    :param read_timeout: per-request timeout in seconds (the connect timeout is at most 10 s).
    :param max_pool_connections: pooled HTTP connections; give it the runner's concurrency (+ a spare)
        so that no worker waits for a connection or opens a new one per request.

    No botocore retries: the runner retries itself, so throttling reaches its adaptive limiter instead of
    being hidden (and multiplied) by botocore's own loop. No per-call parameter validation:
    ``ConverseRunner`` checks every request against the same botocore model once, when it renders it and
    before anything is sent, so botocore would only repeat that work on every attempt and sample.
    """
    return Config(
        read_timeout=read_timeout,
        connect_timeout=min(read_timeout, 10),
        retries={"total_max_attempts": 1},
        max_pool_connections=max_pool_connections,
        parameter_validation=False,
    )


def reuse_user_agent(client: Any) -> Any:
    """Have a botocore client build its ``User-Agent`` header once per feature set, not twice per request.

    botocore assembles the header from ~30 components, each sanitised character by character, when it
    renders a request and again after signing (~0.1 ms a request together, a quarter of its work before
    the request is sent). The only input that changes between requests is the set of feature ids in
    the request's context (and the client's own), so the string is kept per set: the header sent is
    the one botocore would build. A client without botocore's user-agent builder (a fake, or another
    botocore version) is returned as it is.

    :returns: ``client`` (changed in place).
    """
    creator: Any = getattr(client, "_user_agent_creator", None)
    build = getattr(creator, "to_string", None)
    if build is None or not hasattr(creator, "_client_features"):
        return client
    built: dict[tuple[frozenset[str], frozenset[str]], str] = {}

    def to_string() -> str:
        context = get_context()
        key = (
            frozenset(context.features) if context is not None else frozenset(),
            frozenset(creator._client_features or ()),
        )
        header = built.get(key)
        if header is None:
            header = built[key] = build()  # two threads may both build it: the same string
        return header

    creator.to_string = to_string
    return client


def converse_request(
    record: EvalRecord, model_id: str, inference_config: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Render an OpenAI-style prompt as ``converse`` arguments (system messages go to ``system``; the
    record's ``tools`` to ``toolConfig``)."""
    system: list[dict[str, str]] = []
    messages: list[dict[str, Any]] = []
    for message in record.messages:
        role = message.get("role")
        text = text_of(message.get("content", ""))
        if role == "system":
            system.append({"text": text})
        elif role in ("user", "assistant"):
            messages.append({"role": role, "content": [{"text": text}]})
    request: dict[str, Any] = {"modelId": model_id, "messages": messages}
    if system:
        request["system"] = system
    if inference_config:
        request["inferenceConfig"] = dict(inference_config)
    tool_config = converse_tool_config(record.tools)
    if tool_config:
        request["toolConfig"] = tool_config
    return request


def response_text(response: dict[str, Any]) -> str:
    """The assistant text of a ``converse`` response (reasoning blocks are left out); its ``toolUse``
    calls as ``{"tool_calls": [...]}`` text when it made any."""
    content = response.get("output", {}).get("message", {}).get("content", [])
    return answer_text(text_of(content), converse_calls(content))


class ConverseRunner(InferenceRunner):
    """Answer every (prompt, sample) once through ``converse``, appending each result to a JSONL file.

    :param client: a ``bedrock-runtime`` client (or anything with ``converse``), made without botocore
        retries (the runner retries); its per-request timeout is the client's ``read_timeout``.
    :param model_id: foundation model id, inference profile, custom model deployment ARN or provisioned ARN.

    Every other option is :class:`~bedrock_rft_provider.evaluation.runner.InferenceRunner`'s;
    ``inference_config`` is sent as ``inferenceConfig`` as given.
    """

    thread_name = "converse"
    client: ConverseClient

    def render(self, record: EvalRecord) -> dict[str, Any]:
        """The record's ``converse`` arguments, checked against the client's botocore model.

        :raises ConfigError: the request does not fit the model (e.g. ``inferenceConfig.maxTokens`` given
            as text); raised for the first such record before any request is sent.
        """
        request = converse_request(record, self.model_id, self.inference_config)
        if self._converse_input is not None:
            report = ParamValidator().validate(request, self._converse_input)
            if report.has_errors():
                raise ConfigError(f"record {record.id}", report.generate_report())
        return request

    @cached_property
    def _converse_input(self) -> Any:
        """The ``Converse`` input shape of a botocore client (None for any other client, e.g. a fake)."""
        meta = getattr(self.client, "meta", None)
        service_model = getattr(meta, "service_model", None)
        if service_model is None:
            return None
        return service_model.operation_model("Converse").input_shape

    def call(self, request: dict[str, Any]) -> Reply:
        response = self.client.converse(**request)
        message = response.get("output", {}).get("message", {})
        return Reply(
            text=response_text(response),
            reasoning=reasoning_of(message),
            usage=response.get("usage"),
            stop_reason=response.get("stopReason"),
        )

    def classify(self, exc: Exception) -> Failure | None:
        if isinstance(exc, _TRANSIENT_EXCEPTIONS):
            return Failure(Outcome.TRANSIENT, f"{type(exc).__name__}: {exc}")
        if not isinstance(exc, ClientError):
            return None
        code = aws_error_code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        problem = f"{code or status}: {exc}"
        if code in THROTTLE_CODES:
            return Failure(Outcome.THROTTLED, problem)
        if code in FATAL_CODES:
            return Failure(Outcome.FATAL, problem)
        if code not in TRANSIENT_CODES and status < 500:
            return Failure(Outcome.REJECTED, problem)
        return Failure(Outcome.TRANSIENT, problem)
