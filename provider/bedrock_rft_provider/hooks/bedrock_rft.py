"""BedrockRFTHook: start (or reattach to), watch, stop and read metrics of Bedrock RFT jobs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook
from airflow.providers.amazon.aws.utils.waiter_with_logging import wait
from botocore.exceptions import ClientError

from bedrock_rft_provider.errors import JobConflictError, aws_error_code
from bedrock_rft_provider.hooks.storage import StorageHook

if TYPE_CHECKING:
    from bedrock_rft_provider.jobs.metrics import TrainingMetrics
    from bedrock_rft_provider.jobs.spec import RFTJobSpec
    from bedrock_rft_provider.jobs.training_key import TrainingKey

SUCCESS_STATES = frozenset({"Completed"})
# How many InProgress/Completed RFT jobs (newest first) a training-key lookup reads the tags of.
MAX_REUSE_CANDIDATES = 200
FAILURE_STATES = frozenset({"Failed", "Stopped"})
TERMINAL_STATES = SUCCESS_STATES | FAILURE_STATES
# A job being stopped will end Stopped: a retry must not reattach to it as if it were still training.
NOT_LIVE_STATES = FAILURE_STATES | {"Stopping"}
DUPLICATE_NAME_MESSAGE = "currently in use"
# What the waiter logs on every poll: status, the stage statuses and Bedrock's failure message.
STATUS_QUERIES = [
    "status",
    "statusDetails.validationDetails.status",
    "statusDetails.dataProcessingDetails.status",
    "statusDetails.trainingDetails.status",
    "failureMessage",
]


@dataclass(frozen=True)
class RFTJob:
    """The job a start call ended up with, and whether it was already there."""

    job_arn: str
    job_name: str
    status: str
    reattached: bool
    description: dict[str, Any]


class BedrockRFTHook(BedrockHook):
    """Bedrock control-plane calls for RFT jobs, idempotent under task retries.

    Uses the Airflow AWS connection (``aws_conn_id``) like every amazon-provider hook.
    """

    @property
    def waiter_path(self) -> Path:
        return Path(__file__).resolve().parents[1] / "waiters" / "bedrock_rft.json"

    @cached_property
    def storage(self) -> StorageHook:
        """S3 access of the same connection (datasets' sha256, the job's metrics files)."""
        return StorageHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify)

    # -- lookups -----------------------------------------------------------------------------------
    def describe_job(self, job_identifier: str) -> dict[str, Any]:
        """``get_model_customization_job`` by name or ARN, without the response metadata."""
        response = self.conn.get_model_customization_job(jobIdentifier=job_identifier)
        response.pop("ResponseMetadata", None)
        return dict(response)

    def find_job(self, job_identifier: str) -> dict[str, Any] | None:
        """The job's description, or None when no job has that name or ARN."""
        try:
            return self.describe_job(job_identifier)
        except ClientError as exc:
            if aws_error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    def list_rft_jobs(
        self, *, name_contains: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Summaries of RFT jobs (other customization types are left out), newest first."""
        from bedrock_rft_provider.jobs.spec import CUSTOMIZATION_TYPE

        kwargs: dict[str, Any] = {"sortBy": "CreationTime", "sortOrder": "Descending"}
        if name_contains:
            kwargs["nameContains"] = name_contains
        if status:
            kwargs["statusEquals"] = status
        jobs: list[dict[str, Any]] = []
        for page in self.conn.get_paginator("list_model_customization_jobs").paginate(**kwargs):
            jobs.extend(
                s
                for s in page.get("modelCustomizationJobSummaries", [])
                if s.get("customizationType") in (None, CUSTOMIZATION_TYPE)
            )
        return jobs

    # -- data-level reuse ---------------------------------------------------------------------------
    def content_sha256(self, uri: str) -> str:
        """sha256 (hex) of an S3 object's content, streamed in 1 MiB chunks."""
        return self.storage.sha256(uri)

    def grader_identity(self, lambda_arn: str) -> dict[str, Any]:
        """What decides how the grader scores: its code sha256, handler, runtime, environment, layers.

        ``lambda_arn`` may carry a version or alias qualifier; Lambda resolves it to the version's code.
        """
        from airflow.providers.amazon.aws.hooks.lambda_function import LambdaHook

        lambda_hook = LambdaHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify
        )
        config = lambda_hook.conn.get_function_configuration(FunctionName=lambda_arn)
        return {
            "code_sha256": config.get("CodeSha256"),
            "handler": config.get("Handler"),
            "runtime": config.get("Runtime"),
            "environment": (config.get("Environment") or {}).get("Variables") or {},
            "layers": sorted(layer.get("Arn", "") for layer in config.get("Layers") or []),
        }

    def reusable_job(self, spec: RFTJobSpec, key: TrainingKey, attempt: int) -> RFTJob | None:
        """Another run's live or completed job with ``key``, to reuse instead of training again; None
        when there is none, or when one of this run's tries up to ``attempt`` has a job of its own."""
        existing = self.find_job_by_training_key(key.digest)
        if existing is None:
            self.log.info("No running or completed RFT job has %s; training", key.describe())
            return None
        own_names = {spec.for_attempt(n).job_name for n in range(1, max(attempt, 1) + 1)}
        if existing["jobName"] in own_names:
            return None  # this run's own job: start_or_reattach reattaches to it as usual
        # A clear or retry always reattaches: when an earlier try of this run has a live or completed
        # job, a newer job with the same key (another run's, forced or started at the same instant)
        # must not make this try orphan its own paid training.
        for name in sorted(own_names):
            own = self.find_job(name)
            if own is not None and own.get("status") not in NOT_LIVE_STATES:
                return None
        self.log.warning(
            "REUSING RFT job %s (status %s) instead of training again: it has the same %s. "
            "Set force_retrain=True (DAG param force_retrain) to train anyway.",
            existing["jobName"],
            existing.get("status"),
            key.describe(),
        )
        return job_from_description(existing, reattached=True)

    def job_tags(self, job_arn: str) -> dict[str, str]:
        """The job's tags (``ListTagsForResource``) as ``{key: value}``."""
        tags = self.conn.list_tags_for_resource(resourceARN=job_arn).get("tags") or []
        return {str(t.get("key")): str(t.get("value")) for t in tags}

    def find_job_by_training_key(self, digest: str) -> dict[str, Any] | None:
        """The newest InProgress or Completed RFT job tagged with training key ``digest``, or None.

        Reads the tags (``ListTagsForResource``) of at most ``MAX_REUSE_CANDIDATES`` such jobs.
        """
        from bedrock_rft_provider.jobs.training_key import REUSABLE_STATES, TRAINING_KEY_TAG

        checked = 0
        for summary in self.list_rft_jobs():
            if summary.get("status") not in REUSABLE_STATES:
                continue
            checked += 1
            if checked > MAX_REUSE_CANDIDATES:
                self.log.warning(
                    "Training-key lookup stopped after the %d newest running/completed RFT jobs",
                    MAX_REUSE_CANDIDATES,
                )
                return None
            if self.job_tags(summary["jobArn"]).get(TRAINING_KEY_TAG) == digest:
                described = self.describe_job(summary["jobArn"])
                # The summary may be stale: a job Stopping (or ended) by now is not one to wait for.
                if described.get("status") in REUSABLE_STATES:
                    return described
                self.log.info(
                    "RFT job %s has the training key but is now %s; not reusing it",
                    described.get("jobName"),
                    described.get("status"),
                )
        return None

    # -- start ------------------------------------------------------------------------------------
    def start_or_reattach(
        self, spec: RFTJobSpec, *, attempt: int = 1, before_create: Callable[[], object] | None = None
    ) -> RFTJob:
        """Start the job described by ``spec``, or reattach to the one an earlier try started.

        ``before_create`` runs only when a new (paid) job is about to be created, e.g. a last check of
        its data that may raise; a try that reattaches skips it.

        Names are deterministic, so a retried task finds its own job: a running or completed job with
        the same request is reattached; a job with the same name but a different request is a conflict
        (never a second paid job under a made-up name). When every earlier try's job ended Failed or
        Stopped, this try starts a fresh job named ``<name>-a<attempt>``.
        """
        tries = [spec.for_attempt(n) for n in range(1, max(attempt, 1) + 1)]
        tries = list({t.job_name: t for t in tries}.values())
        for candidate in tries:
            existing = self.find_job(candidate.job_name)
            if existing is None:
                continue
            self._check_same_request(candidate, existing)
            if existing.get("status") not in NOT_LIVE_STATES:
                self.log.info("Reattaching to RFT job %s (status %s)", candidate.job_name, existing["status"])
                return _job(existing, reattached=True)
            self.log.info("Earlier RFT job %s is %s", candidate.job_name, existing.get("status"))
            if candidate is tries[-1]:
                raise JobConflictError(
                    f"RFT job {candidate.job_name!r} of this try is already {existing.get('status')}: "
                    f"{existing.get('failureMessage') or 'no failure message'}. Retry the task to start "
                    "a fresh job, or pass a different job_name."
                )
        if before_create is not None:
            before_create()
        return self._create(tries[-1])

    def _create(self, spec: RFTJobSpec) -> RFTJob:
        try:
            response = self.conn.create_model_customization_job(
                clientRequestToken=spec.client_request_token(), **spec.to_request()
            )
        except ClientError as exc:
            if DUPLICATE_NAME_MESSAGE not in str(exc):
                raise
            # Another try (or a racing worker) created it between our lookup and our create.
            existing = self.describe_job(spec.job_name)
            self._check_same_request(spec, existing)
            return _job(existing, reattached=True)
        self.log.info("Started RFT job %s (%s)", spec.job_name, response["jobArn"])
        return RFTJob(response["jobArn"], spec.job_name, "InProgress", reattached=False, description={})

    @staticmethod
    def _check_same_request(spec: RFTJobSpec, existing: dict[str, Any]) -> None:
        differences = spec.differences_from(existing)
        if differences:
            listed = "\n  - ".join(differences)
            raise JobConflictError(
                f"An RFT job named {spec.job_name!r} already exists with a different request:\n  - {listed}\n"
                "Pick another job_name, or rerun with the original parameters to reattach to it."
            )

    # -- stop and wait ----------------------------------------------------------------------------
    def stop_job(self, job_identifier: str) -> bool:
        """Ask Bedrock to stop the job; False when it had already ended (nothing to stop)."""
        try:
            self.conn.stop_model_customization_job(jobIdentifier=job_identifier)
        except ClientError:
            job = self.find_job(job_identifier)
            if job is not None and job.get("status") in TERMINAL_STATES | {"Stopping"}:
                return False
            raise
        self.log.info("Requested stop of RFT job %s", job_identifier)
        return True

    def wait_for_job(
        self, job_identifier: str, *, waiter_delay: int, waiter_max_attempts: int
    ) -> dict[str, Any]:
        """Block until the job leaves InProgress (at most ``waiter_max_attempts`` checks ``waiter_delay``
        seconds apart), logging status and stages on every check.

        Returns the final description whatever the outcome; the caller decides what failure means.
        """
        from airflow.providers.amazon.aws.utils.waiter_with_logging import WaiterTerminalFailure

        with contextlib.suppress(WaiterTerminalFailure):
            wait(
                waiter=self.get_waiter("rft_job_complete"),
                waiter_delay=waiter_delay,
                waiter_max_attempts=waiter_max_attempts,
                args={"jobIdentifier": job_identifier},
                failure_message=f"RFT job {job_identifier} did not complete",
                status_message=f"RFT job {job_identifier}",
                status_args=STATUS_QUERIES,
            )
        return self.describe_job(job_identifier)

    # -- metrics ----------------------------------------------------------------------------------
    def read_training_metrics(self, job: dict[str, Any]) -> TrainingMetrics:
        """Parse the metrics files the job wrote under its output prefix; empty when there are none.

        The RFT layout is undocumented: every ``*step_wise_training_metrics.csv`` and
        ``*validation_metrics.csv`` under the prefix is read, preferring keys under a folder named
        after the job (name or id) when the prefix holds several jobs' outputs.
        """
        from bedrock_rft_provider.jobs.metrics import TrainingMetrics

        output_uri = (job.get("outputDataConfig") or {}).get("s3Uri")
        if not output_uri:
            return TrainingMetrics()
        job_id = str(job.get("jobArn", "")).rsplit("/", 1)[-1]
        try:
            return self.storage.read_training_metrics(output_uri, [str(job.get("jobName") or ""), job_id])
        except ClientError as exc:
            self.log.warning("Could not read training metrics under %s: %s", output_uri, exc)
            return TrainingMetrics()


def job_from_description(description: dict[str, Any], *, reattached: bool) -> RFTJob:
    """An :class:`RFTJob` from a ``get_model_customization_job`` response."""
    return _job(description, reattached=reattached)


def _job(description: dict[str, Any], *, reattached: bool) -> RFTJob:
    return RFTJob(
        job_arn=description["jobArn"],
        job_name=description["jobName"],
        status=description.get("status", "InProgress"),
        reattached=reattached,
        description=description,
    )
