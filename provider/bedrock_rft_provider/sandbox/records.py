"""Records of the emulated Bedrock control plane (jobs, custom models) and how List* APIs page them."""

from __future__ import annotations

import copy
import json
import secrets
import string
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bedrock_rft_provider.sandbox.config import JOB_STAGES
from bedrock_rft_provider.sandbox.policy import SimulatedPolicy
from bedrock_rft_provider.sandbox.protocol import ACCOUNT_ID, parse_timestamp, timestamp

STAGE_FIELDS = {
    "validation": "validationDetails",
    "dataProcessing": "dataProcessingDetails",
    "training": "trainingDetails",
}
_ID_ALPHABET = string.ascii_lowercase + string.digits


def bedrock_arn(region: str, resource_type: str) -> str:
    """``arn:aws:bedrock:REGION:ACCOUNT:TYPE`` (the caller appends ``/...``)."""
    return f"arn:aws:bedrock:{region}:{ACCOUNT_ID}:{resource_type}"


def new_resource_id() -> str:
    """12 lowercase alphanumerics, the id suffix of Bedrock ARNs."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


@dataclass
class StageState:
    status: str = "NotStarted"
    creation_time: float | None = None
    last_modified: float | None = None

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.creation_time is not None:
            out["creationTime"] = timestamp(self.creation_time)
        if self.last_modified is not None:
            out["lastModifiedTime"] = timestamp(self.last_modified)
        return out


@dataclass
class JobRecord:
    """One model customization job and everything its Get/List responses show."""

    arn: str
    name: str
    request: dict[str, Any]
    region: str
    base_model_id: str
    creation_time: float
    status: str = "InProgress"
    stages: dict[str, StageState] = field(default_factory=lambda: {s: StageState() for s in JOB_STAGES})
    failure_message: str | None = None
    last_modified: float | None = None
    end_time: float | None = None
    output_model_arn: str | None = None
    stop_requested: threading.Event = field(default_factory=threading.Event)

    @property
    def base_model_arn(self) -> str:
        return f"arn:aws:bedrock:{self.region}::foundation-model/{self.base_model_id}"

    @property
    def custom_model_name(self) -> str:
        return str(self.request["customModelName"])

    def statuses(self) -> dict[str, Any]:
        return {STAGE_FIELDS[name]: stage.render() for name, stage in self.stages.items()}

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "jobArn": self.arn,
            "baseModelArn": self.base_model_arn,
            "jobName": self.name,
            "status": self.status,
            "statusDetails": self.statuses(),
            "creationTime": timestamp(self.creation_time),
            "customModelName": self.custom_model_name,
            "customizationType": self.request.get("customizationType", "FINE_TUNING"),
        }
        if self.last_modified is not None:
            out["lastModifiedTime"] = timestamp(self.last_modified)
        if self.end_time is not None:
            out["endTime"] = timestamp(self.end_time)
        if self.output_model_arn:
            out["customModelArn"] = self.output_model_arn
        return out

    def describe(self) -> dict[str, Any]:
        req = self.request
        out: dict[str, Any] = {
            "jobArn": self.arn,
            "jobName": self.name,
            "outputModelName": self.custom_model_name,
            "roleArn": req["roleArn"],
            "status": self.status,
            "statusDetails": self.statuses(),
            "creationTime": timestamp(self.creation_time),
            "baseModelArn": self.base_model_arn,
            "trainingDataConfig": copy.deepcopy(req["trainingDataConfig"]),
            "validationDataConfig": copy.deepcopy(req.get("validationDataConfig") or {"validators": []}),
            "outputDataConfig": copy.deepcopy(req["outputDataConfig"]),
            "customizationType": req.get("customizationType", "FINE_TUNING"),
        }
        for source, target in (
            ("clientRequestToken", "clientRequestToken"),
            ("customizationConfig", "customizationConfig"),
            ("vpcConfig", "vpcConfig"),
            ("customModelKmsKeyId", "outputModelKmsKeyArn"),
        ):
            if req.get(source) is not None:
                out[target] = copy.deepcopy(req[source])
        if self.output_model_arn:
            out["outputModelArn"] = self.output_model_arn
        if self.failure_message:
            out["failureMessage"] = self.failure_message
        if self.last_modified is not None:
            out["lastModifiedTime"] = timestamp(self.last_modified)
        if self.end_time is not None:
            out["endTime"] = timestamp(self.end_time)
        return out


@dataclass
class CustomModelRecord:
    """A custom model produced by a completed job; it carries the trained simulated policy."""

    arn: str
    name: str
    job: JobRecord
    policy: SimulatedPolicy
    creation_time: float

    def summary(self) -> dict[str, Any]:
        return {
            "modelArn": self.arn,
            "modelName": self.name,
            "creationTime": timestamp(self.creation_time),
            "baseModelArn": self.job.base_model_arn,
            "baseModelName": self.job.base_model_id,
            "customizationType": "REINFORCEMENT_FINE_TUNING",
            "ownerAccountId": ACCOUNT_ID,
            "modelStatus": "Active",
        }

    def describe(self) -> dict[str, Any]:
        req = self.job.request
        out = {
            "modelArn": self.arn,
            "modelName": self.name,
            "jobName": self.job.name,
            "jobArn": self.job.arn,
            "baseModelArn": self.job.base_model_arn,
            "customizationType": "REINFORCEMENT_FINE_TUNING",
            "trainingDataConfig": copy.deepcopy(req["trainingDataConfig"]),
            "validationDataConfig": copy.deepcopy(req.get("validationDataConfig") or {"validators": []}),
            "outputDataConfig": copy.deepcopy(req["outputDataConfig"]),
            "creationTime": timestamp(self.creation_time),
            "modelStatus": "Active",
        }
        if req.get("customizationConfig") is not None:
            out["customizationConfig"] = copy.deepcopy(req["customizationConfig"])
        return out


def paginate(items: list[dict[str, Any]], query: dict[str, str], key: str) -> dict[str, Any]:
    """Apply maxResults/nextToken (an offset) to a sorted list, as the List* APIs do."""
    start = int(query.get("nextToken") or 0)
    size = int(query.get("maxResults") or 100)
    page = items[start : start + size]
    out: dict[str, Any] = {key: page}
    if start + size < len(items):
        out["nextToken"] = str(start + size)
    return out


def sort_and_filter_time(
    records: Iterable[Any], query: dict[str, str], created: Callable[[Any], float], before: str, after: str
) -> list[Any]:
    chosen = list(records)
    if query.get(after):
        chosen = [r for r in chosen if created(r) > parse_timestamp(query[after])]
    if query.get(before):
        chosen = [r for r in chosen if created(r) < parse_timestamp(query[before])]
    chosen.sort(key=created, reverse=query.get("sortOrder", "Descending") == "Descending")
    return chosen


def comparable(request: dict[str, Any]) -> str:
    """A canonical form of a request, to tell an idempotent retry from a different request."""
    return json.dumps(request, sort_keys=True, default=str)
