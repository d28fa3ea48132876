"""On-demand custom model deployments: Creating -> Active after a scaled delay, then served by Converse.

``UpdateCustomModelDeployment`` re-points a deployment at another custom model without downtime: the
old model keeps answering while ``updateDetails.updateStatus`` is ``Updating``; after a scaled delay
the new one does (``UpdateCompleted``). An update to a model of another base model, of a deployment
that is not Active, or while another update runs is refused (ValidationException), so callers meet
the "update not possible" case they must fall back from.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.jobs import validation as rules
from bedrock_rft_provider.sandbox.checks import Violations
from bedrock_rft_provider.sandbox.control_plane import BedrockControlPlane
from bedrock_rft_provider.sandbox.protocol import ACCOUNT_ID, conflict, not_found, timestamp, validation_error
from bedrock_rft_provider.sandbox.records import (
    CustomModelRecord,
    comparable,
    new_resource_id,
    paginate,
    sort_and_filter_time,
)


@dataclass
class DeploymentRecord:
    arn: str
    name: str
    model: CustomModelRecord
    request: dict[str, Any]
    created: float
    ready_at: float
    update_to: CustomModelRecord | None = None
    update_ready_at: float = 0.0
    updated: bool = False

    @property
    def status(self) -> str:
        return "Active" if time.time() >= self.ready_at else "Creating"

    @property
    def updating(self) -> bool:
        return self.update_to is not None and not self.updated and time.time() < self.update_ready_at

    def settle(self) -> None:
        """Apply a finished update: from now on the new model answers (caller holds the lock)."""
        if self.update_to is not None and not self.updated and time.time() >= self.update_ready_at:
            self.model = self.update_to
            self.updated = True

    def update_details(self) -> dict[str, Any] | None:
        if self.update_to is None:
            return None
        status = "UpdateCompleted" if self.updated else "Updating"
        return {"modelArn": self.update_to.arn, "updateStatus": status}

    def summary(self) -> dict[str, Any]:
        out = {
            "customModelDeploymentArn": self.arn,
            "customModelDeploymentName": self.name,
            "modelArn": self.model.arn,
            "createdAt": timestamp(self.created),
            "status": self.status,
        }
        if self.status == "Active":
            out["lastUpdatedAt"] = timestamp(self.ready_at)
        return out

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "customModelDeploymentArn": self.arn,
            "modelDeploymentName": self.name,
            "modelArn": self.model.arn,
            "createdAt": timestamp(self.created),
            "status": self.status,
        }
        if self.request.get("description") is not None:
            out["description"] = self.request["description"]
        if self.status == "Active":
            out["lastUpdatedAt"] = timestamp(max(self.ready_at, self.update_ready_at))
        details = self.update_details()
        if details is not None:
            out["updateDetails"] = details
        return out


class Deployments:
    """CreateCustomModelDeployment and friends; state guarded by the control plane's lock."""

    def __init__(self, plane: BedrockControlPlane) -> None:
        self.plane = plane
        self.lock: threading.RLock = plane.lock
        self.records: dict[str, DeploymentRecord] = {}
        self.tokens: dict[str, str] = {}

    def find(self, identifier: str) -> DeploymentRecord:
        with self.lock:
            found = self.records.get(identifier) or next(
                (d for d in self.records.values() if d.name == identifier), None
            )
        if found is None:
            raise not_found(f"Could not find custom model deployment {identifier}.")
        with self.lock:
            found.settle()
        return found

    def model_in_use(self, model_arn: str) -> bool:
        with self.lock:
            return any(
                model_arn in (d.model.arn, d.update_to.arn if d.update_to else None)
                for d in self.records.values()
            )

    def create(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        violations = Violations()
        violations.pattern(body.get("modelDeploymentName"), "modelDeploymentName", rules.DEPLOYMENT_NAME)
        violations.pattern(body.get("modelArn"), "modelArn", rules.CUSTOM_MODEL_ARN)
        violations.pattern(body.get("clientRequestToken"), "clientRequestToken", rules.CLIENT_TOKEN)
        violations.raise_if_any()
        token = body.get("clientRequestToken")
        with self.lock:
            if token and token in self.tokens:
                existing = self.records[self.tokens[token]]
                if comparable(existing.request) != comparable(body):
                    raise conflict(
                        f"The clientRequestToken {token} was already used for a different request."
                    )
                return {"customModelDeploymentArn": existing.arn}
            model = self.plane.find_model(body["modelArn"])
            if any(d.name == body["modelDeploymentName"] for d in self.records.values()):
                raise conflict(
                    f"A custom model deployment named {body['modelDeploymentName']} already exists."
                )
            arn = f"arn:aws:bedrock:{region}:{ACCOUNT_ID}:custom-model-deployment/{new_resource_id()}"
            now = time.time()
            record = DeploymentRecord(
                arn,
                body["modelDeploymentName"],
                model,
                copy.deepcopy(body),
                now,
                now + self.plane.config.seconds("deployment"),
            )
            self.records[arn] = record
            if token:
                self.tokens[token] = arn
            self.plane.add_tagged_resource(arn, list(body.get("tags") or []))
        return {"customModelDeploymentArn": arn}

    def update(self, identifier: str, body: dict[str, Any]) -> dict[str, Any]:
        """Re-point the deployment at ``modelArn``; the current model answers until the update completes."""
        violations = Violations()
        violations.pattern(body.get("modelArn"), "modelArn", rules.CUSTOM_MODEL_ARN)
        violations.raise_if_any()
        record = self.find(identifier)
        with self.lock:
            model = self.plane.find_model(body["modelArn"])
            if record.updating:
                if record.update_to is model:
                    return {"customModelDeploymentArn": record.arn}  # the same request again (idempotent)
                raise validation_error(
                    f"The custom model deployment {record.arn} is being updated; wait for the update to end."
                )
            if record.status != "Active":
                raise validation_error(
                    f"The custom model deployment {record.arn} is {record.status}; only an Active "
                    "deployment can be updated."
                )
            if model.job.base_model_id != record.model.job.base_model_id:
                raise validation_error(
                    f"The custom model {model.arn} has base model {model.job.base_model_id}; the "
                    f"deployment {record.arn} serves a custom model of {record.model.job.base_model_id}."
                )
            if model is record.model:
                return {"customModelDeploymentArn": record.arn}
            record.update_to = model
            record.updated = False
            record.update_ready_at = time.time() + self.plane.config.seconds("deployment_update")
        return {"customModelDeploymentArn": record.arn}

    def get(self, identifier: str) -> dict[str, Any]:
        return self.find(identifier).describe()

    def list(self, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            records = list(self.records.values())
        if query.get("nameContains"):
            records = [d for d in records if query["nameContains"] in d.name]
        if query.get("statusEquals"):
            records = [d for d in records if d.status == query["statusEquals"]]
        if query.get("modelArnEquals"):
            records = [d for d in records if d.model.arn == query["modelArnEquals"]]
        with self.lock:
            for d in records:
                d.settle()
        records = sort_and_filter_time(records, query, lambda d: d.created, "createdBefore", "createdAfter")
        return paginate([d.summary() for d in records], query, "modelDeploymentSummaries")

    def delete(self, identifier: str) -> dict[str, Any]:
        record = self.find(identifier)
        with self.lock:
            self.records.pop(record.arn, None)
            self.plane.forget_resource(record.arn)
        return {}

    def serving_model(self, arn: str) -> CustomModelRecord:
        """The custom model behind an Active deployment ARN (Converse/InvokeModel ``modelId``)."""
        with self.lock:
            record = self.records.get(arn)
            if record is not None:
                record.settle()
        if record is None:
            raise not_found(f"Could not find custom model deployment {arn}.")
        if record.status != "Active":
            raise validation_error(
                f"The custom model deployment {arn} is not ready for inference (status {record.status})."
            )
        return record.model
