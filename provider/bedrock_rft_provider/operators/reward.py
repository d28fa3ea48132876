"""Reward grader operators: deploy the grader Lambda, and preflight it on real training samples."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from bedrock_rft_provider.hooks.reward_lambda import RewardLambdaHook
from bedrock_rft_provider.operators.lineage_mixin import LineageMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_rft_provider.hooks.storage import StorageHook
    from bedrock_rft_provider.lineage import TaskLineage


def _raise_config_errors(problems: list[tuple[str, str]]) -> None:
    from bedrock_rft_provider.errors import ConfigError, raise_config_errors

    raise_config_errors([ConfigError(field, message) for field, message in problems])


class BedrockRewardFunctionOperator(LineageMixin, AwsBaseOperator[RewardLambdaHook]):
    """Package a reward and create-or-update the grader Lambda, publish a version and point an alias at it.

    Retry-safe and cheap to rerun: the zip is deterministic, so unchanged code and configuration
    update nothing and publish no new version. Pass ``alias_arn`` from the result as the RFT job's
    ``reward_lambda_arn`` (it pins the published version).

    :param function_name: the Lambda function name.
    :param reward: ``module:function`` or ``path/to/file.py:function`` (e.g.
        ``bedrock_rft_provider.rewards.builtin:math_answer``); the module's top-level package ships.
    :param role_arn: the grader's execution role (see ``bedrock-rft iam-policy``).
    :param requirements: third-party requirements, installed as manylinux wheels for ``architecture``.
    :param runtime: Lambda Python runtime.
    :param architecture: ``x86_64`` or ``arm64``.
    :param timeout: Lambda timeout in seconds (the 3 s Lambda default is too short for graders).
    :param memory_size: Lambda memory in MB.
    :param environment: environment variables of the function.
    :param alias: the alias pointed at the published version.
    :param max_workers: threads per batch (for I/O-bound rewards such as an LLM judge).
    :return: ``{function_arn, version, alias_arn, code_sha256}``.
    """

    aws_hook_class = RewardLambdaHook
    template_fields: Sequence[str] = aws_template_fields(
        "function_name", "reward", "role_arn", "alias", "environment", "requirements"
    )
    ui_color = "#fbeed9"

    def __init__(
        self,
        *,
        function_name: str,
        reward: str,
        role_arn: str,
        requirements: Sequence[str] | None = None,
        runtime: str = "python3.12",
        architecture: str = "x86_64",
        timeout: int = 300,
        memory_size: int = 512,
        environment: Mapping[str, str] | str | None = None,
        alias: str = "live",
        max_workers: int | None = None,
        **kwargs: Any,
    ) -> None:
        # Each key of the returned dict is also its own XCom, so ``task.output["key"]`` works (Airflow 3).
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.function_name = function_name
        self.reward = reward
        self.role_arn = role_arn
        self.requirements = list(requirements or [])
        self.runtime = runtime
        self.architecture = architecture
        self.timeout = timeout
        self.memory_size = memory_size
        # A template (e.g. "{{ params.grader_environment }}") renders to a mapping at run time.
        self.environment: Mapping[str, str] | str = (
            environment if isinstance(environment, str) else dict(environment or {})
        )
        self.alias = alias
        self.max_workers = max_workers

    def execute(self, context: Context) -> dict[str, str]:
        from bedrock_rft_provider.errors import ConfigError
        from bedrock_rft_provider.hooks.reward_lambda import GraderSettings
        from bedrock_rft_provider.jobs.grader_lambda import check_grader_settings
        from bedrock_rft_provider.rewards.packaging import (
            PackageError,
            build_reward_package,
            python_version_of,
        )

        if not isinstance(self.environment, Mapping):
            raise ConfigError("environment", f"{self.environment!r} is not a mapping of names to strings")
        environment = dict(self.environment)

        _raise_config_errors(
            check_grader_settings(
                function_name=self.function_name,
                role_arn=self.role_arn,
                runtime=self.runtime,
                architecture=self.architecture,
                timeout=self.timeout,
                memory_size=self.memory_size,
                alias=self.alias,
                environment=environment,
            )
        )
        try:
            package = build_reward_package(
                self.reward,
                requirements=self.requirements,
                architecture=self.architecture,
                python_version=python_version_of(self.runtime),
                max_workers=self.max_workers,
            )
        except PackageError as exc:
            raise ConfigError("reward", str(exc)) from exc
        self.log.info(
            "Built grader package for %s: %d files, %.1f KB zipped, CodeSha256 %s",
            package.reward,
            len(package.files),
            len(package.zip_bytes) / 1024,
            package.code_sha256,
        )
        settings = GraderSettings(
            role_arn=self.role_arn,
            runtime=self.runtime,
            architecture=self.architecture,
            timeout=self.timeout,
            memory_size=self.memory_size,
            environment=environment,
            handler=package.handler,
            description=f"Bedrock RFT grader {package.reward} (bedrock-rft)",
        )
        deployment = self.hook.deploy_grader(self.function_name, package, settings, alias=self.alias)
        self.lineage_result = deployment.to_dict()
        return self.lineage_result

    def lineage(self) -> TaskLineage:
        """The grader version published, with its code sha256."""
        from bedrock_rft_provider.lineage import reward_task

        return reward_task(self.lineage_result)


class BedrockRewardPreflightOperator(AwsBaseOperator[RewardLambdaHook]):
    """Invoke the deployed grader through Lambda on samples built from the training data, before training.

    For each of the first ``max_records`` records with a ``reference_answer`` it sends the reference
    written as an ideal response plus a wrong, an empty and a malformed response, in batches, the way
    Bedrock does. Fails (without retry) when the contract is broken, a call errors, an ideal response
    is not top-scored, a bad one scores as high as the ideal one, or a batch takes more than
    ``latency_budget`` of the function's timeout. Bedrock has no grader validation endpoint; this is it.

    :param function_name: the grader's name or ARN.
    :param qualifier: the alias or version to invoke (default: the deploy operator's ``live``).
    :param training_data_uri: the training JSONL, ``s3://`` or a local path.
    :param report_uri: where to write the JSON report (``s3://`` or a local path); not written when None.
    :param max_records: how many records to build samples from.
    :param batch_size: samples per invocation.
    :param latency_budget: the share of the Lambda timeout a batch may use.
    :param ideal_tolerance: how far (0..1) an ideal response may score below the top score: 0 for a
        verifiable reward; an LLM judge's share of a composite for a judged one (a judge is noisy; its
        agreement is checked by ``BedrockJudgeCalibrationOperator`` instead).
    :param response_template: how a response states an answer, e.g. ``"Reasoning.\\n#### {reference}"``
        when the reward also checks the format the prompt asks for; used for the ideal and wrong answers.
    :return: the report: ``{passed, checks, kind_scores, max_batch_latency_s, report_uri}``.
    """

    aws_hook_class = RewardLambdaHook
    template_fields: Sequence[str] = aws_template_fields(
        "function_name",
        "qualifier",
        "training_data_uri",
        "report_uri",
        "response_template",
        "ideal_tolerance",
    )
    ui_color = "#fbeed9"

    def __init__(
        self,
        *,
        function_name: str,
        training_data_uri: str,
        qualifier: str | None = "live",
        report_uri: str | None = None,
        max_records: int = 16,
        batch_size: int = 16,
        latency_budget: float = 0.5,
        response_template: str = "{reference}",
        ideal_tolerance: float | str = 0.0,
        **kwargs: Any,
    ) -> None:
        # Each key of the returned dict is also its own XCom, so ``task.output["key"]`` works (Airflow 3).
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.function_name = function_name
        self.qualifier = qualifier
        self.response_template = response_template
        self.training_data_uri = training_data_uri
        self.report_uri = report_uri
        self.max_records = max_records
        self.batch_size = batch_size
        self.latency_budget = latency_budget
        self.ideal_tolerance = ideal_tolerance

    def _storage(self) -> StorageHook:
        from bedrock_rft_provider.hooks.storage import StorageHook

        return StorageHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify)

    def execute(self, context: Context) -> dict[str, Any]:
        from bedrock_rft_provider.errors import ConfigError
        from bedrock_rft_provider.rewards.preflight import (
            build_preflight_cases,
            judge_preflight,
            parse_training_records,
        )
        from bedrock_rft_provider.rewards.runner import score_events

        if self.batch_size < 1 or self.max_records < 1:
            raise ConfigError("batch_size" if self.batch_size < 1 else "max_records", "must be at least 1")
        try:
            ideal_tolerance = float(self.ideal_tolerance)
        except (TypeError, ValueError):
            raise ConfigError("ideal_tolerance", f"{self.ideal_tolerance!r} is not a number") from None
        if not 0.0 <= ideal_tolerance <= 1.0:
            raise ConfigError("ideal_tolerance", f"{ideal_tolerance} must be between 0 and 1")
        try:
            records = parse_training_records(
                self._storage().read_text(self.training_data_uri), self.training_data_uri
            )
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from exc
        try:
            cases = build_preflight_cases(
                records, max_records=self.max_records, response_template=self.response_template
            )
        except ValueError as exc:
            raise ConfigError("response_template", str(exc)) from exc
        configuration = self.hook.get_configuration(self.function_name)
        if configuration is None:
            raise AirflowFailException(
                f"grader function {self.function_name} does not exist; deploy it first"
            )
        lambda_timeout = float(configuration.get("Timeout") or 3)
        self.log.info(
            "Preflight of %s:%s on %d samples from %d records (timeout %.0f s)",
            self.function_name,
            self.qualifier,
            len(cases),
            len({c.record for c in cases}),
            lambda_timeout,
        )

        def invoke(batch: list[Any], context: Any) -> Any:
            return self.hook.invoke_grader(self.function_name, batch, qualifier=self.qualifier)

        run = score_events(invoke, [case.event for case in cases], batch_size=self.batch_size)
        report = judge_preflight(
            cases,
            run,
            lambda_timeout_s=lambda_timeout,
            latency_budget=self.latency_budget,
            ideal_tolerance=ideal_tolerance,
        )
        summary = {**report.to_dict(), "report_uri": self.report_uri}
        if self.report_uri:
            self._storage().write_text(
                self.report_uri, json.dumps({**summary, "run": run.to_dict()}, indent=2)
            )
            self.log.info("Preflight report written to %s", self.report_uri)
        for check in report.checks:
            self.log.info("%s %s: %s", "PASS" if check.passed else "FAIL", check.name, check.detail)
        if not report.passed:
            raise AirflowFailException(report.failure_message())
        return summary
