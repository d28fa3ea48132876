"""A fake of Bedrock's OpenAI-compatible fine-tuning API behind an ``httpx2.MockTransport``.

Every answer is built from the ``openai`` client's own response types (``FileObject``, ``FineTuningJob``,
``FineTuningJobEvent``, ``FineTuningJobCheckpoint``) and every job-create body is validated against the
client's request types, so the contract is the SDK's, not ours. Tests drive jobs forward with
:meth:`FakeOpenWeightAPI.advance`. The same tests can later run against the sandbox's emulation by
pointing the hook at its ``endpoint_url`` instead of this transport.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx2
from openai.types import FileObject
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint

from tests.support.openweight_contract import validate_job_create_body

NOW = 1_764_400_000


@dataclass
class FakeOpenWeightAPI:
    """In-memory files, jobs, events and checkpoints; ``requests`` records (method, path, auth header)."""

    files: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    checkpoints: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    create_bodies: list[dict[str, Any]] = field(default_factory=list)
    fail_next_create_after_commit: bool = False
    clock: int = NOW

    # -- what tests look at ------------------------------------------------------------------------------
    def calls(self, method: str, path_pattern: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and re.fullmatch(path_pattern, p))

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def async_transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    # -- what tests do -----------------------------------------------------------------------------------
    def advance(
        self, job_id: str, status: str, *, error: str | None = None, metrics: list[dict] | None = None
    ):
        """Move a job to ``status``, appending a message event and the given metric events."""
        job = self._job(job_id)
        job["status"] = status
        self.clock += 60
        if status == "succeeded":
            job["fine_tuned_model"] = f"{job['model']}:ft:{job_id}"
            job["finished_at"] = self.clock
        if error:
            job["error"] = {"code": "grader_error", "message": error, "param": None}
        for point in metrics or []:
            self._event(job_id, "metrics", f"step {point['step']}", data=point)
        self._event(job_id, "message", f"Job {status}")

    def add_checkpoint(self, job_id: str, step: int, **metrics: float) -> None:
        checkpoint = FineTuningJobCheckpoint(
            id=f"ftckpt-{job_id}-{step}",
            created_at=self.clock,
            fine_tuned_model_checkpoint=f"{self._job(job_id)['model']}:ckpt-{step}",
            fine_tuning_job_id=job_id,
            metrics=metrics,  # type: ignore[arg-type]
            object="fine_tuning.job.checkpoint",
            step_number=step,
        )
        self.checkpoints.setdefault(job_id, []).append(checkpoint.model_dump(mode="json"))

    # -- the API -----------------------------------------------------------------------------------------
    def handle(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path.removeprefix("/v1")
        self.requests.append((request.method, path, request.headers.get("authorization", "")))
        if not request.headers.get("authorization", "").startswith("Bearer bedrock-api-key-"):
            return _error(401, "missing or malformed Bedrock API key")
        route = (request.method, path)
        if route == ("GET", "/files"):
            return _page(self.files)
        if route == ("POST", "/files"):
            return self._create_file(request)
        if route == ("GET", "/fine_tuning/jobs"):
            return _page(sorted(self.jobs, key=lambda j: -j["created_at"]), request)
        if route == ("POST", "/fine_tuning/jobs"):
            return self._create_job(json.loads(request.content))
        match = re.fullmatch(r"/fine_tuning/jobs/([^/]+)(/[a-z]+)?", path)
        if match:
            job_id, action = match.groups()
            if request.method == "GET" and action is None:
                return httpx2.Response(200, json=self._job(job_id))
            if request.method == "POST" and action == "/cancel":
                self.advance(job_id, "cancelled")
                return httpx2.Response(200, json=self._job(job_id))
            if request.method == "GET" and action == "/events":
                return _page(list(reversed(self.events.get(job_id, []))), request)
            if request.method == "GET" and action == "/checkpoints":
                return _page(list(reversed(self.checkpoints.get(job_id, []))), request)
        return _error(404, f"not emulated: {request.method} {path}")

    def _create_file(self, request: httpx2.Request) -> httpx2.Response:
        body = request.content
        name = re.search(rb'filename="([^"]+)"', body)
        content = body.split(b"\r\n\r\n", 2)[-1].rsplit(b"\r\n--", 1)[0] if name else b""
        self.clock += 1
        created = FileObject(
            id=f"file-{len(self.files) + 1}",
            bytes=len(content),
            created_at=self.clock,
            filename=name.group(1).decode() if name else "upload.jsonl",
            object="file",
            purpose="fine-tune",
            status="processed",
        )
        self.files.append(created.model_dump(mode="json"))
        return httpx2.Response(200, json=self.files[-1])

    def _create_job(self, body: dict[str, Any]) -> httpx2.Response:
        validate_job_create_body(body)
        self.create_bodies.append(body)
        if body["training_file"] not in {f["id"] for f in self.files}:
            return _error(400, f"training_file {body['training_file']} not found")
        self.clock += 1
        job = FineTuningJob(
            id=f"ftjob-{len(self.jobs) + 1}",
            created_at=self.clock,
            hyperparameters={},
            model=body["model"],
            object="fine_tuning.job",
            organization_id="bedrock",
            result_files=[],
            seed=0,
            status="validating_files",
            training_file=body["training_file"],
            validation_file=body.get("validation_file"),
        )
        self.jobs.append(job.model_dump(mode="json"))
        if self.fail_next_create_after_commit:
            self.fail_next_create_after_commit = False
            return _error(500, "internal error after the job was created")
        return httpx2.Response(200, json=self.jobs[-1])

    def _job(self, job_id: str) -> dict[str, Any]:
        return next(j for j in self.jobs if j["id"] == job_id)

    def _event(self, job_id: str, kind: str, message: str, data: Any = None) -> None:
        events = self.events.setdefault(job_id, [])
        event = FineTuningJobEvent(
            id=f"ftevent-{job_id}-{len(events) + 1}",
            created_at=self.clock,
            level="info",
            message=message,
            object="fine_tuning.job.event",
            data=data,
            type=kind,  # type: ignore[arg-type]
        )
        events.append(event.model_dump(mode="json"))


def _page(items: list[dict[str, Any]], request: httpx2.Request | None = None) -> httpx2.Response:
    """A cursor page: ``after`` skips past that id, ``limit`` caps the page, ``has_more`` says if more."""
    start = 0
    if request is not None and request.url.params.get("after"):
        ids = [i["id"] for i in items]
        start = ids.index(request.url.params["after"]) + 1
    limit = int(request.url.params.get("limit", 20)) if request is not None else len(items) or 1
    page = items[start : start + limit]
    return httpx2.Response(200, json={"object": "list", "data": page, "has_more": start + limit < len(items)})


def _error(status: int, message: str) -> httpx2.Response:
    return httpx2.Response(status, json={"error": {"message": message, "type": "invalid_request_error"}})
