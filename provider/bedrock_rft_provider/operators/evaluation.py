"""BedrockRFTEvaluationOperator: answer a test set (or take precomputed answers), score, compare, report."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from bedrock_rft_provider.data.uris import is_s3_uri, parse_s3_uri
from bedrock_rft_provider.errors import ConfigError, raise_config_errors
from bedrock_rft_provider.evaluation.inference import ConverseRunner
from bedrock_rft_provider.evaluation.records import EvalRecord, load_dataset
from bedrock_rft_provider.evaluation.scoring import GradeFn, lambda_grader, reward_grader
from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from bedrock_rft_provider.hooks.evaluation import BedrockRFTEvaluationHook, join_uri
from bedrock_rft_provider.links.evaluation import BedrockRFTEvaluationReportLink

if TYPE_CHECKING:
    from airflow.sdk import Context

# Uploaded in this order; summary.json last, so its presence means the output set is complete.
OUTPUT_FILES = [
    "responses.jsonl",
    "baseline_responses.jsonl",
    "results.jsonl",
    "baseline_results.jsonl",
    "report.md",
    "report.html",
    "summary.json",
]


_TRUE = frozenset({"true", "1", "yes", "on"})


def _number(
    field: str, value: Any, kind: type[int] | type[float], minimum: int | None, errors: list[ConfigError]
) -> Any:
    """``value`` as ``kind`` (it may be a rendered template string); a problem is added to ``errors``."""
    try:
        number = kind(float(value)) if kind is int else kind(value)
    except (TypeError, ValueError):
        errors.append(ConfigError(field, f"expected a number, got {value!r}"))
        return kind(minimum or 0)
    if minimum is not None and number < minimum:
        errors.append(ConfigError(field, f"must be at least {minimum}, got {number}"))
    return number


class BedrockRFTEvaluationOperator(AwsBaseOperator[BedrockRFTEvaluationHook]):
    """Evaluate a model (or precomputed responses) on a test set with the training reward.

    Exactly one source of answers: ``model_id`` (live ``converse`` inference), ``responses_uri``
    (precomputed ``{"id", "response"}`` JSONL) or ``champion_family`` (the champion in force at the
    end of the run's data interval — for backfills). At most one baseline: ``baseline_model_id``,
    ``baseline_responses_uri`` or ``baseline_summary_uri`` (a previous ``summary.json``; its sibling
    ``results.jsonl`` is used for a paired comparison when present).

    Outputs go to ``output_uri`` (S3 prefix or local directory, templated — partition it by run or by
    data interval); a re-run overwrites them, and live inference resumes from the ``responses.jsonl``
    an earlier try left there instead of paying for finished prompts again.

    :param dataset_uri: the test JSONL (RFT records with ``id`` and ``reference_answer``), ``s3://`` or a
        local path.
    :param output_uri: ``s3://`` prefix or local directory for ``summary.json``, ``results.jsonl``,
        ``responses.jsonl``, ``report.md`` and ``report.html``; partition it per run or per interval.
    :param reward: the reward as ``module:function``, run through the grader contract in a separate
        worker process (as in the deployed grader Lambda), never inside the Airflow worker itself.
    :param reward_lambda_arn: or the deployed grader Lambda, invoked in batches.
    :param model_id: the model that answers live through ``converse``: a foundation model id, inference
        profile, or custom model deployment ARN (e.g. ``deploy.output``).
    :param responses_uri: or precomputed answers, ``{"id", "response"}`` per JSONL line, joined on ``id``.
    :param champion_family: or the champion of this family in force at the end of the run's data
        interval (SSM history), for backfills.
    :param champion_fallback_model_id: with ``champion_family``: the model evaluated for intervals
        before the first promotion (e.g. the base model); without it such intervals fail.
    :param baseline_model_id: a model to compare against, answering the same prompts live.
    :param baseline_responses_uri: or the baseline's precomputed answers (same format as ``responses_uri``).
    :param baseline_summary_uri: or a previous ``summary.json`` (the comparison is paired when its
        ``results.jsonl`` is next to it).
    :param concurrency: most ``converse`` requests in flight (adaptive below that on throttling).
    :param samples_per_prompt: answers per prompt (``n`` of pass@k).
    :param inference_config: ``converse`` ``inferenceConfig``, e.g. ``{"maxTokens": 1024, "temperature": 0}``;
        None = the model's defaults.
    :param request_timeout: per-request read timeout in seconds.
    :param max_attempts: tries per ``converse`` request (throttling and transient errors back off
        exponentially, 0.5 s to 20 s).
    :param success_threshold: score counted as correct for ``accuracy``.
    :param slice_field: record metadata field to break results down by (e.g. ``difficulty``); None =
        the first common one present.
    :param training_metrics_uri: the RFT job's output prefix or a metrics CSV, to plot the training curve
        in the report; None = no curve.
    :param grader_batch_size: samples per grader call (per Lambda invocation with ``reward_lambda_arn``).
    :param grader_concurrency: parallel grader Lambda invocations (with ``reward_lambda_arn`` only).
    :param seed: seed of the bootstrap confidence intervals and of sampled answers; same inputs, same numbers.
    :param sandbox: label the outputs as produced against the local sandbox.
    :return: the summary dict (also written as ``summary.json``), plus ``output_uri``; each key is also
        pushed as its own XCom.
    """

    aws_hook_class = BedrockRFTEvaluationHook
    template_fields: Sequence[str] = aws_template_fields(
        "dataset_uri",
        "output_uri",
        "reward",
        "reward_lambda_arn",
        "model_id",
        "responses_uri",
        "champion_family",
        "champion_fallback_model_id",
        "baseline_model_id",
        "baseline_responses_uri",
        "baseline_summary_uri",
        "inference_config",
        "training_metrics_uri",
        "concurrency",
        "samples_per_prompt",
        "success_threshold",
        "sandbox",
    )
    template_fields_renderers = {"inference_config": "json"}
    operator_extra_links = (BedrockRFTEvaluationReportLink(),)
    ui_color = "#e5f5ff"

    def __init__(
        self,
        *,
        dataset_uri: str,
        output_uri: str,
        reward: str | None = None,
        reward_lambda_arn: str | None = None,
        model_id: str | None = None,
        responses_uri: str | None = None,
        champion_family: str | None = None,
        champion_fallback_model_id: str | None = None,
        baseline_model_id: str | None = None,
        baseline_responses_uri: str | None = None,
        baseline_summary_uri: str | None = None,
        concurrency: int | str = 8,
        samples_per_prompt: int | str = 1,
        inference_config: Mapping[str, Any] | None = None,
        request_timeout: float = 120.0,
        max_attempts: int = 8,
        success_threshold: float | str = 1.0,
        slice_field: str | None = None,
        training_metrics_uri: str | None = None,
        grader_batch_size: int = 25,
        grader_concurrency: int = 4,
        seed: int = 0,
        sandbox: bool | str = False,
        **kwargs: Any,
    ) -> None:
        # Each key of the returned dict is also its own XCom, so ``task.output["key"]`` works (Airflow 3).
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.dataset_uri = dataset_uri
        self.output_uri = output_uri
        self.reward = reward
        self.reward_lambda_arn = reward_lambda_arn
        self.model_id = model_id
        self.responses_uri = responses_uri
        self.champion_family = champion_family
        self.champion_fallback_model_id = champion_fallback_model_id
        self.baseline_model_id = baseline_model_id
        self.baseline_responses_uri = baseline_responses_uri
        self.baseline_summary_uri = baseline_summary_uri
        self.concurrency = concurrency
        self.samples_per_prompt = samples_per_prompt
        self.inference_config = inference_config
        self.request_timeout = request_timeout
        self.max_attempts = max_attempts
        self.success_threshold = success_threshold
        self.slice_field = slice_field
        self.training_metrics_uri = training_metrics_uri
        self.grader_batch_size = grader_batch_size
        self.grader_concurrency = grader_concurrency
        self.seed = seed
        self.sandbox = sandbox

    # -- validation ------------------------------------------------------------------------------
    def validate(self) -> None:
        """Reject inconsistent arguments before any download, inference or write."""
        errors: list[ConfigError] = []

        def exactly_one(names: tuple[str, ...], required: bool = True) -> None:
            given = [n for n in names if getattr(self, n)]
            if len(given) > 1 or (required and not given):
                errors.append(ConfigError(" / ".join(names), f"give exactly one; got {given or 'none'}"))

        exactly_one(("reward", "reward_lambda_arn"))
        exactly_one(("model_id", "responses_uri", "champion_family"))
        exactly_one(("baseline_model_id", "baseline_responses_uri", "baseline_summary_uri"), required=False)
        if not self.output_uri:
            errors.append(ConfigError("output_uri", "is required"))
        if not self.dataset_uri:
            errors.append(ConfigError("dataset_uri", "is required"))
        # Rendered templates arrive as strings unless the DAG renders native objects.
        self._concurrency = _number("concurrency", self.concurrency, int, 1, errors)
        self._samples_per_prompt = _number("samples_per_prompt", self.samples_per_prompt, int, 1, errors)
        self._success_threshold = _number("success_threshold", self.success_threshold, float, None, errors)
        sandbox = self.sandbox
        self._sandbox = sandbox.strip().lower() in _TRUE if isinstance(sandbox, str) else bool(sandbox)
        raise_config_errors(errors)

    # -- execution -------------------------------------------------------------------------------
    def execute(self, context: Context) -> dict[str, Any]:
        self.validate()
        with tempfile.TemporaryDirectory(prefix="bedrock-rft-eval-") as tmp:
            work = Path(tmp)
            out_dir = Path(self.output_uri) if not is_s3_uri(self.output_uri) else work / "out"
            out_dir.mkdir(parents=True, exist_ok=True)
            dataset_path = self.hook.storage.fetch(self.dataset_uri, work / "dataset.jsonl")
            records = load_dataset(dataset_path)
            grader = self._grader()
            model_id, champion = self._model_under_test(context)

            responses = self._answers(records, model_id, self.responses_uri, out_dir, "responses.jsonl")
            if responses is None:
                raise ConfigError("model_id", f"champion of {self.champion_family!r} has no model id")
            baseline_responses = self._answers(
                records,
                self.baseline_model_id,
                self.baseline_responses_uri,
                out_dir,
                "baseline_responses.jsonl",
            )
            baseline_summary, baseline_results = self._baseline_summary(work)
            curve = self._training_curve(work)
            extra: dict[str, Any] = {"output_uri": self.output_uri, "dataset_uri": self.dataset_uri}
            if champion is not None:
                extra["champion"] = {"family": self.champion_family, **champion}
            from bedrock_rft_provider.evaluation.pipeline import evaluate  # numpy: only when evaluating

            summary = evaluate(
                dataset_path=dataset_path,
                responses_path=responses,
                grader=grader,
                output_dir=out_dir,
                baseline_responses_path=baseline_responses,
                baseline_results_path=baseline_results,
                baseline_summary=baseline_summary,
                success_threshold=self._success_threshold,
                seed=self.seed,
                slice_field=self.slice_field,
                training_curve=curve,
                model_id=model_id or self.responses_uri,
                baseline_model_id=self.baseline_model_id,
                sandbox=self._sandbox,
                batch_size=self.grader_batch_size,
                grader_workers=self.grader_concurrency if self.reward_lambda_arn else 1,
                extra=extra,
            )
            if is_s3_uri(self.output_uri):
                self.hook.storage.put_dir(out_dir, self.output_uri, OUTPUT_FILES)
        self._persist_report_link(context)
        self.log.info(
            "Evaluation of %s: n=%d mean_reward=%.4f accuracy=%.4f%s; outputs in %s",
            summary.get("model_id"),
            summary["n"],
            summary["mean_reward"],
            summary["accuracy"],
            f" delta={summary['delta']:+.4f} p={summary.get('p_value')}" if "delta" in summary else "",
            self.output_uri,
        )
        return summary

    def _grader(self) -> GradeFn:
        if self.reward_lambda_arn:
            return lambda_grader(self.hook.lambda_client(), self.reward_lambda_arn)
        assert self.reward is not None
        return reward_grader(self.reward)

    def _model_under_test(self, context: Context) -> tuple[str | None, dict[str, Any] | None]:
        """``model_id``, or the champion in force at the end of the data interval (backfills)."""
        if not self.champion_family:
            return self.model_id, None
        when = context.get("data_interval_end") or datetime.now(timezone.utc)
        hook = BedrockRFTChampionHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify
        )
        version = hook.champion_at(self.champion_family, when)
        if version is None:
            if self.champion_fallback_model_id:
                self.log.info(
                    "No champion of %s at %s; evaluating the fallback %s",
                    self.champion_family,
                    when.isoformat(),
                    self.champion_fallback_model_id,
                )
                return self.champion_fallback_model_id, {"version": None, "as_of": when.isoformat()}
            raise ConfigError(
                "champion_family", f"{self.champion_family!r} had no champion at {when.isoformat()}"
            )
        self.log.info(
            "Champion of %s at %s: version %d, %s",
            self.champion_family,
            when.isoformat(),
            version.version,
            version.record.get("model_id"),
        )
        return str(version.record["model_id"]), {"version": version.version, "as_of": when.isoformat()}

    def _answers(
        self,
        records: list[EvalRecord],
        model_id: str | None,
        responses_uri: str | None,
        out_dir: Path,
        name: str,
    ) -> Path | None:
        """Local responses file: fetched precomputed answers, or live inference resumed from output_uri."""
        local = out_dir / name
        if responses_uri:
            return self.hook.storage.fetch(responses_uri, local)
        if not model_id:
            return None
        if is_s3_uri(self.output_uri):
            # A previous try's partial answers: resume from them instead of paying twice.
            self.hook.storage.fetch_if_exists(join_uri(self.output_uri, name), local)
        runner = ConverseRunner(
            self.hook.runtime_client(
                read_timeout=self.request_timeout, max_pool_connections=self._concurrency + 2
            ),
            model_id,
            concurrency=self._concurrency,
            samples_per_prompt=self._samples_per_prompt,
            inference_config=dict(self.inference_config) if self.inference_config else None,
            max_attempts=self.max_attempts,
            seed=self.seed,
        )
        try:
            runner.run(records, local)
        finally:
            if is_s3_uri(self.output_uri) and local.exists():
                self.hook.storage.put_file(local, join_uri(self.output_uri, name))
        return local

    def _baseline_summary(self, work: Path) -> tuple[dict[str, Any] | None, Path | None]:
        if not self.baseline_summary_uri:
            return None, None
        summary_path = self.hook.storage.fetch(self.baseline_summary_uri, work / "baseline" / "summary.json")
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        results_uri = self.baseline_summary_uri.rsplit("/", 1)[0] + "/results.jsonl"
        results = self.hook.storage.fetch_if_exists(results_uri, work / "baseline" / "results.jsonl")
        if results is None:
            self.log.warning(
                "No results.jsonl next to %s: the comparison is unpaired", self.baseline_summary_uri
            )
        return summary, results

    def _training_curve(self, work: Path) -> dict[str, list[tuple[float, float]]] | None:
        """Reward curves from a metrics CSV, or from the metrics files under a job's output prefix."""
        uri = self.training_metrics_uri
        if not uri:
            return None
        metrics = self.hook.storage.read_training_metrics(uri)
        if not metrics.series:
            self.log.warning("No training metrics found at %s; the report has no training curve", uri)
            return None
        from bedrock_rft_provider.evaluation.report import training_curve

        return training_curve(metrics)

    def _persist_report_link(self, context: Context) -> None:
        report_uri = join_uri(self.output_uri, "report.html")
        if is_s3_uri(report_uri):
            bucket, key = parse_s3_uri(report_uri)
            BedrockRFTEvaluationReportLink.persist(
                context=context,
                operator=self,
                region_name=self.hook.conn_region_name,
                aws_partition=self.hook.conn_partition,
                bucket=bucket,
                key=key,
            )
        else:
            BedrockRFTEvaluationReportLink.persist(
                context=context,
                operator=self,
                region_name=self.hook.conn_region_name,
                aws_partition=self.hook.conn_partition,
                url=Path(report_uri).resolve().as_uri(),
            )
