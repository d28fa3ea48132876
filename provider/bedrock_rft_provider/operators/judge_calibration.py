"""BedrockJudgeCalibrationOperator: fail before training when the grader's LLM judge disagrees with labels."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from bedrock_rft_provider.hooks.reward_lambda import RewardLambdaHook

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_rft_provider.hooks.storage import StorageHook


class BedrockJudgeCalibrationOperator(AwsBaseOperator[RewardLambdaHook]):
    """Run the deployed grader's LLM judge on labelled records and fail below an agreement threshold.

    See :mod:`bedrock_rft_provider.evaluation.calibration` for how samples and verdicts are built. The
    deployed grader is invoked (as Bedrock will during training), so the check covers the judge model,
    its rubric, the grader's Bedrock permissions and its retries as they are deployed. An empty
    ``judge_component`` means the reward has no judge: the task logs so and succeeds without calling
    anything (one DAG serves judged and verifiable task families).

    :param function_name: the grader Lambda's name or ARN.
    :param qualifier: the alias or version to invoke (default: the deploy operator's ``live``).
    :param data_uri: labelled JSONL records (``reference_answer`` = the human label), local or ``s3://``.
    :param judge_component: the judge's reward name in the grader's ``metrics_list`` (e.g. ``policy_judge``).
    :param min_agreement: least share (0..1) of samples where judge and human verdicts agree.
    :param pass_score: judge component score (0..1) from which its verdict is "pass".
    :param max_records: labelled records used (two samples each).
    :param response_template: how a labelled answer is written (``{label}``, ``{reason}``).
    :param report_uri: where to write the JSON report (``s3://`` or a local path); not written when empty.
    :param batch_size: samples per grader invocation.
    :return: the report: ``agreement``, ``confusion`` (human x judge verdict counts), ``per_label``,
        ``passed``.
    :raises AirflowFailException: below ``min_agreement`` (the message holds the agreement and matrix).
    """

    aws_hook_class = RewardLambdaHook
    template_fields: Sequence[str] = aws_template_fields(
        "function_name", "qualifier", "data_uri", "judge_component", "min_agreement", "report_uri"
    )
    ui_color = "#f6e3ff"

    def __init__(
        self,
        *,
        function_name: str,
        data_uri: str,
        judge_component: str,
        min_agreement: float | str = 0.8,
        pass_score: float = 0.5,
        max_records: int = 24,
        response_template: str | None = None,
        qualifier: str | None = "live",
        report_uri: str = "",
        batch_size: int = 16,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.function_name = function_name
        self.data_uri = data_uri
        self.judge_component = judge_component
        self.min_agreement = min_agreement
        self.pass_score = pass_score
        self.max_records = max_records
        self.response_template = response_template
        self.qualifier = qualifier
        self.report_uri = report_uri
        self.batch_size = batch_size

    def _storage(self) -> StorageHook:
        from bedrock_rft_provider.hooks.storage import StorageHook

        return StorageHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify)

    def _threshold(self) -> float:
        from bedrock_rft_provider.errors import ConfigError

        try:
            threshold = float(self.min_agreement)
        except (TypeError, ValueError):
            raise ConfigError("min_agreement", f"{self.min_agreement!r} is not a number") from None
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError("min_agreement", f"{threshold} must be between 0 and 1")
        return threshold

    def execute(self, context: Context) -> dict[str, Any]:
        from bedrock_rft_provider.errors import ConfigError
        from bedrock_rft_provider.evaluation.calibration import (
            DEFAULT_TEMPLATE,
            build_calibration_cases,
            judge_agreement,
        )
        from bedrock_rft_provider.rewards.preflight import parse_training_records
        from bedrock_rft_provider.rewards.runner import score_events

        if not str(self.judge_component or "").strip():
            self.log.info("No judge_component set: this reward has no LLM judge, nothing to calibrate")
            return {"calibrated": False}
        threshold = self._threshold()
        if not 0.0 <= self.pass_score <= 1.0 or self.max_records < 1 or self.batch_size < 1:
            raise ConfigError("pass_score/max_records/batch_size", "pass_score in 0..1, the others >= 1")
        try:
            records = parse_training_records(self._storage().read_text(self.data_uri), self.data_uri)
            cases = build_calibration_cases(
                records,
                max_records=self.max_records,
                response_template=self.response_template or DEFAULT_TEMPLATE,
            )
        except ValueError as exc:
            raise AirflowFailException(f"{self.data_uri}: {exc}") from exc
        self.log.info(
            "Calibrating judge %r of %s:%s on %d samples from %d labelled records (threshold %.2f)",
            self.judge_component,
            self.function_name,
            self.qualifier,
            len(cases),
            len({case.record for case in cases}),
            threshold,
        )

        def invoke(batch: list[Any], _: Any) -> Any:
            return self.hook.invoke_grader(self.function_name, batch, qualifier=self.qualifier)

        run = score_events(invoke, [case.event for case in cases], batch_size=self.batch_size)
        report = judge_agreement(
            cases,
            run.results,
            judge_component=self.judge_component,
            min_agreement=threshold,
            pass_score=self.pass_score,
            failed_batches=run.failed_batches,
        )
        summary = {"calibrated": True, **report.to_dict(), "report_uri": self.report_uri}
        if self.report_uri:
            self._storage().write_text(self.report_uri, json.dumps(summary, indent=2))
        for line in report.message().splitlines():
            self.log.info("%s", line)
        if not report.passed:
            raise AirflowFailException(report.message())
        return summary
