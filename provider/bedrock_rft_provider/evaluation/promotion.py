"""Zero-downtime promotion: which deployment serves the new champion, and when an update has landed.

One stable champion deployment per family is what applications call. A promotion re-points it at the
new custom model (``UpdateCustomModelDeployment``); the first champion of a family, or a promotion
whose update is not possible, adopts the challenger's own (already Active) deployment instead and the
old one is deleted once the record points at the new one (create-new-then-delete). Pure: no AWS calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.errors import BedrockRFTError
from bedrock_rft_provider.evaluation.champion import ChampionVersion, named_model
from bedrock_rft_provider.evaluation.model_backend import OPEN_WEIGHT

UPDATE = "update"
ADOPT = "adopt"

# ``updateDetails.updateStatus`` of GetCustomModelDeployment (botocore enum), as data.
UPDATE_DONE = "UpdateCompleted"
UPDATE_FAILED = "UpdateFailed"
UPDATE_RUNNING = "Updating"


class ChampionChangedError(BedrockRFTError):
    """The champion changed after the challenger was evaluated against it; nothing was promoted."""


class StaleChampionRecordError(BedrockRFTError):
    """The champion deployment serves the new model but its record could not be written: the record
    names the model it replaced until the task is retried or cleared (which writes it, nothing else)."""


@dataclass(frozen=True)
class ServingPlan:
    """How the new champion gets served.

    ``action`` is ``"update"`` (re-point ``serving_arn``, the stable champion deployment, at the new
    model) or ``"adopt"`` (``serving_arn`` is the challenger's deployment); ``replaced_arn`` is the
    deployment to delete after the record moved on (adopt over an earlier champion deployment), or None.
    """

    action: str
    serving_arn: str | None
    replaced_arn: str | None = None


def champion_deployment(record: Mapping[str, Any] | None) -> str | None:
    """The deployment ARN that serves a native champion record, or None (open-weight / none yet)."""
    if not record or record.get("backend") == OPEN_WEIGHT:
        return None
    arn = record.get("deployment_arn")
    return str(arn) if arn else None


def plan_serving(current: Mapping[str, Any] | None, challenger_deployment_arn: str | None) -> ServingPlan:
    """Update the current champion's deployment in place when there is one, else adopt the challenger's.

    ``current`` is the current champion record (None before the first promotion).
    """
    stable = champion_deployment(current)
    if stable and stable != challenger_deployment_arn:
        return ServingPlan(UPDATE, stable)
    return ServingPlan(ADOPT, challenger_deployment_arn or None)


def fallback(plan: ServingPlan, challenger_deployment_arn: str | None) -> ServingPlan:
    """The plan when the in-place update is not possible: serve from the challenger's deployment and
    delete the old champion deployment afterwards (a short overlap, no gap)."""
    return ServingPlan(ADOPT, challenger_deployment_arn or None, replaced_arn=plan.serving_arn)


def not_adoptable(arn: str, described: Mapping[str, Any] | None, model_arn: str) -> str | None:
    """Why the challenger's deployment ``arn`` cannot become the champion deployment for ``model_arn``
    (``described`` is its ``get_custom_model_deployment``, None when gone); None when it can: it is
    Active and serves ``model_arn``. A torn-down, Failed or still-Creating deployment, or one of another
    model, would leave the family's record pointing at something that does not answer with the champion.
    """
    if described is None:
        return f"the challenger's deployment {arn} does not exist (gone: torn down or deleted)"
    status = described.get("status")
    if status != "Active":
        return f"the challenger's deployment {arn} is {status}, not Active"
    if described.get("modelArn") != model_arn:
        return f"the challenger's deployment {arn} serves {described.get('modelArn')}, not {model_arn}"
    return None


def update_state(described: Mapping[str, Any] | None, model_arn: str) -> str:
    """Where re-pointing a deployment at ``model_arn`` stands, from ``get_custom_model_deployment``.

    :return: ``"serving"`` (it answers with ``model_arn``), ``"updating"``, ``"failed"`` (the update
        or the deployment Failed), ``"gone"`` (no deployment), ``"busy"`` (being updated to another
        model: another promotion is re-pointing it) or ``"other"`` (serves another model and no update
        is under way: one must be requested).
    """
    if described is None:
        return "gone"
    details = described.get("updateDetails") or {}
    if details.get("modelArn") == model_arn:
        status = details.get("updateStatus")
        if status == UPDATE_DONE:
            return "serving"
        if status == UPDATE_FAILED:
            return "failed"
        if status == UPDATE_RUNNING:
            return "updating"
    if described.get("status") == "Failed":
        return "failed"
    if details.get("updateStatus") == UPDATE_RUNNING:
        return "busy"  # to another model (ours was matched above)
    if described.get("modelArn") == model_arn:
        return "serving" if described.get("status") == "Active" else "updating"
    return "other"


def unrecorded_repoint(
    record: Mapping[str, Any] | None, described: Mapping[str, Any] | None, model: str
) -> str | None:
    """Why the champion deployment must not be re-pointed at ``model`` now, or None.

    ``record`` is the current champion record, ``described`` its deployment's
    ``get_custom_model_deployment``. When the deployment serves a model that is neither the record's
    nor ``model``, another promotion or rollback re-pointed it and has not written its record (yet, or
    its write failed: StaleChampionRecordError); re-pointing over it would replace a model that was never
    compared with ``model`` and leave that run's retry to re-point it back. Our own earlier try (serving
    ``model``) and a running update (reported busy by ``point_at``) are not this case.
    """
    recorded = (record or {}).get("custom_model_arn")
    if (
        not recorded
        or described is None
        or (described.get("updateDetails") or {}).get("updateStatus") == UPDATE_RUNNING
    ):
        return None
    served = described.get("modelArn")
    if served in (recorded, model):
        return None
    return (
        f"champion deployment {described.get('customModelDeploymentArn')} serves {served}, but the champion "
        f"record names {recorded}: another promotion or rollback re-pointed it and has not recorded it; "
        f"nothing changed; retry that run's task first (it records {served}), then this one"
    )


def promotion_by_run(
    history: Iterable[ChampionVersion], run_id: str, model: str | None
) -> ChampionVersion | None:
    """The version a run already wrote for ``model`` (not a rollback), or None.

    Matched on (run, model) only, not on the deployment: when a newer run served the family from
    another deployment since, a retry of the older run must still recognise its promotion and leave
    the serving deployment alone.
    """
    for version in history:
        record = version.record
        if record.get("rollback_of_version") is not None or record.get("run_id") != run_id:
            continue
        if model in (record.get("custom_model_arn"), record.get("model_id")):
            return version
    return None


def rollback_by_run(
    history: Iterable[ChampionVersion], run_id: str | None, version: int
) -> ChampionVersion | None:
    """The rollback to ``version`` that run ``run_id`` already wrote, or None (always None without a run)."""
    if not run_id:
        return None
    for written in history:
        record = written.record
        if record.get("rollback_of_version") == version and record.get("rollback_run_id") == run_id:
            return written
    return None


def repointed_warning(record: Mapping[str, Any], described: Mapping[str, Any] | None) -> str | None:
    """A warning when a past champion's deployment now serves another model (a later promotion
    re-pointed it), so evaluating "that champion" through it answers with today's model; else None."""
    recorded, deployment = record.get("custom_model_arn"), record.get("deployment_arn")
    if not recorded or not deployment or described is None or described.get("modelArn") in (None, recorded):
        return None
    return (
        f"deployment {deployment} of this champion version now serves {described['modelArn']} (a later "
        f"promotion re-pointed it), not {recorded}: the answers come from the current model; deploy "
        f"{recorded} and evaluate it by model_id to score that version exactly"
    )


