"""OpenLineage hook-in for our operators: the listener asks each one for its lineage on completion.

``bedrock_rft_provider.lineage`` is imported when lineage is asked for, not when a DAG file imports
an operator: parsing pays only for what building the DAG needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bedrock_rft_provider.lineage import LineageDataset, TaskLineage


class LineageMixin:
    """Adds ``get_openlineage_facets_on_complete`` (the apache-airflow-providers-openlineage listener
    calls it after a task succeeds); the operator builds its ``TaskLineage`` in ``lineage()`` from what
    ``execute`` (or ``execute_complete``) kept in ``self.lineage_result``."""

    lineage_result: Any = None
    log: Any

    def lineage(self) -> TaskLineage | None:
        """This task's lineage from ``self.lineage_result``; None when there is none."""
        raise NotImplementedError

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        if self.lineage_result is None:
            return None
        from bedrock_rft_provider.lineage import to_operator_lineage

        return to_operator_lineage(self.lineage(), self.log)


def grader_lineage(lambda_hook: Any, lambda_arn: str, log: Any) -> LineageDataset:
    """The grader dataset with the version and code sha256 ``lambda_arn`` resolves to now; only its
    name when Lambda cannot be read (lineage never fails a task)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from bedrock_rft_provider.lineage import grader_dataset

    try:
        return grader_dataset(**lambda_hook.grader_version(lambda_arn))
    except (BotoCoreError, ClientError) as exc:
        log.warning(
            "Lineage: cannot read grader %s (%s); reporting it without its code hash", lambda_arn, exc
        )
        return grader_dataset(lambda_arn)


def rft_job_lineage(operator: Any) -> TaskLineage:
    """``BedrockRFTJobOperator``'s lineage: its rendered data URIs and grader, and its result."""
    from bedrock_rft_provider.hooks.reward_lambda import RewardLambdaHook
    from bedrock_rft_provider.lineage import job_task

    lambda_hook = RewardLambdaHook(aws_conn_id=operator.aws_conn_id, region_name=operator.region_name)
    uris = operator.validation_data_uri
    logs = operator.invocation_logs  # trained on invocation logs: their S3 prefix is the input
    return job_task(
        operator.lineage_result,
        training_data_uri=str(logs["s3_uri"]) if logs else operator.training_data_uri,
        validation_data_uris=[uris] if isinstance(uris, str) else list(uris or []),
        grader=grader_lineage(lambda_hook, operator.reward_lambda_arn, operator.log),
        base_model_id=operator.base_model_id,
    )
