"""The RFT job operator's check of invocation logs before it pays for a job trained on them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException

if TYPE_CHECKING:
    from bedrock_rft_provider.jobs.invocation_logs import InvocationLogSource

PROBLEMS_SHOWN = 20


def preview_before_training(operator: Any, source: InvocationLogSource) -> dict[str, Any]:
    """Read the logs ``source`` selects and check the prompts they yield; fail the task (no retry: bad
    logs do not heal) before any job is created when a prompt is invalid or there are too few."""
    from bedrock_rft_provider.data.invocation_logs import preview_invocation_logs, s3_log_objects
    from bedrock_rft_provider.hooks.storage import StorageHook

    storage = StorageHook(
        aws_conn_id=operator.aws_conn_id, region_name=operator.region_name, verify=operator.verify
    )
    operator.log.info("Previewing invocation logs under %s before training", source.s3_uri)
    preview = preview_invocation_logs(source, s3_log_objects(storage.conn, source.s3_uri))
    for warning in preview.warnings:
        operator.log.warning("%s", warning)
    for example in preview.examples:
        operator.log.info("example prompt %s: %r", example["id"], example["prompt"])
    summary = (
        f"{preview.objects} object(s), {preview.logs} log(s), {preview.matched} selected by the filters, "
        f"{preview.prompts} valid prompt(s), skipped {dict(preview.skipped) or 'none'}"
    )
    if not preview.ok:
        for problem in preview.problems[:PROBLEMS_SHOWN]:
            operator.log.error("%s", problem)
        raise AirflowFailException(
            f"invocation logs under {source.s3_uri} are not trainable ({preview.problem_count} problem(s); "
            f"{summary}); first: {preview.problems[0]}"
        )
    operator.log.info("Invocation logs: %s", summary)
    return preview.to_dict()
