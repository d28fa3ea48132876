"""Zero-downtime promotion and rollback: the champion record (SSM) and the deployment that serves it.

Applications call one stable champion deployment per family (the record's ``deployment_arn``). A
promotion re-points that deployment at the new custom model and then writes the record; a rollback
re-points it at the earlier model and writes the earlier record as a new version. Where the update is
not possible the challenger's own deployment takes over and the old one is deleted after the record
moved (``evaluation.promotion``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_rft_provider.evaluation.champion import ChampionVersion
from bedrock_rft_provider.evaluation.promotion import (
    ADOPT,
    UPDATE,
    StaleChampionRecordError,
    champion_deployment,
    fallback,
    not_adoptable,
    plan_serving,
    promotion_by_run,
    rollback_by_run,
    stale_record,
    unrecorded_repoint,
)
from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from bedrock_rft_provider.hooks.deployment import (
    BedrockCustomModelDeploymentHook,
    DeploymentBusyError,
    DeploymentUpdateImpossibleError,
)

log = logging.getLogger(__name__)


class ChampionServing:
    """Promote / roll back a family's champion together with its serving deployment.

    :param champions: the SSM champion hook.
    :param deployments: the deployment hook (same connection).
    :param waiter_delay: seconds between checks while a deployment update runs.
    :param waiter_max_attempts: checks before giving up on an update.
    """

    def __init__(
        self,
        champions: BedrockRFTChampionHook,
        deployments: BedrockCustomModelDeploymentHook,
        *,
        waiter_delay: float = 30,
        waiter_max_attempts: int = 120,
    ) -> None:
        self.champions = champions
        self.deployments = deployments
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts

    def promote(
        self,
        family: str,
        model_arn: str,
        challenger_deployment_arn: str | None,
        make_record: Callable[[str | None], dict[str, Any]],
    ) -> ChampionVersion:
        """Serve ``model_arn`` on the family's champion deployment, then record it as champion.

        ``make_record(serving_deployment_arn)`` builds the record (``evaluation.champion.build_record``).
        A retry of the same run's promotion finds its version and changes nothing (not even the
        deployment, which a newer run may have re-pointed since); it only finishes deleting the
        deployment that promotion replaced.
        """
        history = self.champions.history(family)
        probe = make_record(challenger_deployment_arn)
        earlier = promotion_by_run(history, probe["run_id"], model_arn)
        if earlier is not None:
            log.info("%s was already promoted by this run (version %d)", model_arn, earlier.version)
            self._delete_replaced(earlier.record.get("replaced_deployment_arn"))
            return earlier
        current = history[-1].record if history else None
        plan = plan_serving(current, challenger_deployment_arn)
        if plan.action == UPDATE and plan.serving_arn:
            self._check_recorded(plan.serving_arn, current, model_arn)
            try:
                self._point(plan.serving_arn, model_arn)
                log.info("Champion deployment %s now serves %s (same ARN)", plan.serving_arn, model_arn)
            except DeploymentUpdateImpossibleError as exc:
                if not challenger_deployment_arn:  # falling back would delete the only deployment
                    raise DeploymentUpdateImpossibleError(
                        f"{exc}; no challenger deployment to serve {model_arn} from instead: nothing changed"
                    ) from exc
                plan = fallback(plan, challenger_deployment_arn)
                log.warning(
                    "%s; falling back to serving from %s and deleting %s once the record moved",
                    exc,
                    plan.serving_arn,
                    plan.replaced_arn,
                )
        elif plan.action == ADOPT:
            log.info("The challenger's deployment %s becomes the champion deployment", plan.serving_arn)
        if plan.action == ADOPT and plan.serving_arn:
            self._check_adoptable(plan.serving_arn, model_arn, plan.replaced_arn)
        record = make_record(plan.serving_arn)
        if current and current.get("custom_model_arn"):
            record["previous_model_arn"] = current["custom_model_arn"]
        if plan.replaced_arn:
            record["replaced_deployment_arn"] = plan.replaced_arn
        if plan.action == UPDATE and plan.serving_arn:  # the deployment already serves model_arn
            version = self._record_after_repoint(
                family, plan.serving_arn, model_arn, history, lambda: self.champions.promote(family, record)
            )
        else:
            version = self.champions.promote(family, record)
        self._delete_replaced(plan.replaced_arn)
        return version

    def rollback(self, family: str, version: int, *, run_id: str | None = None) -> ChampionVersion:
        """Make ``version``'s model champion again: re-point the champion deployment at it, then write
        that version's record (with ``rollback_of_version`` and ``rollback_run_id``) as a new version.
        A retry finds the rollback already current, and a rerun of ``run_id`` finds its rollback
        anywhere in the history (a newer champion since stays champion): both change nothing.

        :raises ValueError: the family has no such version.
        :raises DeploymentUpdateImpossibleError: the deployment cannot serve that model any more.
        """
        versions = self.champions.history(family)
        history = {v.version: v for v in versions}
        if version not in history:
            raise ValueError(
                f"{self.champions.parameter(family)} has no version {version}; it has {sorted(history)}"
            )
        earlier = rollback_by_run(versions, run_id, version)
        if earlier is not None:
            log.info(
                "%s: this run already rolled back to version %d (as version %d)",
                family,
                version,
                earlier.version,
            )
            return earlier
        target = history[version].record
        current = history[max(history)]
        if current.record.get("rollback_of_version") == version:
            log.info("%s is already rolled back to version %d", family, version)
            return current
        serving = champion_deployment(current.record)
        model_arn = target.get("custom_model_arn")
        record = dict(target, rollback_of_version=version, rollback_run_id=run_id)
        record.pop("replaced_deployment_arn", None)
        if serving and model_arn:
            self._check_recorded(serving, current.record, str(model_arn))
            self._point(serving, str(model_arn))
            record.update(deployment_arn=serving, model_id=serving)
            return self._record_after_repoint(
                family, serving, str(model_arn), versions, lambda: self.champions.put(family, record)
            )
        return self.champions.put(family, record)

    def _record_after_repoint(
        self,
        family: str,
        deployment_arn: str,
        model_arn: str,
        history: list[ChampionVersion],
        write: Callable[[], ChampionVersion],
    ) -> ChampionVersion:
        """``write()`` the record of a deployment already re-pointed at ``model_arn``.

        A failed write leaves the record naming the model the deployment served before: that is said in
        one line (StaleChampionRecordError). A retry converges: ``point_at`` finds the deployment serving
        ``model_arn`` (no second update) and the write is made again.
        """
        try:
            return write()
        except (BotoCoreError, ClientError) as exc:
            current = history[-1] if history else None
            message = stale_record(self.champions.parameter(family), deployment_arn, model_arn, current, exc)
            raise StaleChampionRecordError(message) from exc

    def _check_recorded(self, deployment_arn: str, record: dict[str, Any] | None, model_arn: str) -> None:
        """DeploymentBusyError, before any change, when another run re-pointed the champion deployment
        without recording it (``evaluation.promotion.unrecorded_repoint``)."""
        reason = unrecorded_repoint(record, self.deployments.describe(deployment_arn), model_arn)
        if reason:
            raise DeploymentBusyError(reason)

    def _check_adoptable(self, arn: str, model_arn: str, replaced_arn: str | None) -> None:
        """Raise before anything is written when ``arn`` cannot serve ``model_arn`` as champion."""
        reason = not_adoptable(arn, self.deployments.describe(arn), model_arn)
        if reason is None:
            return
        kept = f"; {replaced_arn} keeps serving the current champion" if replaced_arn else ""
        raise DeploymentUpdateImpossibleError(
            f"not promoting {model_arn}: {reason}{kept}; nothing was changed (deploy it again and re-run)"
        )

    def _point(self, deployment_arn: str, model_arn: str) -> None:
        self.deployments.point_at(
            deployment_arn,
            model_arn,
            waiter_delay=self.waiter_delay,
            waiter_max_attempts=self.waiter_max_attempts,
        )

    def _delete_replaced(self, arn: str | None) -> None:
        if arn:
            self.deployments.delete(arn)
