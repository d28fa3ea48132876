"""Bedrock control plane emulation: customization jobs, custom models and tags (thread-safe state).

Records live in ``records.py``, deployments in ``deployments.py``, and the training that moves a job
through its stages in ``training.py``; this module owns the state and the handlers for jobs and models.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

from moto.utilities.tagging_service import TaggingService

from bedrock_rft_provider.sandbox import checks, events, moto_state
from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.dataset import AnswerIndex
from bedrock_rft_provider.sandbox.policy import SimulatedPolicy, canonical_model_family
from bedrock_rft_provider.sandbox.protocol import ServiceError, conflict, not_found, validation_error
from bedrock_rft_provider.sandbox.records import (
    CustomModelRecord,
    JobRecord,
    bedrock_arn,
    comparable,
    new_resource_id,
    paginate,
    sort_and_filter_time,
)
from bedrock_rft_provider.sandbox.training import TrainingRun


class BedrockControlPlane:
    """State and handlers of the emulated Bedrock control plane; every method is thread-safe."""

    def __init__(self, config: SandboxConfig, endpoint_url: Callable[[], str | None]) -> None:
        self.config = config
        self.endpoint_url = endpoint_url
        self.lock = threading.RLock()
        self.jobs: dict[str, JobRecord] = {}
        self.tokens: dict[str, str] = {}
        self.models: dict[str, CustomModelRecord] = {}
        # moto's tag store (merge on tag, untag by key); ``tagged`` holds the resources that exist, since
        # a resource with no tags left must still answer ListTagsForResource.
        self.tags = TaggingService(tag_name="tags", key_name="key", value_name="value")
        self.tagged: set[str] = set()
        self.answers = AnswerIndex()
        self._base_policies: dict[str, SimulatedPolicy] = {}
        self._threads: list[threading.Thread] = []
        self._workers: set[Any] = set()  # LambdaWorkers of running jobs, ended at shutdown

    # ----- shared helpers -------------------------------------------------------------------------
    def base_policy(self, model_id: str) -> SimulatedPolicy:
        family = canonical_model_family(model_id)
        with self.lock:
            if family not in self._base_policies:
                self._base_policies[family] = SimulatedPolicy(family, self.config.seed)
            return self._base_policies[family]

    def known_base_model(self, identifier: str) -> str | None:
        """The foundation model id for an id or foundation-model ARN the sandbox serves, else None."""
        model_id = identifier.rsplit("/", 1)[-1] if ":foundation-model/" in identifier else identifier
        return model_id if model_id in self.config.base_models else None

    def find_job(self, identifier: str) -> JobRecord:
        with self.lock:
            job = self.jobs.get(identifier)
            if job is None:
                job = next((j for j in self.jobs.values() if j.name == identifier), None)
        if job is None:
            raise not_found(f"Could not find model customization job {identifier}.")
        return job

    def find_model(self, identifier: str) -> CustomModelRecord:
        with self.lock:
            model = self.models.get(identifier)
            if model is None:
                model = next((m for m in self.models.values() if m.name == identifier), None)
        if model is None:
            raise not_found(f"Could not find custom model {identifier}.")
        return model

    def set_stage(self, job: JobRecord, stage: str, status: str) -> None:
        with self.lock:
            state = job.stages[stage]
            now = time.time()
            if state.creation_time is None:
                state.creation_time = now
            state.status = status
            state.last_modified = now
            job.last_modified = now

    def finish(self, job: JobRecord, status: str, message: str | None = None) -> None:
        """End a job: Completed, Failed (with failureMessage) or Stopped; stages follow."""
        with self.lock:
            now = time.time()
            for stage in job.stages.values():
                if stage.status in ("InProgress", "Stopping"):
                    stage.status = {"Completed": "Completed", "Failed": "Failed"}.get(status, "Stopped")
                    stage.last_modified = now
            job.status = status
            job.failure_message = message[:2048] if message else None
            job.end_time = job.last_modified = now
        self.publish_state_change(job)

    def publish_state_change(self, job: JobRecord) -> None:
        """Emit the job's "Model Customization Job State Change" event into moto's EventBridge."""
        with self.lock:
            description = job.describe()
        events.publish(description, job.region)

    def register_model(self, job: JobRecord, policy: SimulatedPolicy) -> CustomModelRecord:
        with self.lock:
            arn = f"{bedrock_arn(job.region, 'custom-model')}/{job.base_model_id}/{new_resource_id()}"
            model = CustomModelRecord(arn, job.custom_model_name, job, policy, time.time())
            self.models[arn] = model
            self._track(arn, job.request.get("customModelTags"))
            job.output_model_arn = arn
            return model

    def read_data(self, uri: str) -> bytes | None:
        return moto_state.read_object(uri)

    def record_step(
        self, job: JobRecord, row: dict[str, Any], total_steps: int, policy: SimulatedPolicy
    ) -> None:
        """Native jobs report through the metrics CSV the run writes under the output prefix."""

    def resource_exists(self, arn: str) -> bool:
        with self.lock:
            return arn in self.tagged

    # ----- jobs -----------------------------------------------------------------------------------
    def create_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        checks.check_create_job(body)
        token = body.get("clientRequestToken")
        with self.lock:
            if token and token in self.tokens:
                existing = self.jobs[self.tokens[token]]
                if comparable(existing.request) != comparable(body):
                    raise conflict(
                        f"The clientRequestToken {token} was already used for a different request "
                        f"(job {existing.name})."
                    )
                return {"jobArn": existing.arn}
        base_model_id = self.known_base_model(body["baseModelIdentifier"])
        if base_model_id is None:
            raise validation_error(
                f"The provided model identifier {body['baseModelIdentifier']} is invalid or does not support "
                f"reinforcement fine-tuning. The sandbox serves: {', '.join(self.config.base_models)}."
            )
        self._check_resources_exist(body)
        with self.lock:
            if token and token in self.tokens:  # a concurrent duplicate request won the race
                return {"jobArn": self.tokens[token]}
            if any(job.name == body["jobName"] for job in self.jobs.values()):
                raise validation_error("The provided job name is currently in use.")
            if any(m.name == body["customModelName"] for m in self.models.values()) or any(
                j.custom_model_name == body["customModelName"] and j.status in ("InProgress", "Stopping")
                for j in self.jobs.values()
            ):
                raise validation_error("The provided custom model name is currently in use.")
            arn = f"{bedrock_arn(region, 'model-customization-job')}/{base_model_id}/{new_resource_id()}"
            job = JobRecord(arn, body["jobName"], copy.deepcopy(body), region, base_model_id, time.time())
            self.jobs[arn] = job
            if token:
                self.tokens[token] = arn
            self._track(arn, body.get("jobTags"))
        thread = threading.Thread(
            target=TrainingRun(self, job).run, name=f"sandbox-job-{job.name}", daemon=True
        )
        with self.lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        self.publish_state_change(job)  # InProgress, before the run can publish its end
        thread.start()
        return {"jobArn": arn}

    def _check_resources_exist(self, body: dict[str, Any]) -> None:
        role = body["roleArn"]
        if not moto_state.role_exists(role):
            raise validation_error(f"Could not assume the service role {role}: the role does not exist.")
        lambda_arn = body["customizationConfig"]["rftConfig"]["graderConfig"]["lambdaGrader"]["lambdaArn"]
        if moto_state.get_lambda(lambda_arn) is None:
            raise validation_error(
                f"The reward Lambda function {lambda_arn} does not exist (or that version/alias does not)."
            )
        logs = body["trainingDataConfig"].get("invocationLogsConfig")
        if logs is not None:
            source = logs["invocationLogSource"]["s3Uri"]
            if not moto_state.has_objects(source):
                raise validation_error(f"Unable to access the invocation logs at {source}: no objects found.")
        training = [] if logs is not None else [("training data", body["trainingDataConfig"]["s3Uri"])]
        uris = training + [
            ("validation data", v["s3Uri"])
            for v in (body.get("validationDataConfig") or {}).get("validators") or []
        ]
        for what, uri in uris:
            if moto_state.read_object(uri) is None:
                raise validation_error(f"Unable to access the {what} at {uri}: the S3 object does not exist.")
        output = body["outputDataConfig"]["s3Uri"]
        if not moto_state.bucket_exists(moto_state.parse_s3_uri(output)[0]):
            raise validation_error(
                f"Unable to access the output location {output}: the S3 bucket does not exist."
            )

    def get_job(self, identifier: str) -> dict[str, Any]:
        job = self.find_job(identifier)
        with self.lock:
            return job.describe()

    def list_jobs(self, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            jobs = list(self.jobs.values())
            if query.get("statusEquals"):
                jobs = [j for j in jobs if j.status == query["statusEquals"]]
            if query.get("nameContains"):
                jobs = [j for j in jobs if query["nameContains"] in j.name]
            jobs = sort_and_filter_time(
                jobs, query, lambda j: j.creation_time, "creationTimeBefore", "creationTimeAfter"
            )
            return paginate([j.summary() for j in jobs], query, "modelCustomizationJobSummaries")

    def stop_job(self, identifier: str) -> dict[str, Any]:
        job = self.find_job(identifier)
        with self.lock:
            if job.status == "Stopping":
                return {}
            if job.status != "InProgress":
                raise validation_error(
                    f"Job {job.name} cannot be stopped because its status is {job.status}."
                )
            job.status = "Stopping"
            for stage in job.stages.values():
                if stage.status == "InProgress":
                    stage.status = "Stopping"
            job.last_modified = time.time()
            job.stop_requested.set()
        self.publish_state_change(job)
        return {}

    # ----- custom models --------------------------------------------------------------------------
    def get_model(self, identifier: str) -> dict[str, Any]:
        return self.find_model(identifier).describe()

    def list_models(self, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            models = list(self.models.values())
        if query.get("nameContains"):
            models = [m for m in models if query["nameContains"] in m.name]
        for name in ("baseModelArnEquals", "foundationModelArnEquals"):
            if query.get(name):
                models = [m for m in models if m.job.base_model_arn == query[name]]
        if query.get("modelStatus") and query["modelStatus"] != "Active":
            models = []
        models = sort_and_filter_time(
            models, query, lambda m: m.creation_time, "creationTimeBefore", "creationTimeAfter"
        )
        return paginate([m.summary() for m in models], query, "modelSummaries")

    def delete_model(self, identifier: str, in_use: Callable[[str], bool]) -> dict[str, Any]:
        model = self.find_model(identifier)
        if in_use(model.arn):
            raise validation_error(
                f"Custom model {model.name} has a custom model deployment; delete the deployment first."
            )
        with self.lock:
            self.models.pop(model.arn, None)
            self._untrack(model.arn)
        return {}

    # ----- tags -----------------------------------------------------------------------------------
    def list_tags(self, body: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged_resource(body)
        with self.lock:
            return self.tags.list_tags_for_resource(arn)

    def tag(self, body: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged_resource(body)
        new = body.get("tags") or []
        with self.lock:
            keys = set(self.tags.get_tag_dict_for_resource(arn)) | {t["key"] for t in new}
            if len(keys) > checks.MAX_TAGS:
                raise ServiceError(
                    "TooManyTagsException", f"A resource can have at most {checks.MAX_TAGS} tags."
                )
            self.tags.tag_resource(arn, new)
        return {}

    def untag(self, body: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged_resource(body)
        with self.lock:
            self.tags.untag_resource_using_names(arn, list(body.get("tagKeys") or []))
        return {}

    def add_tagged_resource(self, arn: str, tags: list[dict[str, str]]) -> None:
        with self.lock:
            self._track(arn, tags)

    def forget_resource(self, arn: str) -> None:
        with self.lock:
            self._untrack(arn)

    def _tagged_resource(self, body: dict[str, Any]) -> str:
        arn = str(body.get("resourceARN", ""))
        with self.lock:
            if arn not in self.tagged:
                raise not_found(f"Could not find resource {arn}.")
        return arn

    def _track(self, arn: str, tags: list[dict[str, str]] | None) -> None:
        """Under the lock: ``arn`` exists, with exactly ``tags``."""
        self.tags.delete_all_tags_for_resource(arn)
        self.tags.tag_resource(arn, list(tags or []))
        self.tagged.add(arn)

    def _untrack(self, arn: str) -> None:
        self.tags.delete_all_tags_for_resource(arn)
        self.tagged.discard(arn)

    def adopt_worker(self, worker: Any) -> None:
        """Track a running job's Lambda worker so that shutdown ends its process even mid-invocation."""
        with self.lock:
            self._workers.add(worker)

    def release_worker(self, worker: Any) -> None:
        with self.lock:
            self._workers.discard(worker)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop running jobs, end their Lambda workers, and wait for their threads (sandbox stop)."""
        with self.lock:
            jobs = list(self.jobs.values())
            threads = list(self._threads)
        for job in jobs:
            job.stop_requested.set()
        with self.lock:
            workers = list(self._workers)
        for worker in workers:  # a grader stuck in a slow handler must not outlive the sandbox
            worker.close()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
