"""Fine-tuning jobs of the OpenAI-compatible API, trained by the native path's emulator (``training.py``).

``FineTuningJobs`` is a ``TrainingHost``: a job becomes a ``JobRecord`` whose request has the native
shape (grader ARN, ``epochCount``/``batchSize``/``learningRate``), and the same ``TrainingRun`` runs it,
invoking the deployed reward Lambda through the sandbox's Lambda runtime. Its stage and step reports
become the OpenAI job's status, events and checkpoints:

- status: validation -> ``validating_files``, data processing -> ``queued``, training -> ``running``,
  then ``succeeded`` / ``failed`` (with ``error``) / ``cancelled`` (UG lists succeeded and cancelled;
  the mapping of the emulator's stages is ours);
- one ``metrics`` event per step with the documented keys (AS), plus ``val_score_rewards_mean`` at
  steps that scored the validation file (our name, mirroring ``val-score/rewards/mean@1``);
- a checkpoint every ``CHECKPOINT_INTERVAL`` steps and at the last step, each answering Chat
  Completions (UG: checkpoints are usable for inference); its ``metrics`` hold ``step`` and the same
  keys as the step's metric event (guess: Bedrock's checkpoint metric keys are undocumented).

Lists are newest first, as OpenAI's are (guess for Bedrock); ``after`` pages towards older items.
Model names (``<model>:ft:<job id>`` and ``...:ckpt-step-<n>``) and ids are our format.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bedrock_rft_provider.sandbox import moto_state
from bedrock_rft_provider.sandbox.mantle.requests import BASE_LEARNING_RATE, JobRequest, check_create
from bedrock_rft_provider.sandbox.mantle.wire import bad_request, cursor_page, new_suffix, not_found
from bedrock_rft_provider.sandbox.protocol import ACCOUNT_ID
from bedrock_rft_provider.sandbox.records import JobRecord
from bedrock_rft_provider.sandbox.training import TrainingRun

if TYPE_CHECKING:
    from bedrock_rft_provider.sandbox.control_plane import BedrockControlPlane
    from bedrock_rft_provider.sandbox.mantle.files import FileStore
    from bedrock_rft_provider.sandbox.policy import SimulatedPolicy

STAGE_STATUS = {"validation": "validating_files", "dataProcessing": "queued", "training": "running"}
FINAL_STATUSES = ("succeeded", "failed", "cancelled")
CHECKPOINT_INTERVAL = 5  # also the emulator's evalInterval here, so every checkpoint has a validation score
REGION = "us-west-2"  # where the open-weight models train (UG)
# Emulator metric row -> documented metric event key (AS notebooks); the last one is our addition.
METRIC_KEYS = {
    "critic/rewards/mean": "critic_rewards_mean",
    "actor/pg_loss": "actor_pg_loss",
    "actor/entropy": "actor_entropy",
    "actor/grad_norm": "actor_grad_norm",
    "critic/advantages/mean": "critic_advantages_mean",
    "response_length/mean": "response_length_mean",
    "val-score/rewards/mean@1": "val_score_rewards_mean",
}


@dataclass
class MantleJob:
    """One fine-tuning job and everything its answers show."""

    id: str
    request: JobRequest
    created_at: int
    record: JobRecord
    status: str = "validating_files"
    finished_at: int | None = None
    fine_tuned_model: str | None = None
    error: dict[str, Any] | None = None
    trained_tokens: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    checkpoints: list[dict[str, Any]] = field(default_factory=list)  # oldest first

    @property
    def model_name(self) -> str:
        return f"{self.request.model}:ft:{self.id}"

    def render(self) -> dict[str, Any]:
        req = self.request
        hyper = dict(req.hyperparameters)
        grader = {"type": "lambda", "lambda": {"function": req.grader_arn}}
        return {
            "id": self.id,
            "object": "fine_tuning.job",
            "created_at": self.created_at,
            "error": self.error,
            "fine_tuned_model": self.fine_tuned_model,
            "finished_at": self.finished_at,
            "hyperparameters": hyper,
            "model": req.model,
            "organization_id": ACCOUNT_ID,
            "result_files": [],
            "seed": req.seed if req.seed is not None else 0,
            "status": self.status,
            "trained_tokens": self.trained_tokens if self.status == "succeeded" else None,
            "training_file": req.training_file,
            "validation_file": req.validation_file,
            "estimated_finish": None,
            "integrations": [],
            "metadata": req.metadata,
            "method": {
                "type": "reinforcement",
                "reinforcement": {"grader": grader, "hyperparameters": hyper},
            },
        }


class FineTuningJobs:
    """Jobs, their events, checkpoints and trained policies; thread-safe; the emulator's host."""

    def __init__(self, plane: BedrockControlPlane, files: FileStore) -> None:
        self.plane = plane
        self.files = files
        self.config = plane.config
        self.answers = plane.answers
        self.endpoint_url = plane.endpoint_url
        self.lock = threading.RLock()
        self.jobs: dict[str, MantleJob] = {}
        self.models: dict[str, SimulatedPolicy] = {}  # fine-tuned and checkpoint model names
        self._threads: list[threading.Thread] = []

    # ----- the API ----------------------------------------------------------------------------------
    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        request = check_create(body)
        uris = {}
        for param, file_id in (
            ("training_file", request.training_file),
            ("validation_file", request.validation_file),
        ):
            if file_id is not None:
                uploaded = self.files.get(file_id)
                if uploaded is None:
                    raise bad_request(f"Invalid '{param}': no uploaded file has id {file_id!r}.", param=param)
                uris[param] = f"{uploaded.id}/{uploaded.filename}"
        job_id = f"ftjob-{new_suffix(24)}"
        native = {
            "customizationConfig": {
                "rftConfig": {
                    "graderConfig": {"lambdaGrader": {"lambdaArn": request.grader_arn}},
                    "hyperParameters": {
                        "epochCount": request.hyperparameters["n_epochs"],
                        "batchSize": request.hyperparameters["batch_size"],
                        "learningRate": request.hyperparameters["learning_rate_multiplier"]
                        * BASE_LEARNING_RATE,
                        "evalInterval": CHECKPOINT_INTERVAL,
                    },
                }
            },
            "trainingDataConfig": {"s3Uri": uris["training_file"]},
            "validationDataConfig": {
                "validators": [{"s3Uri": uris["validation_file"]}] if "validation_file" in uris else []
            },
        }
        found = moto_state.LAMBDA_ARN.fullmatch(request.grader_arn)
        region = found["region"] if found else REGION
        record = JobRecord(job_id, job_id, native, region, request.model, time.time())
        job = MantleJob(job_id, request, int(record.creation_time), record)
        with self.lock:
            self.jobs[job_id] = job
            self._event(job, f"Created fine-tuning job: {job_id}")
            created = job.render()  # as created: the run may move on before this answer is sent
        thread = threading.Thread(target=TrainingRun(self, record).run, name=f"sandbox-{job_id}", daemon=True)
        with self.lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return created

    def find(self, job_id: str) -> MantleJob:
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise not_found(f"Fine-tuning job {job_id} not found.", param="fine_tuning_job_id")
        return job

    def retrieve(self, job_id: str) -> dict[str, Any]:
        job = self.find(job_id)
        with self.lock:
            return job.render()

    def list_jobs(self, query: dict[str, str]) -> dict[str, Any]:
        wanted = {
            k[len("metadata[") : -1]: v
            for k, v in query.items()
            if k.startswith("metadata[") and k.endswith("]")
        }
        with self.lock:
            # Newest first; jobs created within one second keep their creation order (ids are random).
            jobs = sorted(self.jobs.values(), key=lambda j: j.record.creation_time)[::-1]
            rendered = [
                j.render()
                for j in jobs
                if all((j.request.metadata or {}).get(k) == v for k, v in wanted.items())
            ]
        return cursor_page(rendered, query, default_limit=20, max_limit=100)

    def cancel(self, job_id: str) -> dict[str, Any]:
        job = self.find(job_id)
        with self.lock:
            if job.status in ("succeeded", "failed"):
                raise bad_request(
                    f"Fine-tuning job {job_id} cannot be cancelled: its status is {job.status}.",
                    param="fine_tuning_job_id",
                )
            if job.status != "cancelled":
                job.status = "cancelled"
                job.finished_at = int(time.time())
                job.record.stop_requested.set()
                self._event(job, "Fine-tuning job cancelled")
            return job.render()

    def list_events(self, job_id: str, query: dict[str, str]) -> dict[str, Any]:
        job = self.find(job_id)
        with self.lock:
            events = list(reversed(job.events))
        return cursor_page(events, query, default_limit=20, max_limit=1000)

    def list_checkpoints(self, job_id: str, query: dict[str, str]) -> dict[str, Any]:
        job = self.find(job_id)
        with self.lock:
            checkpoints = list(reversed(job.checkpoints))
        return cursor_page(checkpoints, query, default_limit=10, max_limit=100)

    def model_names(self) -> list[str]:
        with self.lock:
            return sorted(self.models)

    def policy_for(self, model: str) -> SimulatedPolicy | None:
        """The trained policy of a fine-tuned or checkpoint model name, or None."""
        with self.lock:
            return self.models.get(model)

    # ----- TrainingHost ------------------------------------------------------------------------------
    def _job(self, record: JobRecord) -> MantleJob:
        with self.lock:
            return self.jobs[record.arn]

    def _event(
        self, job: MantleJob, message: str, *, level: str = "info", data: dict[str, Any] | None = None
    ) -> None:
        job.events.append(
            {
                "id": f"ftevent-{new_suffix(24)}",
                "object": "fine_tuning.job.event",
                "created_at": int(time.time()),
                "level": level,
                "message": message,
                "data": data or {},
                "type": "metrics" if data else "message",
            }
        )

    def set_stage(self, record: JobRecord, stage: str, status: str) -> None:
        job = self._job(record)
        messages = {
            "validation": f"Validating training file: {job.request.training_file}",
            "dataProcessing": "Files validated, moving job to queued state",
            "training": "Fine-tuning job started",
        }
        with self.lock:
            if status == "InProgress" and job.status not in FINAL_STATUSES:
                job.status = STAGE_STATUS[stage]
                self._event(job, messages[stage])

    def read_data(self, uri: str) -> bytes | None:
        uploaded = self.files.get(uri.split("/", 1)[0])
        return None if uploaded is None else uploaded.content

    def record_step(
        self, record: JobRecord, row: dict[str, Any], total_steps: int, policy: SimulatedPolicy
    ) -> None:
        job = self._job(record)
        step = int(row["step_number"])
        data: dict[str, Any] = {"step": step, "total_steps": total_steps}
        data.update({key: float(row[column]) for column, key in METRIC_KEYS.items() if column in row})
        batch = int(job.request.hyperparameters["batch_size"])
        with self.lock:
            if job.status in FINAL_STATUSES:
                return
            job.trained_tokens += int(row["response_length/mean"] * batch)
            self._event(
                job,
                f"Step {step}/{total_steps}: critic_rewards_mean={data['critic_rewards_mean']:.4f}",
                data=data,
            )
            if step % CHECKPOINT_INTERVAL == 0 or step == total_steps:
                name = f"{job.model_name}:ckpt-step-{step}"
                self.models[name] = policy.copy()
                job.checkpoints.append(
                    {
                        "id": f"ftckpt-{new_suffix(24)}",
                        "object": "fine_tuning.job.checkpoint",
                        "created_at": int(time.time()),
                        "fine_tuned_model_checkpoint": name,
                        "fine_tuning_job_id": job.id,
                        "metrics": {k: v for k, v in data.items() if k != "total_steps"},
                        "step_number": step,
                    }
                )
                self._event(job, f"Checkpoint created at step {step}: {name}")

    def register_model(self, record: JobRecord, policy: SimulatedPolicy) -> str | None:
        job = self._job(record)
        with self.lock:
            if job.status in FINAL_STATUSES:  # cancelled while the last step finished
                return None
            self.models[job.model_name] = policy.copy()
            job.fine_tuned_model = job.model_name
            self._event(job, f"New fine-tuned model created: {job.model_name}")
            return job.model_name

    def finish(self, record: JobRecord, status: str, message: str | None = None) -> None:
        job = self._job(record)
        with self.lock:
            if job.status in FINAL_STATUSES:
                return
            job.finished_at = int(time.time())
            if status == "Completed":
                job.status = "succeeded"
                self._event(job, "The job has successfully completed")
            elif status == "Failed":
                job.error = self._error(job, message or "The job failed.")
                job.status = "failed"
                self._event(job, f"Fine-tuning job failed: {message}", level="error")
            else:
                job.status = "cancelled"
                self._event(job, "Fine-tuning job cancelled")

    @staticmethod
    def _error(job: MantleJob, message: str) -> dict[str, Any]:
        """OpenAI's ``error`` object; the codes are our guess (Bedrock's are undocumented)."""
        if job.status == "validating_files":
            validation = job.request.validation_file
            param = "validation_file" if validation and validation in message else "training_file"
            return {"code": f"invalid_{param}", "message": message, "param": param}
        return {"code": "training_failed", "message": message, "param": None}

    def base_policy(self, model_id: str) -> SimulatedPolicy:
        return self.plane.base_policy(model_id)

    def adopt_worker(self, worker: Any) -> None:
        self.plane.adopt_worker(worker)

    def release_worker(self, worker: Any) -> None:
        self.plane.release_worker(worker)

    def stop_all(self) -> None:
        """Ask every running job to stop (before the control plane ends the Lambda workers)."""
        with self.lock:
            records = [j.record for j in self.jobs.values()]
        for record in records:
            record.stop_requested.set()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop running jobs and wait for their threads (sandbox stop or reset)."""
        self.stop_all()
        with self.lock:
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
