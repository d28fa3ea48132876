"""The champion record kept in SSM Parameter Store: its content, encoding and lookup by time."""

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


def build_record(
    *,
    family: str,
    custom_model_arn: str,
    run_id: str,
    promoted_at: datetime,
    deployment_arn: str | None = None,
    job_arn: str | None = None,
    dataset_uris: Mapping[str, str] | None = None,
    dataset_sha256: Mapping[str, str] | None = None,
    eval_summary_uri: str | None = None,
    summary: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON value stored for a champion; ``model_id`` is what to send to ``converse``."""
    if not custom_model_arn:
        raise ConfigError("custom_model_arn", "is required to promote a model")
    return {
        "family": family,
        "custom_model_arn": custom_model_arn,
        "deployment_arn": deployment_arn,
        "model_id": deployment_arn or custom_model_arn,
        "job_arn": job_arn,
        "dataset_uris": dict(dataset_uris or {}),
        "dataset_sha256": dict(dataset_sha256 or {}),
        "eval_summary_uri": eval_summary_uri,
        "metrics": key_metrics(summary),
        "promoted_at": promoted_at.astimezone(timezone.utc).isoformat(),
        "run_id": run_id,
    }


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
    return all(a.get(k) == b.get(k) for k in ("custom_model_arn", "deployment_arn", "run_id"))


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
