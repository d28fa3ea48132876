"""Service-side checks of ``POST /v1/fine_tuning/jobs``: what Bedrock documents, and our defensive guesses.

Documented (UG ``fine-tuning-openai-job-create``, AS notebooks): ``model``, ``training_file``, optional
``validation_file``, ``method = {"type": "reinforcement", "reinforcement": {"grader": {"type": "lambda",
"lambda": {"function": LAMBDA_ARN}}, "hyperparameters": {"n_epochs", "batch_size",
"learning_rate_multiplier"}}}``; ``suffix`` is not supported; the models (``MODELS``).

Guesses (undocumented, so the sandbox is strict where the service may be): every other field is
refused with 400 except OpenAI's ``seed`` and ``metadata`` (kept and echoed); other OpenAI RFT
hyperparameters (``eval_interval``, ``reasoning_effort``, ...) and grader types are refused; bounds are
``n_epochs`` 1-50 (the native ``epochCount`` range), ``batch_size`` 1-512 (the native maximum; the
samples use 4), ``learning_rate_multiplier`` above 0 and at most 10; ``"auto"`` takes the sandbox
default. ``supervised``/``dpo`` methods exist on Bedrock (AS) but are not emulated (501).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.jobs.validation import LAMBDA_ARN_PATTERN
from bedrock_rft_provider.sandbox.mantle.wire import OpenAIError, bad_request

# UG (gpt-oss-20b, Qwen3 32B) and AS (Nemotron Nano 3 30B), all in us-west-2.
MODELS = ("openai.gpt-oss-20b", "qwen.qwen3-32b", "nvidia.nemotron-nano-3-30b")
TOP_LEVEL_FIELDS = frozenset({"model", "training_file", "validation_file", "method", "seed", "metadata"})
HYPERPARAMETER_BOUNDS: dict[str, tuple[type, float, float]] = {
    "n_epochs": (int, 1, 50),
    "batch_size": (int, 1, 512),
    "learning_rate_multiplier": (float, 0.0, 10.0),
}
# "auto" (or omitted) means these; the native emulator's defaults (epochCount 2, batchSize 64, 1e-5).
DEFAULT_HYPERPARAMETERS = {"n_epochs": 2, "batch_size": 64, "learning_rate_multiplier": 1.0}
BASE_LEARNING_RATE = 1e-5  # learning_rate_multiplier x this = the emulator's learningRate (a guess)
MAX_METADATA_PAIRS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 16, 64, 512
LAMBDA_ARN = re.compile(LAMBDA_ARN_PATTERN)


@dataclass(frozen=True)
class JobRequest:
    """A checked create request, hyperparameters resolved."""

    model: str
    training_file: str
    validation_file: str | None
    grader_arn: str
    hyperparameters: dict[str, Any]
    seed: int | None
    metadata: dict[str, str] | None


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"Invalid '{where}': expected an object.", param=where)
    return value


def _only(value: dict[str, Any], allowed: set[str], where: str, hint: str) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise bad_request(
            f"Unknown parameter: '{where}.{unknown[0]}'. Amazon Bedrock accepts {hint}.",
            param=f"{where}.{unknown[0]}",
            code="unknown_parameter",
        )


def check_create(body: dict[str, Any]) -> JobRequest:
    """The create request's fields, or a 400 (501 for a method the sandbox does not emulate)."""
    if "suffix" in body:
        raise bad_request(
            "The 'suffix' parameter is not supported by Amazon Bedrock fine-tuning.",
            param="suffix",
            code="unsupported_parameter",
        )
    unknown = sorted(set(body) - TOP_LEVEL_FIELDS)
    if unknown:
        raise bad_request(
            f"Unknown parameter: '{unknown[0]}'. Supported: {', '.join(sorted(TOP_LEVEL_FIELDS))} "
            "(hyperparameters go under method.reinforcement.hyperparameters).",
            param=unknown[0],
            code="unknown_parameter",
        )
    model = body.get("model")
    if model not in MODELS:
        raise bad_request(
            f"Model {model!r} is not available for reinforcement fine-tuning through this API; "
            f"use one of {', '.join(MODELS)}.",
            param="model",
            code="model_not_available",
        )
    for name in ("training_file", "validation_file"):
        value = body.get(name)
        if (name == "training_file" or value is not None) and (not isinstance(value, str) or not value):
            raise bad_request(f"Invalid '{name}': expected the id of an uploaded file.", param=name)
    grader_arn, hyper = _check_method(body.get("method"))
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise bad_request(f"Invalid 'seed': {seed!r} is not an integer.", param="seed")
    return JobRequest(
        model, body["training_file"], body.get("validation_file"), grader_arn, hyper, seed, _metadata(body)
    )


