"""The champion record kept in SSM Parameter Store: its content, encoding and lookup by time.

Native champions are Bedrock custom models, served by a deployment (``model_id`` is the deployment
ARN, else the custom model ARN). Open-weight champions are the fine-tuned model (or a checkpoint's
model) of a job on Bedrock's OpenAI-compatible API, which answers through Chat Completions without
a deployment: their record says ``"backend": "open-weight"``, holds that model id as ``model_id``,
the job id as ``job_id``, and no ARN.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bedrock_rft_provider.errors import ConfigError

PARAMETER_PREFIX = "/bedrock-rft/champion"
FAMILY_PATTERN = re.compile(r"[a-zA-Z0-9_.-]{1,200}")
# SSM Standard tier values are limited to 4 KB; larger records need the (paid) Advanced tier.
STANDARD_TIER_LIMIT = 4096
ADVANCED_TIER_LIMIT = 8192
KEY_METRICS = ("n", "mean_reward", "accuracy", "ci95", "delta", "delta_ci95", "p_value")


def named_model(record: Mapping[str, Any]) -> Any:
    """The model a champion record names: its ``custom_model_arn`` (native), else its ``model_id``
    (open-weight, or a record without an ARN); None when it holds neither."""
    return record.get("custom_model_arn") or record.get("model_id")


def check_family(field: str, family: Any) -> str:
    """``family`` if it is a valid model family name (it becomes part of an SSM parameter name)."""
    if not isinstance(family, str) or not FAMILY_PATTERN.fullmatch(family):
        raise ConfigError(field, f"{family!r} must be 1-200 letters, digits, '_', '.' or '-'")
    return family


def parameter_name(family: str, prefix: str = PARAMETER_PREFIX) -> str:
    """``/bedrock-rft/champion/<family>``: one parameter (with its version history) per model family."""
    return f"{prefix.rstrip('/')}/{check_family('family', family)}"


def key_metrics(summary: Mapping[str, Any] | None) -> dict[str, Any]:
    """The few evaluation numbers worth keeping next to the champion."""
    if not summary:
        return {}
    out = {k: summary[k] for k in KEY_METRICS if summary.get(k) is not None}
    baseline = summary.get("baseline")
    if isinstance(baseline, Mapping) and baseline.get("mean_reward") is not None:
        out["baseline_mean_reward"] = baseline["mean_reward"]
    return out


def promoted_model(
    custom_model_arn: str | None, model_id: str | None = None, backend: str | None = None
) -> tuple[str, str]:
    """``(backend, model)`` of a promotion: the custom model ARN (native) or the model id (open-weight).

    The RFT job operator returns an open-weight job's ``fine_tuned_model`` as ``custom_model_arn`` too,
    so an open-weight id given there is taken as the model id; ``model_id`` (e.g. the evaluation's,
    for a best checkpoint) wins over it.

    :raises ConfigError: neither given, or ``model_id`` given for a native model.
    """
    from bedrock_rft_provider.evaluation.model_backend import NATIVE, OPEN_WEIGHT, inference_backend

    chosen = model_id or custom_model_arn
    if not chosen:
        raise ConfigError("custom_model_arn", "is required to promote a model")
    kind = inference_backend(chosen, backend)
    if kind == NATIVE:
        if model_id:
            raise ConfigError(
                "model_id", "is for open-weight models; promote a native model by its custom_model_arn"
            )
        return NATIVE, chosen
    return OPEN_WEIGHT, chosen


def build_record(
    *,
    family: str,
    custom_model_arn: str | None,
    run_id: str,
    promoted_at: datetime,
    deployment_arn: str | None = None,
    job_arn: str | None = None,
    dataset_uris: Mapping[str, str] | None = None,
    dataset_sha256: Mapping[str, str] | None = None,
    eval_summary_uri: str | None = None,
    summary: Mapping[str, Any] | None = None,
    model_id: str | None = None,
    backend: str | None = None,
    checkpoint: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON value stored for a champion; ``model_id`` is what answers (``converse`` on the native
    path, Chat Completions on the open-weight one). See :func:`promoted_model` for which model that is;
    on the open-weight path ``job_arn`` is the job id and ``checkpoint`` (the evaluation's) is kept.

    :raises ConfigError: no model, or a deployment for an open-weight model (they need none).
    """
    from bedrock_rft_provider.evaluation.model_backend import OPEN_WEIGHT

    kind, model = promoted_model(custom_model_arn, model_id, backend)
    open_weight = kind == OPEN_WEIGHT
    if open_weight and deployment_arn:
        raise ConfigError(
            "deployment_arn", f"{model} answers without a deployment (open-weight); leave it unset"
        )
    record = {
        "family": family,
        "custom_model_arn": None if open_weight else model,
        "deployment_arn": deployment_arn,
        "model_id": deployment_arn or model,
        "job_arn": None if open_weight else job_arn,
        "dataset_uris": dict(dataset_uris or {}),
        "dataset_sha256": dict(dataset_sha256 or {}),
        "eval_summary_uri": eval_summary_uri,
        "metrics": key_metrics(summary),
        "promoted_at": promoted_at.astimezone(timezone.utc).isoformat(),
        "run_id": run_id,
    }
    spend = (summary or {}).get("spend")
    if isinstance(spend, Mapping):  # forecast vs actual of the run, so the next forecast can calibrate
        record["spend"] = {k: spend[k] for k in ("currency", "forecast", "actual") if k in spend}
    if open_weight:  # the native record keeps its shape
        record.update(backend=OPEN_WEIGHT, job_id=job_arn)
        if checkpoint:
            record["checkpoint"] = {k: checkpoint[k] for k in ("step", "metric", "value") if k in checkpoint}
    return record


