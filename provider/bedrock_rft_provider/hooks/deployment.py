"""BedrockCustomModelDeploymentHook: create-or-reuse, re-point, wait for and delete on-demand deployments."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook
from airflow.providers.amazon.aws.utils.waiter_with_logging import wait
from botocore.exceptions import ClientError

from bedrock_rft_provider.errors import BedrockRFTError, ConfigError, aws_error_code

STATUS_QUERIES = ["status", "failureMessage"]


class DeploymentFailedError(BedrockRFTError):
    """The deployment ended Failed; the message carries Bedrock's ``failureMessage``."""


class DeploymentUpdateImpossibleError(BedrockRFTError):
    """The deployment cannot be re-pointed at the model (refused, Failed, gone); nothing changed."""


class DeploymentBusyError(BedrockRFTError):
    """Another update of the deployment (another promotion) is under way or replaced ours; nothing was
    changed by us. Not "impossible": falling back would delete a deployment that is being re-pointed."""


@dataclass(frozen=True)
class Deployment:
    """A deployment as a create-or-reuse call found or made it."""

    arn: str
    name: str
    model_arn: str
    status: str
    reused: bool


def _not_found(exc: ClientError) -> bool:
    return aws_error_code(exc) == "ResourceNotFoundException"


class BedrockCustomModelDeploymentHook(BedrockHook):
    """Bedrock control-plane calls for custom model deployments, idempotent under task retries."""

    @property
    def waiter_path(self) -> Path:
        return Path(__file__).resolve().parents[1] / "waiters" / "bedrock_rft_deployment.json"

    def describe(self, identifier: str) -> dict[str, Any] | None:
        """``get_custom_model_deployment`` by name or ARN; None when it does not exist."""
        try:
            response = self.conn.get_custom_model_deployment(customModelDeploymentIdentifier=identifier)
        except ClientError as exc:
            if _not_found(exc):
                return None
            raise
        response.pop("ResponseMetadata", None)
        return dict(response)

    def create_or_reuse(
        self,
        name: str,
        model_arn: str,
        *,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        namespace: str = "",
    ) -> Deployment:
        """Return the deployment called ``name`` for ``model_arn``, creating it only if it is absent.

        A deployment of that name serving a different model is an error, never silently reused.
        ``namespace`` (the Airflow deployment namespace) is hashed into the clientRequestToken.
        """
        from bedrock_rft_provider.jobs.naming import client_request_token
        from bedrock_rft_provider.jobs.validation import check_tags

        existing = self.describe(name)
        if existing is None:
            request: dict[str, Any] = {
                "modelDeploymentName": name,
                "modelArn": model_arn,
                "clientRequestToken": client_request_token(
                    "deployment", name, model_arn, namespace=namespace
                ),
            }
            if description:
                request["description"] = description
            if tags:
                request["tags"] = check_tags("tags", tags)
            arn = self.conn.create_custom_model_deployment(**request)["customModelDeploymentArn"]
            self.log.info("Created deployment %s of %s: %s", name, model_arn, arn)
            return Deployment(arn, name, model_arn, "Creating", reused=False)
        if existing["modelArn"] != model_arn:
            raise ConfigError(
                "deployment_name",
                f"deployment {name!r} already serves {existing['modelArn']}, not {model_arn}; "
                "choose another name or delete it",
            )
        if existing["status"] == "Failed":
            raise DeploymentFailedError(
                f"deployment {name} exists and Failed: "
                f"{existing.get('failureMessage') or 'Bedrock gave no failureMessage'}; "
                "delete it (BedrockCustomModelDeploymentDeleteOperator) before retrying"
            )
        self.log.info(
            "Reusing deployment %s (%s), status %s",
            name,
            existing["customModelDeploymentArn"],
            existing["status"],
        )
        return Deployment(
            existing["customModelDeploymentArn"], name, model_arn, existing["status"], reused=True
        )

    def wait_until_active(
        self, identifier: str, *, waiter_delay: int = 30, waiter_max_attempts: int = 120
    ) -> None:
        """Block until the deployment is Active (raises if it Fails or the wait runs out)."""
        wait(
            waiter=self.get_waiter("custom_model_deployment_active"),
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            args={"customModelDeploymentIdentifier": identifier},
            failure_message=f"Deployment {identifier} did not become Active",
            status_message=f"Deployment {identifier}",
            status_args=STATUS_QUERIES,
        )

    def point_at(
        self, identifier: str, model_arn: str, *, waiter_delay: float = 30, waiter_max_attempts: int = 120
    ) -> None:
        """Re-point a deployment at ``model_arn`` (``UpdateCustomModelDeployment``) and wait until it
        answers with it; the old model keeps answering meanwhile. Idempotent: a deployment that already
        serves it, or is already being updated to it, gets no second request.

        :raises DeploymentUpdateImpossibleError: the service refused the update (ValidationException,
            e.g. another base model), the deployment or its update Failed, or it does not exist.
        :raises DeploymentBusyError: another update of it (to another model) is running, or replaced
            ours while we waited.
        :raises TimeoutError: still updating after ``waiter_max_attempts`` checks.
        """
        state = self._not_busy(identifier, model_arn, self.describe(identifier), requested=False)
        if state == "other":
            try:
                self.conn.update_custom_model_deployment(
                    customModelDeploymentIdentifier=identifier, modelArn=model_arn
                )
            except ClientError as exc:
                if aws_error_code(exc) in ("ValidationException", "ResourceNotFoundException"):
                    raise DeploymentUpdateImpossibleError(
                        f"deployment {identifier} cannot be updated to {model_arn}: {exc}"
                    ) from exc
                raise
            self.log.info("Updating deployment %s to serve %s", identifier, model_arn)
            state = "updating"
        for attempt in range(waiter_max_attempts + 1):
            if state == "serving":
                self.log.info("Deployment %s serves %s", identifier, model_arn)
                return
            if state in ("failed", "gone"):
                described = self.describe(identifier) or {}
                raise DeploymentUpdateImpossibleError(
                    f"deployment {identifier} could not be updated to {model_arn}: {state}, "
                    f"{described.get('failureMessage') or 'no failureMessage'}"
                )
            if attempt == waiter_max_attempts:
                break
            self.log.info(
                "Deployment %s: update to %s %s (check %d)", identifier, model_arn, state, attempt + 1
            )
            time.sleep(waiter_delay)
            state = self._not_busy(identifier, model_arn, self.describe(identifier), requested=True)
        raise TimeoutError(
            f"deployment {identifier} still not serving {model_arn} after {waiter_max_attempts} checks "
            f"of {waiter_delay} s"
        )

    def _not_busy(
        self, identifier: str, model_arn: str, described: dict[str, Any] | None, *, requested: bool
    ) -> str:
        """``update_state`` of ``described``, unless another update of the deployment runs, or (once ours
        was ``requested``) landed after ours: then DeploymentBusyError naming what it serves now."""
        from bedrock_rft_provider.evaluation.promotion import update_state

        state = update_state(described, model_arn)
        if state == "busy":
            other = ((described or {}).get("updateDetails") or {}).get("modelArn")
            raise DeploymentBusyError(
                f"deployment {identifier} is being updated to {other} (another promotion?), not to "
                f"{model_arn}: nothing changed; retry once that update has ended"
            )
        if state == "other" and requested:
            # Bedrock takes one update at a time: a stable deployment serving another model means a
            # later update (another promotion or a rollback) replaced ours; waiting would only time out.
            raise DeploymentBusyError(
                f"deployment {identifier} now serves {(described or {}).get('modelArn')}, not {model_arn}: "
                "another update (another promotion or rollback?) landed while we waited for ours; "
                "this task wrote no record; retry it once that run has recorded its champion"
            )
        return state

    def delete(self, identifier: str) -> bool:
        """Delete the deployment; False (and no error) when it is already gone."""
        try:
            self.conn.delete_custom_model_deployment(customModelDeploymentIdentifier=identifier)
        except ClientError as exc:
            if _not_found(exc):
                self.log.info("Deployment %s is already gone", identifier)
                return False
            raise
        self.log.info("Deleted deployment %s", identifier)
        return True

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        """Add tags to a Bedrock resource (custom model, deployment)."""
        from bedrock_rft_provider.jobs.validation import check_tags

        self.conn.tag_resource(resourceARN=arn, tags=check_tags("tags", tags))
