"""One emulated RFT job on its own thread: validation -> dataProcessing -> training -> Completed.

Training is simulated but its numbers are computed: every step samples ``batchSize`` prompts x
``trainingSamplePerPrompt`` responses from the simulated policy, scores them with the job's deployed
reward Lambda (its uploaded zip, run by ``lambda_runtime``), updates the policy from group-relative
advantages, and appends the step's metrics to
``<outputDataConfig.s3Uri>/<jobName>/training_artifacts/step_wise_training_metrics.csv``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from bedrock_rft_provider.data.records import MIN_TRAINING_RECORDS
from bedrock_rft_provider.sandbox import moto_state
from bedrock_rft_provider.sandbox.dataset import Dataset, grader_metadata, parse_dataset, record_task
from bedrock_rft_provider.sandbox.families import space_for
from bedrock_rft_provider.sandbox.grading import JobFailure, LambdaRewardScorer
from bedrock_rft_provider.sandbox.lambda_runtime import LambdaWorker
from bedrock_rft_provider.sandbox.policy import Task, render, stable_seed, token_count, truncate
from bedrock_rft_provider.sandbox.protocol import ServiceError

if TYPE_CHECKING:
    from bedrock_rft_provider.sandbox.config import SandboxConfig
    from bedrock_rft_provider.sandbox.dataset import AnswerIndex
    from bedrock_rft_provider.sandbox.policy import SimulatedPolicy
    from bedrock_rft_provider.sandbox.records import JobRecord

log = logging.getLogger(__name__)

METRIC_COLUMNS = (
    "step_number",
    "epoch_number",
    "critic/rewards/mean",
    "critic/rewards/max",
    "critic/rewards/min",
    "val-score/rewards/mean@1",
    "response_length/mean",
    "actor/entropy",
)
# Sandbox-side metrics (families' ``step_metrics``, e.g. the code family's share of reward-hacking
# attempts) go to their own file beside the native CSV, whose header stays the service's; its name ends
# like the native one so that every reader of the job's metrics (jobs/metrics.py) merges it.
SANDBOX_COLUMN_PREFIX = "sandbox/"
SANDBOX_METRICS_FILE = "sandbox_step_wise_training_metrics.csv"
# Values of the documentation example; the service's defaults are undocumented.
DEFAULT_HYPERPARAMETERS = {
    "epochCount": 2,
    "batchSize": 64,
    "learningRate": 1e-5,
    "trainingSamplePerPrompt": 4,
    "evalInterval": 10,
    "maxPromptLength": 4096,
    "inferenceMaxTokens": 8192,
}


class JobStopped(Exception):
    """StopModelCustomizationJob was called."""


def metrics_uri(output_s3_uri: str, job_name: str, file_name: str) -> str:
    return f"{output_s3_uri.rstrip('/')}/{job_name}/training_artifacts/{file_name}"


class TrainingHost(Protocol):
    """What a training run needs from the service hosting it (the control plane implements it).

    The run reports through these calls only, so the flow stays one way: control plane -> training.
    """

    config: SandboxConfig
    answers: AnswerIndex
    endpoint_url: Callable[[], str | None]

    def set_stage(self, job: JobRecord, stage: str, status: str) -> None: ...

    def finish(self, job: JobRecord, status: str, message: str | None = None) -> None: ...

    def register_model(self, job: JobRecord, policy: SimulatedPolicy) -> Any: ...

    def read_data(self, uri: str) -> bytes | None:
        """The bytes of a training or validation dataset (an S3 URI or an uploaded file's id), or None."""
        ...

    def record_step(
        self, job: JobRecord, row: dict[str, Any], total_steps: int, policy: SimulatedPolicy
    ) -> None:
        """One finished training step: its metrics row and (a snapshot is the host's to take) the policy."""
        ...

    def base_policy(self, model_id: str) -> SimulatedPolicy: ...

    def adopt_worker(self, worker: Any) -> None: ...

    def release_worker(self, worker: Any) -> None: ...


class TrainingRun:
    """Runs one job's stages; everything it learns goes through the control plane's lock."""

    def __init__(self, plane: TrainingHost, job: JobRecord) -> None:
        self.plane = plane
        self.job = job
        self.config = plane.config
        request = job.request
        rft = request["customizationConfig"]["rftConfig"]
        self.hyper = {**DEFAULT_HYPERPARAMETERS, **(rft.get("hyperParameters") or {})}
        self.lambda_arn = rft["graderConfig"]["lambdaGrader"]["lambdaArn"]
        # None for a host without an S3 output location (the OpenAI-compatible API reports through events).
        self.output_uri: str | None = (request.get("outputDataConfig") or {}).get("s3Uri")
        self.rows: list[dict[str, Any]] = []

    def _wait(self, seconds: float) -> None:
        if self.job.stop_requested.wait(seconds) or self.job.stop_requested.is_set():
            raise JobStopped

    def run(self) -> None:
        worker: LambdaWorker | None = None
        stage = "validation"
        try:
            stage = "validation"
            self.plane.set_stage(self.job, stage, "InProgress")
            self._wait(self.config.seconds(stage))
            self._forced_failure(stage)
            train, validation = self._validate()
            self.plane.set_stage(self.job, stage, "Completed")

            stage = "dataProcessing"
            self.plane.set_stage(self.job, stage, "InProgress")
            self._wait(self.config.seconds(stage))
            self._forced_failure(stage)
            train_records = self._drop_long_prompts(train.records)
            self.plane.set_stage(self.job, stage, "Completed")

            stage = "training"
            self.plane.set_stage(self.job, stage, "InProgress")
            self._forced_failure(stage)
            code = moto_state.get_lambda(self.lambda_arn)
            if code is None:
                raise JobFailure(f"The reward Lambda function {self.lambda_arn} does not exist (any more).")
            worker = LambdaWorker(code, region=self.job.region, endpoint_url=self.plane.endpoint_url())
            self.plane.adopt_worker(worker)
            backoff = 0.2 if self.config.time_scale > 0 else 0.0
            grader = LambdaRewardScorer(self.lambda_arn, worker, self.config.grader_batch_size, backoff)
            policy = self._train(grader, train_records, validation.records if validation else [])
            self.plane.set_stage(self.job, stage, "Completed")
            self.plane.register_model(self.job, policy)
            self.plane.finish(self.job, "Completed")
            log.info("sandbox job %s completed after %d steps", self.job.name, len(self.rows))
        except JobStopped:
            time.sleep(self.config.seconds("stopping"))
            self.plane.finish(self.job, "Stopped")
        except JobFailure as exc:
            self.plane.finish(self.job, "Failed", str(exc))
        except ServiceError as exc:  # the grader's package cannot run (e.g. function + layers over 250 MB)
            self.plane.finish(
                self.job, "Failed", f"The reward function {self.lambda_arn} cannot run: {exc.message}"
            )
        except Exception as exc:  # a sandbox bug must still end the job visibly
            log.exception("sandbox job %s crashed", self.job.name)
            self.plane.finish(self.job, "Failed", f"Internal sandbox error during {stage}: {exc!r}")
        finally:
            if worker is not None:
                worker.close()
                self.plane.release_worker(worker)

    def _forced_failure(self, stage: str) -> None:
        if self.config.forced_failure_stage(self.job.name) == stage:
            raise JobFailure(
                f"Sandbox forced failure during the {stage} stage "
                f"(BEDROCK_RFT_SANDBOX_FAIL_JOBS={self.config.fail_jobs!r}); this is not a real error."
            )

    def _load(self, uri: str, min_records: int) -> Dataset:
        body = self.plane.read_data(uri)
        if body is None:
            raise JobFailure(f"Unable to read {uri}: it no longer exists.")
        dataset = parse_dataset(uri, body, min_records=min_records)
        if dataset.problems:
            shown = "; ".join(dataset.problems[:5])
            more = f" ({len(dataset.problems)} problems in total)" if len(dataset.problems) > 5 else ""
            raise JobFailure(f"Data validation failed for {uri}: {shown}{more}")
        self.plane.answers.add_records(uri, f"job:{self.job.arn}", dataset.records)
        return dataset

    def _load_invocation_logs(self, config: dict[str, Any]) -> Dataset:
        """The prompts of the invocation logs a job names, read and checked as the preview does."""
        from bedrock_rft_provider.data.invocation_logs import LOG_SUFFIXES, preview_invocation_logs
        from bedrock_rft_provider.jobs.invocation_logs import InvocationLogSource

        source = InvocationLogSource.from_request(config)
        bucket, prefix = moto_state.parse_s3_uri(source.s3_uri)
        objects = (o for o in moto_state.list_objects(bucket, prefix) if o[0].endswith(LOG_SUFFIXES))
        preview = preview_invocation_logs(source, objects, keep_records=True)
        if not preview.ok:
            shown = "; ".join(str(p) for p in preview.problems[:5])
            raise JobFailure(f"Data validation failed for the invocation logs at {source.s3_uri}: {shown}")
        self.plane.answers.add_records(source.s3_uri, f"job:{self.job.arn}", preview.records)
        return Dataset(source.s3_uri, records=preview.records)

    def _validate(self) -> tuple[Dataset, Dataset | None]:
        training = self.job.request["trainingDataConfig"]
        if training.get("invocationLogsConfig") is not None:
            train = self._load_invocation_logs(training["invocationLogsConfig"])
        else:
            train = self._load(training["s3Uri"], min_records=MIN_TRAINING_RECORDS)
        validators = (self.job.request.get("validationDataConfig") or {}).get("validators") or []
        validation: Dataset | None = None
        for validator in validators:
            loaded = self._load(validator["s3Uri"], min_records=1)
            if validation is None:
                validation = loaded
            else:
                validation.records.extend(loaded.records)
        return train, validation

    def _drop_long_prompts(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Prompts longer than maxPromptLength are dropped silently, as the service does."""
        limit = int(self.hyper["maxPromptLength"])
        kept = [r for r in records if sum(token_count(str(m.get("content"))) for m in r["messages"]) <= limit]
        if not kept:
            raise JobFailure(
                f"All {len(records)} training prompts are longer than maxPromptLength={limit} tokens; "
                "raise maxPromptLength or shorten the prompts."
            )
        return kept

    def _tasks(self, records: list[dict[str, Any]]) -> list[Task]:
        answers = [str(r.get("reference_answer")) for r in records]
        return [record_task(r, answers[(i + 1) % len(answers)]) for i, r in enumerate(records)]

    def _train(
        self, grader: LambdaRewardScorer, train: list[dict[str, Any]], validation: list[dict[str, Any]]
    ) -> SimulatedPolicy:
        policy = self.plane.base_policy(self.job.base_model_id).copy()
        tasks = self._tasks(train)
        val_records = validation[: self.config.max_validation_records]
        val_tasks = self._tasks(val_records) if val_records else []
        batch_size = int(self.hyper["batchSize"])
        group = int(self.hyper["trainingSamplePerPrompt"])
        eval_interval = int(self.hyper["evalInterval"])
        max_tokens = int(self.hyper["inferenceMaxTokens"])
        steps_per_epoch = math.ceil(len(tasks) / batch_size)
        total = min(int(self.hyper["epochCount"]) * steps_per_epoch, self.config.max_training_steps)
        rng = random.Random(stable_seed("train", self.config.seed, self.job.name))
        order: list[int] = []
        log.info(
            "sandbox job %s: %d training steps of %d prompts x %d samples",
            self.job.name,
            total,
            batch_size,
            group,
        )
        for step in range(1, total + 1):
            epoch = (step - 1) // steps_per_epoch
            if (step - 1) % steps_per_epoch == 0:
                order = list(range(len(tasks)))
                rng.shuffle(order)
            offset = ((step - 1) % steps_per_epoch) * batch_size
            picked = (order[offset:] + order)[: min(batch_size, len(tasks))]
            events, actions, texts = [], [], []
            by_family: dict[str, list[int]] = {}
            for index in picked:
                for k in range(group):
                    action = policy.sample(tasks[index], rng)
                    text, _ = truncate(render(tasks[index], action, rng), max_tokens)
                    actions.append(action)
                    by_family.setdefault(tasks[index].kind, []).append(action)
                    texts.append(text)
                    events.append(self._event(train[index], text, f"step{step}-{index}-{k}"))
            rewards = grader.score(events, f"at training step {step}")
            groups = [
                (tasks[index], actions[i * group : (i + 1) * group], rewards[i * group : (i + 1) * group])
                for i, index in enumerate(picked)
            ]
            row: dict[str, Any] = {
                "step_number": step,
                "epoch_number": epoch,
                "critic/rewards/mean": sum(rewards) / len(rewards),
                "critic/rewards/max": max(rewards),
                "critic/rewards/min": min(rewards),
                "response_length/mean": sum(token_count(t) for t in texts) / len(texts),
                "actor/entropy": sum(policy.entropy(tasks[i]) for i in picked) / len(picked),
            }
            row.update(family_step_metrics(by_family))
            stats = policy.update(groups, float(self.hyper["learningRate"]))
            # Not columns of the native CSV (its header is fixed above); the OpenAI-compatible API's
            # metric events carry them (reference facts section 9).
            row["actor/pg_loss"] = stats["pg_loss"]
            row["actor/grad_norm"] = stats["grad_norm"]
            row["critic/advantages/mean"] = stats["advantages_mean"]
            if val_tasks and (step % eval_interval == 0 or step == total):
                row["val-score/rewards/mean@1"] = self._validation_score(
                    grader, policy, val_records, val_tasks, step
                )
            self.rows.append(row)
            self._write_metrics()
            self.plane.record_step(self.job, row, total, policy)
            log.info(
                "sandbox job %s: step %d/%d epoch %d, reward mean %.3f%s (simulated training, real rewards)",
                self.job.name,
                step,
                total,
                epoch,
                row["critic/rewards/mean"],
                f", validation {row['val-score/rewards/mean@1']:.3f}"
                if "val-score/rewards/mean@1" in row
                else "",
            )
            self._wait(self.config.seconds("training_step"))
        return policy

    def _validation_score(
        self,
        grader: LambdaRewardScorer,
        policy: SimulatedPolicy,
        records: list[dict[str, Any]],
        tasks: list[Task],
        step: int,
    ) -> float:
        rng = random.Random(stable_seed("validation", self.config.seed, self.job.name, step))
        events = []
        for index, (record, task) in enumerate(zip(records, tasks, strict=False)):
            text, _ = truncate(
                render(task, policy.sample(task, rng), rng), int(self.hyper["inferenceMaxTokens"])
            )
            events.append(self._event(record, text, f"val{step}-{index}"))
        scores = grader.score(events, f"while scoring validation samples at step {step}")
        return sum(scores) / len(scores)

    @staticmethod
    def _event(record: dict[str, Any], response: str, sample_id: str) -> dict[str, Any]:
        return {
            "id": sample_id,
            "messages": [*record["messages"], {"role": "assistant", "content": response}],
            "metadata": grader_metadata(record),
        }

    def _write_metrics(self) -> None:
        if self.output_uri is None:
            return
        try:
            self._write_outputs(self.output_uri)
        except Exception as exc:  # e.g. the output bucket was deleted during the job
            raise JobFailure(f"Unable to write training metrics to {self.output_uri}: {exc}") from None

    def _write_outputs(self, output_uri: str) -> None:
        name = self.job.name
        moto_state.write_object(
            metrics_uri(output_uri, name, "step_wise_training_metrics.csv"),
            _csv(METRIC_COLUMNS, self.rows).encode(),
        )
        sandbox_columns = sorted({k for row in self.rows for k in row if k.startswith(SANDBOX_COLUMN_PREFIX)})
        if sandbox_columns:
            moto_state.write_object(
                metrics_uri(output_uri, name, SANDBOX_METRICS_FILE),
                _csv(("step_number", *sandbox_columns), self.rows).encode(),
            )
        note = {
            "sandbox": True,
            "note": "Produced by the bedrock-rft sandbox: training dynamics are SIMULATED; rewards come from "
            "running your reward Lambda's code on the simulated policy's responses.",
            "job_arn": self.job.arn,
            "reward_lambda": self.lambda_arn,
            "steps_completed": len(self.rows),
        }
        moto_state.write_object(
            metrics_uri(output_uri, name, "SANDBOX_SIMULATED.json"), json.dumps(note).encode()
        )


def _csv(columns: Sequence[str], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def family_step_metrics(actions_by_family: dict[str, list[int]]) -> dict[str, float]:
    """The sandbox-side metrics each family computes from the actions one step sampled for it."""
    row: dict[str, float] = {}
    for kind, actions in actions_by_family.items():
        compute = space_for(kind).step_metrics
        if compute is not None:
            row.update(compute(actions))
    return row