def encode_record(record: Mapping[str, Any]) -> tuple[str, str]:
    """The parameter value and the SSM tier it needs; raises if it cannot fit at all."""
    value = json.dumps(record, sort_keys=True, separators=(",", ":"))
    size = len(value.encode("utf-8"))
    if size > ADVANCED_TIER_LIMIT:
        raise ConfigError(
            "champion record", f"is {size} bytes; SSM parameters hold at most {ADVANCED_TIER_LIMIT}"
        )
    return value, ("Standard" if size <= STANDARD_TIER_LIMIT else "Advanced")


def same_promotion(a: Mapping[str, Any] | None, b: Mapping[str, Any]) -> bool:
    """True when ``a`` records the same promotion as ``b`` (a retried task must not add a version)."""
    if not a:
        return False
    return all(a.get(k) == b.get(k) for k in ("custom_model_arn", "deployment_arn", "model_id", "run_id"))


def earlier_promotion(
    history: Iterable[ChampionVersion], record: Mapping[str, Any]
) -> ChampionVersion | None:
    """The first version in ``history`` that records the same promotion as ``record``, or None.

    The whole history counts, not just the current version: after run A and run B promoted, a retry
    of A's task must find A's version and add nothing (re-writing A would demote B). SSM keeps the last
    100 versions, so a retry after 100 newer promotions is no longer recognised.
    """
    for version in sorted(history, key=lambda v: v.version):
        if same_promotion(version.record, record):
            return version
    return None


@dataclass(frozen=True)
class ChampionVersion:
    """One version of the champion parameter: who was champion from ``since`` on."""

    version: int
    since: datetime
    record: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "since": self.since.isoformat(), "record": self.record}


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def champion_as_of(history: Iterable[ChampionVersion], when: datetime) -> ChampionVersion | None:
    """The version in force at ``when``: the latest one written at or before it (None if none yet)."""
    when = _aware(when)
    candidates = [v for v in history if _aware(v.since) <= when]
    return max(candidates, key=lambda v: (_aware(v.since), v.version)) if candidates else None