def champion_moved(
    history: Iterable[ChampionVersion], run_id: str, model: str, evaluated_against: int
) -> str | None:
    """Why promoting ``model`` now would replace a champion it was never compared with, or None.

    ``evaluated_against`` is the champion version the evaluation's baseline was (0 = no champion yet).
    None when that version is still current, or when this run already promoted ``model`` (a retry).
    """
    versions = list(history)
    if promotion_by_run(versions, run_id, model) is not None:
        return None
    current = versions[-1] if versions else None
    if (current.version if current else 0) == evaluated_against:
        return None
    against = f"version {evaluated_against}" if evaluated_against else "no champion"
    if current is None:
        now = "no champion (the evaluated champion's history is gone)"
    else:
        model_now = named_model(current.record)
        now = f"version {current.version} ({model_now})"
    return (
        f"the champion is now {now}, but {model} was evaluated against {against}: not replacing a "
        "model it was never compared with; re-run the evaluation (trigger the DAG again)"
    )


def stale_record(
    parameter: str, deployment_arn: str, model: str, current: ChampionVersion | None, error: object
) -> str:
    """One line for a record left behind by its deployment: what serves now, what the record still says."""
    if current is None:
        says = "does not exist yet"
    else:
        named = named_model(current.record)
        says = f"still names {named} (version {current.version})"
    return (
        f"deployment {deployment_arn} now serves {model}, but writing the champion record {parameter} "
        f"failed ({' '.join(str(error).split())}): the record is stale, it {says}; retry or clear this task "
        "to write it (the deployment is not updated again)"
    )


def not_evaluated(summary: Mapping[str, Any] | None, promoted: Iterable[str | None]) -> str | None:
    """Why the evaluation ``summary`` is not about the model being promoted, or None.

    ``promoted`` are the ids the promotion names (custom model ARN, model id, deployment ARN). Only a
    summary ``model_id`` that is a model id (an ARN, or a catalogued or open-weight model id) is checked;
    a label on precomputed responses is not.
    """
    from bedrock_rft_provider.evaluation.model_backend import CATALOG, open_weight_base

    evaluated = (summary or {}).get("model_id")
    if not isinstance(evaluated, str) or not evaluated:
        return None
    if not (evaluated.startswith("arn:") or evaluated in CATALOG or open_weight_base(evaluated)):
        return None
    names = sorted({name for name in promoted if name})
    if evaluated in names:
        return None
    return (
        f"is the evaluation of {evaluated}, not of {' / '.join(names)}: the gate passed that model; "
        "promote it (an open-weight best checkpoint by model_id, a native model with the deployment "
        "that was evaluated)"
    )
