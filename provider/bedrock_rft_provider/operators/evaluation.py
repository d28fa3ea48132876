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

from bedrock_rft_provider.evaluation.defaults import DEFAULT_CHECKPOINT_METRIC
from bedrock_rft_provider.hooks.evaluation import BedrockRFTEvaluationHook
from bedrock_rft_provider.links.evaluation import BedrockRFTEvaluationReportLink
from bedrock_rft_provider.operators.lineage_mixin import LineageMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_rft_provider.evaluation.records import EvalRecord
    from bedrock_rft_provider.evaluation.report import TrainingCurve
    from bedrock_rft_provider.evaluation.request import AnswerSource, EvaluationRequest, ModelUnderTest
    from bedrock_rft_provider.evaluation.runner import InferenceRunner
    from bedrock_rft_provider.evaluation.scoring import GradeFn
    from bedrock_rft_provider.lineage import TaskLineage


class BedrockRFTEvaluationOperator(LineageMixin, AwsBaseOperator[BedrockRFTEvaluationHook]):
    """Evaluate a model (or precomputed responses) on a test set with the training reward.

    Exactly one source of answers: ``model_id`` (live inference), ``best_checkpoint_job_id`` (the best
    checkpoint of an open-weight fine-tuning job by ``checkpoint_metric``), ``responses_uri``
    (precomputed ``{"id", "response"}`` JSONL) or ``champion_family`` (the champion in force at the
    end of the run's data interval — for backfills). At most one baseline: ``baseline_model_id``,
    ``baseline_responses_uri`` or ``baseline_summary_uri`` (a previous ``summary.json``; its sibling
    ``results.jsonl`` is used for a paired comparison when present).

    Each live model answers through its own API, chosen from its id (``backend`` overrides): Nova,
    custom models, deployments and inference profiles through Bedrock Runtime ``converse``; open-weight
    models (``openai.gpt-oss-20b``, ``qwen.qwen3-32b``, ``nvidia.nemotron-nano-3-30b``), their
    fine-tuned models and checkpoints through Chat Completions on Bedrock's OpenAI-compatible endpoint,
    with the same concurrency, retries, resume and output lines. So a gate compares like with like: a
    base open-weight model against its fine-tuned model or a checkpoint (a baseline answering through
    the other API, or tuned from another base model, is logged as a warning).

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
    :param model_id: the model that answers live: a foundation model id, inference profile, or custom
        model deployment ARN (e.g. ``deploy.output``) through ``converse``; or an open-weight base,
        fine-tuned (the job's ``fine_tuned_model``) or checkpoint model id through Chat Completions.
    :param best_checkpoint_job_id: or an open-weight fine-tuning job id (the job operator's ``job_id``):
        its checkpoint with the highest ``checkpoint_metric`` answers (ties: the latest step). The
        summary's ``model_id`` is that checkpoint's model id (promote it from there) and ``checkpoint``
        says which one and why. ConfigError when the job has no checkpoint or none reports the metric.
    :param checkpoint_metric: the checkpoint metric to maximise, as a key of the checkpoints'
        ``metrics`` or its training-curve name; default ``val_score_rewards_mean`` (the validation
        reward; Bedrock's checkpoint metric keys are undocumented, so check what your jobs report).
    :param backend: ``"native"`` (Converse), ``"open-weight"`` (Chat Completions) or None/``"auto"``
        (from the id) for ``model_id``, the champion fallback or the checkpoint; an override that
        contradicts the id (e.g. ``native`` for ``openai.gpt-oss-20b``) is a ConfigError before any I/O.
        Needed only for a tuned open-weight id that does not start with its base model id.
    :param responses_uri: or precomputed answers, ``{"id", "response"}`` per JSONL line, joined on ``id``.
    :param champion_family: or the champion of this family in force at the end of the run's data
        interval (SSM history), for backfills.
    :param champion_fallback_model_id: with ``champion_family``: the model evaluated for intervals
        before the first promotion (e.g. the base model); without it such intervals fail.
    :param baseline_model_id: a model to compare against, answering the same prompts live through its
        own API (e.g. the open-weight base model against its fine-tuned model).
    :param baseline_backend: ``backend`` for ``baseline_model_id``.
    :param baseline_responses_uri: or the baseline's precomputed answers (same format as ``responses_uri``).
    :param baseline_summary_uri: or a previous ``summary.json`` (the comparison is paired when its
        ``results.jsonl`` is next to it).
    :param concurrency: most inference requests in flight (adaptive below that on throttling).
    :param samples_per_prompt: answers per prompt (``n`` of pass@k).
    :param inference_config: ``converse`` ``inferenceConfig``, e.g. ``{"maxTokens": 1024, "temperature": 0}``;
        None = the model's defaults. On Chat Completions ``maxTokens``/``temperature``/``topP``/
        ``stopSequences`` become ``max_tokens``/``temperature``/``top_p``/``stop``, and Chat's own
        ``max_completion_tokens``, ``seed``, ``reasoning_effort``, ``frequency_penalty`` and
        ``presence_penalty`` pass as given; any other key is a ConfigError before any request.
    :param request_timeout: per-request read timeout in seconds.
    :param max_attempts: tries per inference request (throttling and transient errors back off
        exponentially, 0.5 s to 20 s; the clients' own retries are off).
    :param success_threshold: score counted as correct for ``accuracy``.
    :param slice_field: record metadata field to break results down by (e.g. ``difficulty``); None =
        the first common one present.
    :param training_metrics_uri: the RFT job's output prefix or a metrics CSV, to plot the training curve
        in the report; None = no curve.
    :param grader_batch_size: samples per grader call (per Lambda invocation with ``reward_lambda_arn``).
    :param grader_concurrency: parallel grader Lambda invocations (with ``reward_lambda_arn`` only).
    :param seed: seed of the bootstrap confidence intervals and of sampled answers; same inputs, same numbers.
    :param sandbox: label the outputs as produced against the local sandbox. A string (rendered template)
        must read true/false (also 1/0, yes/no, on/off); anything else is a ConfigError before any I/O.
    :param spend: the run's spend record (forecast and training actual, ``jobs.spend.spend_record``);
        the tokens of this evaluation's answers are added to its actual and the summary and report show
        forecast vs actual (``summary["spend"]``). None = no spend section.
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
        "best_checkpoint_job_id",
        "checkpoint_metric",
        "backend",
        "baseline_backend",
        "baseline_model_id",
        "baseline_responses_uri",
        "baseline_summary_uri",
        "inference_config",
        "training_metrics_uri",
        "concurrency",
        "samples_per_prompt",
        "success_threshold",
        "sandbox",
        "spend",
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
        best_checkpoint_job_id: str | None = None,
        checkpoint_metric: str = DEFAULT_CHECKPOINT_METRIC,
        backend: str | None = None,
        baseline_backend: str | None = None,
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
        spend: Mapping[str, Any] | str | None = None,
        **kwargs: Any,
    ) -> None:
        # Each key of the returned dict is also its own XCom, so ``task.output["key"]`` works (Airflow 3).
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        # Each argument is a field of EvaluationRequest (a test checks it), which validates and coerces
        # them all in execute(); not importing it here keeps DAG parsing off the evaluation core.
        arguments = locals()
        for name, value in arguments.items():
            if name not in ("self", "kwargs", "__class__"):
                setattr(self, name, value)

    def execute(self, context: Context) -> dict[str, Any]:
        from bedrock_rft_provider.evaluation.request import UPLOADED_FILES, EvaluationRequest

        request = EvaluationRequest.build(**{n: getattr(self, n) for n in EvaluationRequest.field_names()})
        with tempfile.TemporaryDirectory(prefix="bedrock-rft-eval-") as tmp:
            work = Path(tmp)
            out_dir = request.local_output_dir(work)
            out_dir.mkdir(parents=True, exist_ok=True)
            dataset_path = self.hook.storage.fetch(request.dataset_uri, work / "dataset.jsonl")
            from bedrock_rft_provider.evaluation.records import load_dataset

            records = load_dataset(dataset_path)
            grader = self._grader(request)
            subject = self._model_under_test(request, context)
            under_test, baseline = request.answer_sources(subject)
            responses = self._answers(request, records, under_test, out_dir)
            baseline_responses = self._answers(request, records, baseline, out_dir) if baseline else None
            baseline_summary, baseline_results = self._baseline_summary(request, work)
            options = request.pipeline_options(subject)
            if request.spend:
                options["extra"]["spend"] = _spend_with_tokens(request.spend, responses, baseline_responses)
            from bedrock_rft_provider.evaluation.pipeline import evaluate  # numpy: only when evaluating

            summary = evaluate(
                dataset_path=dataset_path,
                responses_path=responses,
                grader=grader,
                output_dir=out_dir,
                baseline_responses_path=baseline_responses,
                baseline_results_path=baseline_results,
                baseline_summary=baseline_summary,
                training_curve=self._training_curve(request),
                **options,
            )
            if request.output_is_s3:
                self.hook.storage.put_dir(out_dir, request.output_uri, list(UPLOADED_FILES))
        BedrockRFTEvaluationReportLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            **request.report_location(),
        )
        self.log.info(
            "Evaluation of %s: n=%d mean_reward=%.4f accuracy=%.4f%s; outputs in %s",
            summary.get("model_id"),
            summary["n"],
            summary["mean_reward"],
            summary["accuracy"],
            f" delta={summary['delta']:+.4f} p={summary.get('p_value')}" if "delta" in summary else "",
            request.output_uri,
        )
        self.lineage_result = (summary, request.dataset_uri, request.output_uri)
        return summary

    def lineage(self) -> TaskLineage:
        """The model under test and the test file -> ``summary.json`` with the key figures."""
        from bedrock_rft_provider.lineage import evaluation_task

        summary, dataset_uri, output_uri = self.lineage_result
        return evaluation_task(summary, dataset_uri=dataset_uri, output_uri=output_uri)

    def _grader(self, request: EvaluationRequest) -> GradeFn:
        from bedrock_rft_provider.evaluation.scoring import lambda_grader, reward_grader

        if request.reward_lambda_arn:
            return lambda_grader(self.hook.lambda_client(), request.reward_lambda_arn)
        assert request.reward is not None  # the request holds exactly one of the two
        return reward_grader(request.reward)

    def _model_under_test(self, request: EvaluationRequest, context: Context) -> ModelUnderTest:
        """``model_id``, the champion in force at the end of the data interval (backfills), or a job's
        best checkpoint."""
        from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook

        when = context.get("data_interval_end") or datetime.now(timezone.utc)
        champion = checkpoint = None
        if request.champion_family:
            hook = BedrockRFTChampionHook(
                aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify
            )
            champion = hook.champion_at(request.champion_family, when)
        if request.best_checkpoint_job_id:
            from bedrock_rft_provider.evaluation.checkpoints import best_checkpoint

            job_id = request.best_checkpoint_job_id
            checkpoint = best_checkpoint(job_id, self.hook.checkpoints(job_id), request.checkpoint_metric)
        subject = request.model_under_test(champion, when, checkpoint)
        self.log.info("%s", subject.describe())
        if champion is not None:
            self._warn_if_repointed(champion.record)
        warning = request.comparison_warning(subject)
        if warning:
            self.log.warning("Not like with like: %s", warning)
        return subject

    def _warn_if_repointed(self, record: dict[str, Any]) -> None:
        """Zero-downtime promotion re-points one deployment: a past champion may no longer be behind it."""
        from botocore.exceptions import BotoCoreError, ClientError

        from bedrock_rft_provider.evaluation.promotion import repointed_warning
        from bedrock_rft_provider.hooks.deployment import BedrockCustomModelDeploymentHook

        if not record.get("deployment_arn") or not record.get("custom_model_arn"):
            return
        hook = BedrockCustomModelDeploymentHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify
        )
        try:
            described = hook.describe(str(record["deployment_arn"]))
        # A check only: never fail the evaluation on it (moto, in process, raises NotImplementedError).
        except (ClientError, BotoCoreError, NotImplementedError) as exc:
            self.log.info("Could not check what %s serves now: %s", record["deployment_arn"], exc)
            return
        warning = repointed_warning(record, described)
        if warning:
            self.log.warning("%s", warning)

    def _answers(
        self, request: EvaluationRequest, records: list[EvalRecord], source: AnswerSource, out_dir: Path
    ) -> Path:
        """Local responses file: fetched precomputed answers, or live inference resumed from output_uri."""
        local = out_dir / source.file_name
        if source.responses_uri:
            return self.hook.storage.fetch(source.responses_uri, local)
        assert source.model_id is not None  # a source without precomputed answers names its model
        remote = request.output_file_uri(source.file_name)
        if request.output_is_s3:
            # A previous try's partial answers: resume from them instead of paying twice.
            self.hook.storage.fetch_if_exists(remote, local)
        try:
            self._runner(request, source.model_id, source.backend).run(records, local)
        finally:
            if request.output_is_s3 and local.exists():
                self.hook.storage.put_file(local, remote)
        return local

    def _runner(self, request: EvaluationRequest, model_id: str, backend: str | None) -> InferenceRunner:
        """Chat Completions for open-weight models, ``converse`` for every other model."""
        # The runners are imported when the task runs, not when a DAG file is parsed.
        from bedrock_rft_provider.evaluation.chat_runner import ChatCompletionsRunner
        from bedrock_rft_provider.evaluation.inference import ConverseRunner
        from bedrock_rft_provider.evaluation.model_backend import OPEN_WEIGHT

        if backend == OPEN_WEIGHT:
            chat = self.hook.chat_client(timeout=request.request_timeout)
            return ChatCompletionsRunner(chat, model_id, **request.runner_options())
        client = self.hook.runtime_client(
            read_timeout=request.request_timeout, max_pool_connections=request.concurrency + 2
        )
        return ConverseRunner(client, model_id, **request.runner_options())

    def _baseline_summary(
        self, request: EvaluationRequest, work: Path
    ) -> tuple[dict[str, Any] | None, Path | None]:
        summary_uri, results_uri = request.baseline_summary_uri, request.baseline_results_uri
        if summary_uri is None or results_uri is None:
            return None, None
        summary = json.loads(self.hook.storage.read_text(summary_uri))
        results = self.hook.storage.fetch_if_exists(results_uri, work / "baseline" / "results.jsonl")
        if results is None:
            self.log.warning("No %s: the comparison is unpaired", results_uri)
        return summary, results

    def _training_curve(self, request: EvaluationRequest) -> TrainingCurve | None:
        """Reward curves from a metrics CSV, or from the metrics files under a job's output prefix."""
        from bedrock_rft_provider.evaluation.request import training_curve_from

        uri, storage = request.training_metrics_uri, self.hook.storage
        if uri is None:
            return None
        curve = training_curve_from(storage.read_training_metrics(uri))
        if curve is None:
            self.log.warning("No training metrics found at %s; the report has no training curve", uri)
        return curve


def _spend_with_tokens(spend: Mapping[str, Any], *responses: Path | None) -> dict[str, Any]:
    """``spend`` with the input and output tokens the answers' ``usage`` counted (both models)."""
    from bedrock_rft_provider.jobs.spend import usage_totals, with_eval_tokens

    totals = [0, 0]
    for path in responses:
        if path is not None:
            with open(path, encoding="utf-8", errors="replace") as lines:
                used = usage_totals(lines)
            totals = [totals[0] + used[0], totals[1] + used[1]]
    return with_eval_tokens(spend, totals[0], totals[1])
