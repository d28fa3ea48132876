"""How each argument of an evaluation is read: field name -> coercer ``(field, raw value) -> value``.

Rendered templates arrive as strings, so each coercer accepts a value or its text and raises a
ConfigError naming the field for anything else. ``EvaluationRequest.build`` runs every entry of
:data:`COERCE`; the request's own cross-field rules (exactly one answer source, ...) stay with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.champion import check_family
from bedrock_rft_provider.evaluation.checkpoints import DEFAULT_CHECKPOINT_METRIC
from bedrock_rft_provider.evaluation.model_backend import normalise_backend
from bedrock_rft_provider.templated import as_bool, as_float, as_int, as_mapping, as_optional_text, is_unset


def _required_text(field: str, value: Any) -> str:
    text = as_optional_text(field, value)
    if text is None:
        raise ConfigError(field, "is required")
    return text


def _family(field: str, value: Any) -> str | None:
    family = as_optional_text(field, value)
    return None if family is None else check_family(field, family)


def _at_least_one(field: str, value: Any) -> int:
    return as_int(field, value, minimum=1)


def _positive_seconds(field: str, value: Any) -> float:
    seconds = as_float(field, value)
    if seconds <= 0:
        raise ConfigError(field, f"must be more than 0 seconds, got {seconds:g}")
    return seconds


def _not_sandbox_by_default(field: str, value: Any) -> bool:
    return as_bool(field, value, default=False)


def _backend(field: str, value: Any) -> str | None:
    text = as_optional_text(field, value)
    if text is None:
        return None
    try:
        return normalise_backend(text)
    except ConfigError as exc:  # it names "backend"; this may be baseline_backend
        raise ConfigError(field, exc.message) from None


def _metric(field: str, value: Any) -> str:
    return as_optional_text(field, value) or DEFAULT_CHECKPOINT_METRIC


def _inference_config(field: str, value: Any) -> Mapping[str, Any] | None:
    if is_unset(value):
        return None
    return as_mapping(field, value, expected='a dict such as {"maxTokens": 1024, "temperature": 0}')


def _spend(field: str, value: Any) -> Mapping[str, Any] | None:
    expected = "a spend record {currency, prices, forecast, actual} (jobs.spend.spend_record)"
    return None if is_unset(value) else as_mapping(field, value, expected=expected)


# One entry per ``EvaluationRequest`` field, in its order (a test holds them equal).
COERCE: dict[str, Callable[[str, Any], Any]] = {
    "dataset_uri": _required_text,
    "output_uri": _required_text,
    "reward": as_optional_text,
    "reward_lambda_arn": as_optional_text,
    "model_id": as_optional_text,
    "responses_uri": as_optional_text,
    "champion_family": _family,
    "champion_fallback_model_id": as_optional_text,
    "best_checkpoint_job_id": as_optional_text,
    "checkpoint_metric": _metric,
    "backend": _backend,
    "baseline_backend": _backend,
    "baseline_model_id": as_optional_text,
    "baseline_responses_uri": as_optional_text,
    "baseline_summary_uri": as_optional_text,
    "concurrency": _at_least_one,
    "samples_per_prompt": _at_least_one,
    "inference_config": _inference_config,
    "request_timeout": _positive_seconds,
    "max_attempts": _at_least_one,
    "success_threshold": as_float,
    "slice_field": as_optional_text,
    "training_metrics_uri": as_optional_text,
    "grader_batch_size": _at_least_one,
    "grader_concurrency": _at_least_one,
    "seed": as_int,
    "sandbox": _not_sandbox_by_default,
    "spend": _spend,
}