def _check_method(value: object) -> tuple[str, dict[str, Any]]:
    if value is None:
        raise OpenAIError(
            501,
            "The bedrock-rft sandbox emulates only reinforcement fine-tuning: pass method={'type': "
            "'reinforcement', ...} (supervised fine-tuning is not emulated).",
            type="not_implemented_error",
            param="method",
            code="not_emulated",
            retry=False,
        )
    method = _object(value, "method")
    kind = method.get("type")
    if kind in ("supervised", "dpo"):
        raise OpenAIError(
            501,
            f"The bedrock-rft sandbox does not emulate method.type={kind!r}; only 'reinforcement'.",
            type="not_implemented_error",
            param="method.type",
            code="not_emulated",
            retry=False,
        )
    if kind != "reinforcement":
        raise bad_request(f"Invalid 'method.type': {kind!r}; expected 'reinforcement'.", param="method.type")
    _only(method, {"type", "reinforcement"}, "method", "type and reinforcement")
    rft = _object(method.get("reinforcement"), "method.reinforcement")
    _only(rft, {"grader", "hyperparameters"}, "method.reinforcement", "grader and hyperparameters")
    grader = _object(rft.get("grader"), "method.reinforcement.grader")
    if grader.get("type") != "lambda":
        raise bad_request(
            f"Invalid 'method.reinforcement.grader.type': {grader.get('type')!r}; Amazon Bedrock grades "
            "with a Lambda function: {'type': 'lambda', 'lambda': {'function': LAMBDA_ARN}}.",
            param="method.reinforcement.grader.type",
        )
    _only(grader, {"type", "lambda"}, "method.reinforcement.grader", "type and lambda")
    target = _object(grader.get("lambda"), "method.reinforcement.grader.lambda")
    _only(target, {"function"}, "method.reinforcement.grader.lambda", "function")
    arn = target.get("function")
    if not isinstance(arn, str) or not LAMBDA_ARN.fullmatch(arn):
        raise bad_request(
            f"Invalid 'method.reinforcement.grader.lambda.function': {arn!r} is not a Lambda function ARN.",
            param="method.reinforcement.grader.lambda.function",
        )
    raw = rft.get("hyperparameters")
    hyper = _object(raw, "method.reinforcement.hyperparameters") if raw is not None else {}
    return arn, _check_hyperparameters(hyper)


def _check_hyperparameters(hyper: dict[str, Any]) -> dict[str, Any]:
    where = "method.reinforcement.hyperparameters"
    _only(hyper, set(HYPERPARAMETER_BOUNDS), where, ", ".join(HYPERPARAMETER_BOUNDS))
    resolved = dict(DEFAULT_HYPERPARAMETERS)
    for name, (kind, low, high) in HYPERPARAMETER_BOUNDS.items():
        value = hyper.get(name, "auto")
        if value == "auto" or value is None:
            continue
        wrong_type = isinstance(value, bool) or not isinstance(value, (int, float))
        if kind is int and not wrong_type and not float(value).is_integer():
            wrong_type = True
        if wrong_type:
            raise bad_request(
                f"Invalid '{where}.{name}': {value!r} is not {'an integer' if kind is int else 'a number'} "
                "or 'auto'.",
                param=f"{where}.{name}",
            )
        too_low = value <= low if kind is float else value < low
        if too_low or value > high:
            bound = f"above {low:g}" if kind is float else f"at least {low:g}"
            raise bad_request(
                f"Invalid '{where}.{name}': {value} must be {bound} and at most {high:g}.",
                param=f"{where}.{name}",
            )
        resolved[name] = int(value) if kind is int else float(value)
    return resolved


def _metadata(body: dict[str, Any]) -> dict[str, str] | None:
    metadata = body.get("metadata")
    if metadata is None:
        return None
    pairs = _object(metadata, "metadata")
    if len(pairs) > MAX_METADATA_PAIRS:
        raise bad_request(f"Invalid 'metadata': at most {MAX_METADATA_PAIRS} pairs.", param="metadata")
    for key, value in pairs.items():
        if not isinstance(value, str) or len(key) > MAX_METADATA_KEY or len(value) > MAX_METADATA_VALUE:
            raise bad_request(
                f"Invalid 'metadata.{key}': keys are strings of at most {MAX_METADATA_KEY} characters, "
                f"values strings of at most {MAX_METADATA_VALUE}.",
                param=f"metadata.{key}",
            )
    return dict(pairs)
