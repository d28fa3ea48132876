"""The evaluation request: every argument of an evaluation validated and coerced once, and its decisions.

:class:`EvaluationRequest` is to ``BedrockRFTEvaluationOperator`` what ``RFTJobSpec`` is to the job
operator. :meth:`EvaluationRequest.build` takes raw values (rendered templates arrive as strings) and
reports every bad field at once, before any download, inference or write. Its methods make the pure
decisions of an evaluation — which model answers (the champion as of a time, or its fallback), where
each set of answers comes from, where a baseline's per-prompt results sit, how training metrics are
found — so the operator only moves files and calls clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bedrock_rft_provider.data.uris import is_s3_uri, join_uri, parse_s3_uri
from bedrock_rft_provider.errors import ConfigError, ConfigErrors, raise_config_errors
from bedrock_rft_provider.evaluation.champion import ChampionVersion
from bedrock_rft_provider.evaluation.checkpoints import DEFAULT_CHECKPOINT_METRIC, CheckpointChoice
from bedrock_rft_provider.evaluation.model_backend import (
    OPEN_WEIGHT,
    inference_backend,
    override_errors,
    unlike_models,
)
from bedrock_rft_provider.evaluation.request_fields import COERCE

if TYPE_CHECKING:
    # The report and metrics modules are needed only once a run has training metrics to plot.
    from bedrock_rft_provider.evaluation.report import TrainingCurve
    from bedrock_rft_provider.jobs.metrics import TrainingMetrics

RESPONSES_FILE = "responses.jsonl"
BASELINE_RESPONSES_FILE = "baseline_responses.jsonl"
# What an evaluation leaves under an S3 ``output_uri``, uploaded in this order: summary.json last, so
# its presence means the set is complete (``pipeline.WRITTEN_FILES`` plus the answers).
UPLOADED_FILES = (
    RESPONSES_FILE,
    BASELINE_RESPONSES_FILE,
    "results.jsonl",
    "baseline_results.jsonl",
    "report.md",
    "report.html",
    "summary.json",
)

# (fields, required): "exactly one of" when required, else "at most one of".
_ONE_OF = (
    (("reward", "reward_lambda_arn"), True),
    (("model_id", "responses_uri", "champion_family"), True),
    (("baseline_model_id", "baseline_responses_uri", "baseline_summary_uri"), False),
)


@dataclass(frozen=True)
class AnswerSource:
    """One set of answers, kept as ``file_name``: fetched from ``responses_uri`` or live from ``model_id``
    through its ``backend``'s API (``native``: Converse, ``open-weight``: Chat Completions)."""

    file_name: str
    model_id: str | None = None
    responses_uri: str | None = None
    backend: str | None = None


@dataclass(frozen=True)
class ModelUnderTest:
    """The model whose answers are evaluated (None: precomputed responses), the backend it answers
    through, and why it was chosen: for a champion evaluation ``{"family", "version", "as_of"}``
    (``version`` None when the fallback model stands in), for a best-checkpoint evaluation the choice."""

    model_id: str | None
    champion: dict[str, Any] | None = None
    # Derived from the model id (or its record): two subjects naming the same model are equal.
    backend: str | None = field(default=None, compare=False)
    checkpoint: CheckpointChoice | None = None

    def describe(self) -> str:
        """One log line saying which model answers and why."""
        if self.checkpoint is not None:
            return self.checkpoint.describe()
        if self.champion is None:
            via = f" ({self.backend})" if self.backend == OPEN_WEIGHT else ""
            return f"Evaluating {self.model_id or 'precomputed responses'}{via}"
        family, as_of = self.champion["family"], self.champion["as_of"]
        if self.champion["version"] is None:
            return f"No champion of {family} at {as_of}; evaluating the fallback {self.model_id}"
        return f"Champion of {family} at {as_of}: version {self.champion['version']}, {self.model_id}"


