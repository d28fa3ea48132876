"""BedrockRFTDatasetOperator: source data -> validated, split, uploaded RFT dataset + an Asset event."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import Asset

from bedrock_rft_provider.data.records import MAX_TRAINING_RECORDS, MIN_TRAINING_RECORDS
from bedrock_rft_provider.data.uris import is_s3_uri, stable_prefix
from bedrock_rft_provider.hooks.storage import StorageHook
from bedrock_rft_provider.operators.lineage_mixin import LineageMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_rft_provider.lineage import TaskLineage

PROGRESS_LOG_SECONDS = 10.0
PROBLEMS_SHOWN = 20


def training_data_asset(output_uri: str, task_id: str) -> Asset:
    """The Asset that stands for "new training data": the output URI's fixed (untemplated) prefix."""
    uri = stable_prefix(output_uri) or f"bedrock-rft://training-data/{task_id}"
    return Asset(uri=uri)


class BedrockRFTDatasetOperator(LineageMixin, AwsBaseOperator[StorageHook]):
    """Convert, validate, dedupe and split a dataset, then write it locally or upload it to S3.

    Invalid data fails the task without retries, listing the first 20 problems as ``source:line:
    message``; nothing is written or uploaded then. On S3, files go to
    ``<output_uri>/<sha256[:16]>/{train,validation,test}.jsonl`` + ``report.json``: a retry or a rerun
    on the same data uploads nothing.

    On success the task emits an Asset event for ``asset`` (default: ``Asset(uri=<the fixed prefix of
    output_uri>)``, e.g. ``s3://bucket/rft/gsm8k`` for ``s3://bucket/rft/gsm8k/{{ ds }}``), whose
    ``extra`` carries the URIs, sha256, counts and ``reused``; schedule a retraining DAG on that Asset.

    :param source: ``gsm8k``, ``jsonl``, ``csv``, ``parquet``, ``synthetic``, ``humaneval``, ``moderation``,
        ``synthetic-tools`` or ``hf:NAME[:split]``.
    :param input_uri: local path or ``s3://`` URI (synthetic, moderation, synthetic-tools: the record count;
        humaneval: how many problems, or ``all``; hf: the config name or ``-``).
    :param output_uri: local directory or ``s3://`` prefix; templated (e.g. partitioned by ``{{ ds }}``).
    :param prompt_field: column holding the user message (csv, parquet, hf).
    :param prompt_template: ``str.format`` template over columns instead of ``prompt_field``.
    :param system_prompt: system message added to every prompt (csv, parquet, hf).
    :param reference_answer_field: column holding the reference answer.
    :param id_field: column holding a stable record id (default: content hash of the prompt).
    :param metadata_fields: columns kept as grader metadata (default: all unmapped columns).
    :param val_fraction: share of records in validation (by a seeded hash of the id: stable).
    :param test_fraction: share of records in test.
    :param seed: split seed.
    :param min_records: minimum training records (Bedrock: 100); None for no bound.
    :param max_records: maximum training records (Bedrock: 20,000); None for no bound.
    :param max_prompt_length: the job's maxPromptLength, to count prompts training would silently drop.
    :param require_reference_answer: a missing ``reference_answer`` is an error (otherwise a warning).
    :param skip_invalid: drop invalid records (listed in report.json) instead of failing the task.
    :param asset: the Asset to emit; default derived from ``output_uri``.
    :return: ``{train_uri, validation_uri, test_uri, report_uri, sha256, counts, reused}``.
    """

    aws_hook_class = StorageHook
    template_fields: Sequence[str] = aws_template_fields(
        "source", "input_uri", "output_uri", "prompt_template", "system_prompt"
    )
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        source: str,
        input_uri: str,
        output_uri: str,
        prompt_field: str | None = None,
        prompt_template: str | None = None,
        system_prompt: str | None = None,
        reference_answer_field: str | None = None,
        id_field: str | None = None,
        metadata_fields: Sequence[str] | None = None,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        seed: int = 0,
        min_records: int | None = MIN_TRAINING_RECORDS,
        max_records: int | None = MAX_TRAINING_RECORDS,
        max_prompt_length: int | None = None,
        require_reference_answer: bool = False,
        skip_invalid: bool = False,
        asset: Asset | None = None,
        **kwargs: Any,
    ) -> None:
        self.asset = asset or training_data_asset(output_uri, kwargs.get("task_id", "dataset"))
        outlets = list(kwargs.pop("outlets", None) or [])
        if self.asset not in outlets:
            outlets.append(self.asset)
        # Each key of the returned dict is also its own XCom, so ``task.output["key"]`` works (Airflow 3).
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(outlets=outlets, **kwargs)
        self.source = source
        self.input_uri = input_uri
        self.output_uri = output_uri
        self.prompt_field = prompt_field
        self.prompt_template = prompt_template
        self.system_prompt = system_prompt
        self.reference_answer_field = reference_answer_field
        self.id_field = id_field
        self.metadata_fields = tuple(metadata_fields) if metadata_fields is not None else None
        # PrepareOptions is built in execute(): the data pipeline is imported when the task runs, not
        # each time the DAG file is parsed.
        self.prepare_options: dict[str, Any] = dict(
            val_fraction=val_fraction,
            test_fraction=test_fraction,
            seed=seed,
            min_records=min_records,
            max_records=max_records,
            max_prompt_length=max_prompt_length,
            require_reference_answer=require_reference_answer,
            skip_invalid=skip_invalid,
        )

    def execute(self, context: Context) -> dict[str, Any]:
        from bedrock_rft_provider.data.prepare import PrepareOptions, prepare_dataset
        from bedrock_rft_provider.data.problems import DatasetValidationError
        from bedrock_rft_provider.data.tabular import ColumnMapping

        mapping = ColumnMapping(
            prompt_field=self.prompt_field,
            prompt_template=self.prompt_template,
            system_prompt=self.system_prompt,
            reference_answer_field=self.reference_answer_field,
            id_field=self.id_field,
            metadata_fields=self.metadata_fields,
        )
        # A DAG that renders templates as native objects turns a synthetic count like "600" into an int.
        self.input_uri = str(self.input_uri)
        uses_s3 = is_s3_uri(self.input_uri) or is_s3_uri(self.output_uri)
        self.log.info("Preparing %s dataset from %s into %s", self.source, self.input_uri, self.output_uri)
        try:
            result = prepare_dataset(
                self.source,
                self.input_uri,
                self.output_uri,
                options=PrepareOptions(**self.prepare_options),
                mapping=mapping,
                s3_client=self.hook.conn if uses_s3 else None,
                progress=self._progress_logger(),
            )
        except DatasetValidationError as exc:
            for line in exc.render(PROBLEMS_SHOWN):
                self.log.error("%s", line)
            raise AirflowFailException(str(exc)) from exc  # bad data does not heal on retry
        lengths = result.report["prompt_length"]
        self.log.info(
            "Dataset %s: %s (duplicates removed: %d, invalid skipped: %d); "
            "recommended maxPromptLength %d (estimated tokens)%s",
            result.sha256[:16],
            {k: result.counts[k] for k in ("train", "validation", "test")},
            result.counts["duplicates_removed"],
            result.counts["invalid_skipped"],
            lengths["recommended_max_prompt_length"],
            "; already uploaded, nothing to do" if result.reused else "",
        )
        summary = result.to_dict()
        context["outlet_events"][self.asset].extra = {
            key: summary[key]
            for key in ("train_uri", "validation_uri", "test_uri", "report_uri", "sha256", "reused")
        } | {"counts": dict(summary["counts"])}
        self.lineage_result = (summary, result.report.get("files") or {})
        return summary

    def lineage(self) -> TaskLineage:
        """The split files written, with their sha256 and record counts."""
        from bedrock_rft_provider.lineage import dataset_task

        return dataset_task(*self.lineage_result)

    def _progress_logger(self) -> Any:
        started = last = time.monotonic()

        def log_progress(count: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_LOG_SECONDS:
                last = now
                self.log.info("%d records processed (%.0f/s)", count, count / max(now - started, 1e-9))

        return log_progress
