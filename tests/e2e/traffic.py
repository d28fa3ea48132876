"""Scenario 14: RFT from production traffic, promoted without downtime, on the real services.

The sandbox holds synthetic Bedrock invocation logs (laid out as model invocation logging writes them),
some tagged ``app=e2e-tutor`` and some ``app=e2e-chat``. A retraining run triggered via REST with the
``invocation_logs`` param previews them in ``train`` (reads every object, keeps what the filter selects,
checks each prompt) and starts a job whose ``trainingDataConfig`` is ``invocationLogsConfig``. The family
already has a champion served by a deployment applications call; the promotion re-points that
deployment at the new model (``UpdateCustomModelDeployment``) instead of replacing it.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

from bedrock_rft_provider.evaluation.champion import build_record
from tests.e2e import aws, scenarios
from tests.e2e.api import wait_for
from tests.e2e.stack import Stack

FAMILY = "e2e-traffic"
SELECTED, OTHER = 150, 40  # logs the filter selects / leaves out (a job needs >= 100 prompts)
FILTERS = {"equals": {"app": "e2e-tutor"}}


def _conf(logs_uri: str) -> dict[str, Any]:
    # Own family and dataset size (scenario 9 counts a copy of a dataset file as a duplicate); the test
    # split of 520 problems is below the default 50 prompts, hence min_eval_samples. The gate promotes
    # on any result (min_improvement -1, no significance test): this scenario checks how a promotion is
    # served, not whether 150 logged prompts beat the champion (scenarios 1 and 10 gate on merit).
    return {
        **scenarios.RUN_CONF,
        "model_family": FAMILY,
        "dataset_input": "520",
        "min_eval_samples": 20,
        "min_improvement": -1.0,
        "gate_require_significance": False,
        "invocation_logs": {"s3_uri": logs_uri, "request_metadata_filters": FILTERS},
    }


def _seed_champion(stack: Stack) -> tuple[str, str]:
    """The family's current champion: an earlier run's model on a deployment of its own (the ARN
    applications call); returns ``(deployment_arn, model_arn)``."""
    bedrock = stack.sandbox.client("bedrock")
    models = bedrock.list_custom_models()["modelSummaries"]
    assert models, "no custom model in the sandbox yet: run scenario 1 first"
    model_arn = str(models[0]["modelArn"])
    deployment_arn = str(
        bedrock.create_custom_model_deployment(modelDeploymentName=f"{FAMILY}-champion", modelArn=model_arn)[
            "customModelDeploymentArn"
        ]
    )
    wait_for(
        f"{deployment_arn} to be Active",
        lambda: (
            bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=deployment_arn)["status"]
            == "Active"
            or None
        ),
        timeout=scenarios.STEP_TIMEOUT,
    )
    record = build_record(
        family=FAMILY,
        custom_model_arn=model_arn,
        deployment_arn=deployment_arn,
        run_id="e2e-seeded",
        promoted_at=datetime.now(timezone.utc),
    )
    stack.sandbox.client("ssm").put_parameter(
        Name=f"/bedrock-rft/champion/{FAMILY}", Value=json.dumps(record), Type="String", Overwrite=True
    )
    return deployment_arn, model_arn


def _task_log(stack: Stack, run_id: str, task_id: str) -> str:
    folder = (
        stack.logs / "task-logs" / f"dag_id={scenarios.DAG_ID}" / f"run_id={run_id}" / f"task_id={task_id}"
    )
    return "\n".join(p.read_text(errors="replace") for p in sorted(folder.glob("attempt=*.log")))


def traffic_and_stable_deployment(stack: Stack) -> str:
    """14. Training from invocation logs via REST: ``train`` previewed exactly the selected prompts
    and the job trained from ``invocationLogsConfig``; the promotion re-pointed the family's champion
    deployment at the new model (same ARN, previous model recorded), the challenger's deployment torn
    down."""
    logs_uri = aws.write_traffic_logs(stack.sandbox, SELECTED, OTHER)
    stable, old_model = _seed_champion(stack)
    started = time.monotonic()
    watch = scenarios.start_run(stack, "traffic", _conf(logs_uri))
    state = watch.wait_done(scenarios.RUN_TIMEOUT)
    assert state == "success", f"run ended {state}; failed tasks: {watch.failed_tasks()}"
    took = time.monotonic() - started

    preview = f"{SELECTED + OTHER} log(s), {SELECTED} selected by the filters, {SELECTED} valid prompt(s)"
    log = _task_log(stack, watch.run_id, "train")
    assert preview in log, f"train did not log the preview {preview!r}; see its log under {stack.logs}"
    bedrock = stack.sandbox.client("bedrock")
    job = bedrock.get_model_customization_job(jobIdentifier=scenarios.job_name_of(stack, watch))
    assert job["status"] == "Completed", job["status"]
    assert job["trainingDataConfig"] == {
        "invocationLogsConfig": {
            "invocationLogSource": {"s3Uri": logs_uri},
            "requestMetadataFilters": FILTERS,
            "usePromptResponse": False,
        }
    }, job["trainingDataConfig"]

    assert watch.seen["promote"][-1] == "success", dict(watch.seen)
    champion = aws.read_champion(stack.sandbox, FAMILY)
    new_model = job["outputModelArn"]
    assert champion and champion["custom_model_arn"] == new_model, champion
    assert champion["deployment_arn"] == stable and champion["previous_model_arn"] == old_model, champion
    assert "train" not in champion.get("dataset_uris", {}), champion["dataset_uris"]  # it trained on logs
    live = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=stable)
    assert live["status"] == "Active" and live["modelArn"] == new_model, live
    challenger = stack.api.xcom(scenarios.DAG_ID, watch.run_id, "deploy_tuned")
    summaries = bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
    assert challenger not in {d["customModelDeploymentArn"] for d in summaries}, "challenger still deployed"
    return (
        f"run {took:.0f}s; preview: {preview}; job trained from invocationLogsConfig; champion deployment "
        f"{stable.rsplit('/', 1)[-1]} kept its ARN and now serves {new_model.rsplit('/', 1)[-1]}"
    )