@dataclass(frozen=True)
class EvaluationRequest:
    """Everything one evaluation needs; the fields mean what ``BedrockRFTEvaluationOperator``'s do.

    Build it with :meth:`build`, which validates and coerces every field.
    """

    dataset_uri: str
    output_uri: str
    reward: str | None = None
    reward_lambda_arn: str | None = None
    model_id: str | None = None
    responses_uri: str | None = None
    champion_family: str | None = None
    champion_fallback_model_id: str | None = None
    best_checkpoint_job_id: str | None = None
    checkpoint_metric: str = DEFAULT_CHECKPOINT_METRIC
    backend: str | None = None
    baseline_backend: str | None = None
    baseline_model_id: str | None = None
    baseline_responses_uri: str | None = None
    baseline_summary_uri: str | None = None
    concurrency: int = 8
    samples_per_prompt: int = 1
    inference_config: Mapping[str, Any] | None = None
    request_timeout: float = 120.0
    max_attempts: int = 8
    success_threshold: float = 1.0
    slice_field: str | None = None
    training_metrics_uri: str | None = None
    grader_batch_size: int = 25
    grader_concurrency: int = 4
    seed: int = 0
    sandbox: bool = False
    spend: Mapping[str, Any] | None = None

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def build(cls, **values: Any) -> EvaluationRequest:
        """Validate and coerce every value; omitted ones take the defaults above.

        Numbers and booleans may be rendered template strings (``"8"``, ``"0.5"``, ``"true"``); text
        fields treat ``""`` and ``"None"`` as not given.

        :raises ConfigError: naming the field (ConfigErrors listing each when several are bad): an
            unknown or missing required field, a value of the wrong type or below its minimum, or a
            broken "exactly one of" / "at most one of" rule.
        """
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise ConfigError(", ".join(unknown), "is not an evaluation argument")
        defaults = {f.name: None if f.default is MISSING else f.default for f in fields(cls)}
        errors: list[ConfigError] = []
        coerced: dict[str, Any] = {}
        failed: set[str] = set()
        for name, coerce in COERCE.items():
            value = values.get(name, defaults.get(name))
            try:
                coerced[name] = coerce(name, value)
            except ConfigErrors as exc:
                errors.extend(exc.errors)
            except ConfigError as exc:
                errors.append(exc)
            else:
                continue
            failed.add(name)
            coerced[name] = defaults.get(name)

        def given(name: str) -> bool:
            return coerced[name] is not None or name in failed

        for names, required in _ONE_OF:
            # A best checkpoint is a model id chosen at run time: it stands in for model_id.
            given_names = [
                n for n in names if given(n) or (n == "model_id" and given("best_checkpoint_job_id"))
            ]
            if len(given_names) > 1 or (required and not given_names):
                wanted = "exactly one" if required else "at most one"
                errors.append(ConfigError(" / ".join(names), f"give {wanted}; got {given_names or 'none'}"))
        if given("model_id") and given("best_checkpoint_job_id"):
            errors.append(ConfigError("model_id / best_checkpoint_job_id", "give at most one; got both"))
        if coerced["champion_fallback_model_id"] and not coerced["champion_family"]:
            errors.append(ConfigError("champion_fallback_model_id", "is only used with champion_family"))
        errors.extend(override_errors(coerced, failed))
        raise_config_errors(errors)
        return cls(**coerced)

    # -- decisions -------------------------------------------------------------------------------
    @property
    def output_is_s3(self) -> bool:
        """Outputs are uploaded to S3 (and live answers resumed from there), else written in place."""
        return is_s3_uri(self.output_uri)

    def output_file_uri(self, name: str) -> str:
        return join_uri(self.output_uri, name)

    def local_output_dir(self, work_dir: Path) -> Path:
        """Where outputs are written first: ``output_uri`` itself when local, else under ``work_dir``."""
        return work_dir / "out" if self.output_is_s3 else Path(self.output_uri)

    def report_location(self) -> dict[str, str]:
        """``report.html`` as the report link takes it: ``{bucket, key}`` on S3, else ``{url}`` (file://)."""
        report_uri = self.output_file_uri("report.html")
        if is_s3_uri(report_uri):
            bucket, key = parse_s3_uri(report_uri)
            return {"bucket": bucket, "key": key}
        return {"url": Path(report_uri).resolve().as_uri()}

    def model_under_test(
        self, champion: ChampionVersion | None, when: datetime, checkpoint: CheckpointChoice | None = None
    ) -> ModelUnderTest:
        """``model_id``; or, with ``champion_family``, ``champion`` (the champion in force at ``when``,
        looked up by the caller) or the fallback model when there was none yet; or, with
        ``best_checkpoint_job_id``, the model of ``checkpoint`` (chosen by the caller with
        :func:`~bedrock_rft_provider.evaluation.checkpoints.best_checkpoint`). Each comes with the
        backend it answers through: ``backend`` when given, a champion record's own, else from the id.

        :raises ConfigError: no champion at ``when`` and no fallback, a champion record without
            ``model_id``, no ``checkpoint`` for a best-checkpoint evaluation, or a backend that
            contradicts the model id.
        """
        if self.best_checkpoint_job_id is not None:
            if checkpoint is None:
                raise ConfigError("best_checkpoint_job_id", "no checkpoint was chosen")
            return ModelUnderTest(checkpoint.model_id, backend=OPEN_WEIGHT, checkpoint=checkpoint)
        family = self.champion_family
        if family is None:
            return ModelUnderTest(self.model_id, backend=self._backend_of(self.model_id, self.backend))
        as_of = when.isoformat()
        if champion is None:
            if self.champion_fallback_model_id is None:
                raise ConfigError("champion_family", f"{family!r} had no champion at {as_of}")
            return ModelUnderTest(
                self.champion_fallback_model_id,
                {"family": family, "version": None, "as_of": as_of},
                backend=self._backend_of(self.champion_fallback_model_id, self.backend),
            )
        model_id = champion.record.get("model_id")
        if not model_id:
            raise ConfigError(
                "champion_family", f"champion version {champion.version} of {family!r} has no model_id"
            )
        recorded = champion.record.get("backend")
        return ModelUnderTest(
            str(model_id),
            {"family": family, "version": champion.version, "as_of": as_of},
            backend=inference_backend(
                str(model_id), recorded if isinstance(recorded, str) else None, field="champion_family"
            ),
        )

    @staticmethod
    def _backend_of(model_id: str | None, backend: str | None) -> str | None:
        return None if model_id is None else inference_backend(model_id, backend)

    def comparison_warning(self, subject: ModelUnderTest) -> str | None:
        """A warning when the baseline does not answer like the model under test (another API, or
        another open-weight base model); None when they compare like with like or either is offline."""
        if subject.model_id is None or subject.backend is None or self.baseline_model_id is None:
            return None
        baseline = self._backend_of(self.baseline_model_id, self.baseline_backend)
        return unlike_models(subject.model_id, subject.backend, self.baseline_model_id, str(baseline))

    def answer_sources(self, subject: ModelUnderTest) -> tuple[AnswerSource, AnswerSource | None]:
        """The answers under test, and the baseline's answers to score (None: no baseline to answer)."""
        under_test = AnswerSource(RESPONSES_FILE, subject.model_id, self.responses_uri, subject.backend)
        if self.baseline_model_id is None and self.baseline_responses_uri is None:
            return under_test, None
        return under_test, AnswerSource(
            BASELINE_RESPONSES_FILE,
            self.baseline_model_id,
            self.baseline_responses_uri,
            self._backend_of(self.baseline_model_id, self.baseline_backend),
        )

    @property
    def baseline_results_uri(self) -> str | None:
        """``results.jsonl`` next to ``baseline_summary_uri``: when present, the comparison is paired."""
        if self.baseline_summary_uri is None:
            return None
        return self.baseline_summary_uri.rsplit("/", 1)[0] + "/results.jsonl"

    def runner_options(self) -> dict[str, Any]:
        """Keyword arguments of either runner (``ConverseRunner``, ``ChatCompletionsRunner``) besides
        the client and model."""
        return {
            "concurrency": self.concurrency,
            "samples_per_prompt": self.samples_per_prompt,
            "inference_config": dict(self.inference_config) if self.inference_config else None,
            "max_attempts": self.max_attempts,
            "seed": self.seed,
        }

    def pipeline_options(self, subject: ModelUnderTest) -> dict[str, Any]:
        """Keyword arguments of ``evaluation.pipeline.evaluate`` that come from the request itself."""
        extra: dict[str, Any] = {"output_uri": self.output_uri, "dataset_uri": self.dataset_uri}
        if subject.champion is not None:
            extra["champion"] = dict(subject.champion)
        if subject.checkpoint is not None:
            extra["checkpoint"] = subject.checkpoint.as_dict()
        # The native path's summary stays as it was; an open-weight comparison says which API answered.
        backends = {
            "backend": subject.backend,
            "baseline_backend": self._backend_of(self.baseline_model_id, self.baseline_backend),
        }
        if OPEN_WEIGHT in backends.values():
            extra.update({k: v for k, v in backends.items() if v is not None})
        return {
            "success_threshold": self.success_threshold,
            "seed": self.seed,
            "slice_field": self.slice_field,
            "model_id": subject.model_id or self.responses_uri,
            "baseline_model_id": self.baseline_model_id,
            "sandbox": self.sandbox,
            "batch_size": self.grader_batch_size,
            # Parallel grader calls pay off for Lambda invocations; a local reward runs in one worker.
            "grader_workers": self.grader_concurrency if self.reward_lambda_arn else 1,
            "extra": extra,
        }


def training_curve_from(metrics: TrainingMetrics) -> TrainingCurve | None:
    """Reward curves from training metrics (``StorageHook.read_training_metrics``); None when empty."""
    from bedrock_rft_provider.evaluation.report import training_curve

    return training_curve(metrics) if metrics.series else None
