"""Which API answers a model during evaluation: Converse (native) or Chat Completions (open-weight).

The training backend of a *base* model is ``jobs.backends``' catalog. A model under evaluation may also
be a tuned model: on the native path a custom model, its deployment or an inference profile (Converse);
on the open-weight path the job's ``fine_tuned_model`` or a checkpoint's
``fine_tuned_model_checkpoint``, which answer through Chat Completions without a deployment (user guide
``fine-tuning-openai-apis``). Bedrock does not document the format of those ids; the sandbox names them
``<base>:ft:<job>`` and ``<base>:ft:<job>:ckpt-step-<n>`` and OpenAI ``ft:<base>:...``, so an id that
starts with an open-weight base model id that way is taken as open-weight. Any other id keeps the
native backend, as before; give ``backend="open-weight"`` for a tuned id that does not name its base.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.backends import (
    CATALOG,
    NATIVE,
    OPEN_WEIGHT,
    OPEN_WEIGHT_MODELS,
    normalise_backend,
)

__all__ = [
    "NATIVE",
    "OPEN_WEIGHT",
    "inference_backend",
    "normalise_backend",
    "open_weight_base",
    "override_errors",
    "unlike_models",
]


def open_weight_base(model_id: str) -> str | None:
    """The open-weight base model ``model_id`` is or was tuned from (by its name), else None."""
    for base in OPEN_WEIGHT_MODELS:
        if model_id == base or model_id.startswith((f"{base}:", f"ft:{base}:")):
            return base
    return None


def inference_backend(model_id: str, backend: str | None = None, *, field: str = "backend") -> str:
    """``"native"`` (answers through Converse) or ``"open-weight"`` (Chat Completions) for ``model_id``.

    ``backend`` is ``None``/``"auto"`` (decide from the id), ``"native"`` or ``"open-weight"``.

    :raises ConfigError: naming ``field`` when the override contradicts what the id says: an
        open-weight base model or a model tuned from one (by its name) forced to ``native``, or a
        catalogued native base model or a Bedrock ARN forced to ``open-weight``.
    """
    requested = normalise_backend(backend)
    known = CATALOG[model_id].backend if model_id in CATALOG else None
    if known is None and open_weight_base(model_id) is not None:
        known = OPEN_WEIGHT
    if known is None and model_id.startswith("arn:"):
        known = NATIVE  # custom models, deployments, inference profiles, provisioned throughput
    if requested is None:
        return known or NATIVE
    if known is not None and known != requested:
        api = "Chat Completions" if known == OPEN_WEIGHT else "Converse"
        raise ConfigError(
            field, f"{backend!r} cannot answer {model_id!r}: it answers through {api} ({known})"
        )
    return requested


def unlike_models(model_id: str, backend: str, baseline_id: str, baseline_backend: str) -> str | None:
    """Why two live models do not compare like with like (another API, or another open-weight base
    model), or None when they do: a base open-weight model against its tuned model or checkpoint does."""
    if baseline_backend != backend:
        return (
            f"the baseline {baseline_id} answers through the {baseline_backend} backend and {model_id} "
            f"through the {backend} one: the comparison spans two model families"
        )
    bases = open_weight_base(model_id), open_weight_base(baseline_id)
    if bases[0] is not None and bases[1] is not None and bases[0] != bases[1]:
        return f"{model_id} is tuned from {bases[0]} but the baseline is {bases[1]}"
    return None


def override_errors(values: Mapping[str, Any], failed: set[str]) -> list[ConfigError]:
    """An evaluation's backend overrides that name no live model, or contradict the model they name.

    ``values`` are ``EvaluationRequest`` fields; ``failed`` the ones that did not coerce (skipped here).
    """
    errors: list[ConfigError] = []
    for name, models in (
        ("backend", ("model_id", "champion_family", "best_checkpoint_job_id")),
        ("baseline_backend", ("baseline_model_id",)),
    ):
        if values[name] is not None and not any(values[m] is not None for m in models):
            errors.append(ConfigError(name, f"is only used with {' or '.join(models)}"))
    checks = (("backend", "model_id"), ("baseline_backend", "baseline_model_id"))
    for field, model in checks:
        if values[model] is not None and not {field, model} & failed:
            try:
                inference_backend(values[model], values[field], field=field)
            except ConfigError as exc:
                errors.append(exc)
    fallback = values["champion_fallback_model_id"]
    if fallback is not None and "backend" not in failed:
        try:
            inference_backend(fallback, values["backend"], field="backend")
        except ConfigError as exc:
            errors.append(exc)
    if values["best_checkpoint_job_id"] is not None and values["backend"] not in (None, OPEN_WEIGHT):
        errors.append(ConfigError("backend", "checkpoints are open-weight models; omit backend"))
    return errors
