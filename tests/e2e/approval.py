"""Scenarios 10-11: human approval of a promotion, answered through Airflow's REST API.

A retraining run with ``require_approval`` stops at ``approve_promotion`` (state ``awaiting_input`` on
Airflow 3.3, ``deferred`` before) with the evaluation brief as the request's body; the scenario
answers it like a reviewer's tooling would, with ``PATCH .../hitlDetails``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from tests.e2e import aws, scenarios
from tests.e2e.runs import RunWatch
from tests.e2e.stack import Stack

TASK = "approve_promotion"
WAITING = {"awaiting_input", "deferred"}
# Own families and own dataset sizes: datasets are stored per family, and scenario 9 counts a copy of
# the same file as a duplicate. Fewer test prompts than the default 50 reach the gate, hence min_eval.
APPROVE_CONF: dict[str, Any] = {
    **scenarios.RUN_CONF,
    "require_approval": True,
    "model_family": "e2e-approval",
    "dataset_input": "440",
    "min_eval_samples": 20,
}
REJECT_CONF: dict[str, Any] = {**APPROVE_CONF, "model_family": "e2e-approval-reject", "dataset_input": "480"}
BASE_MODEL = "amazon.nova-2-lite-v1:0:256k"


def _hitl_path(watch: RunWatch) -> str:
    return f"/dags/{watch.dag_id}/dagRuns/{watch.run_id}/taskInstances/{TASK}/-1/hitlDetails"


def _answer(stack: Stack, watch: RunWatch, option: str) -> dict[str, Any]:
    """Wait for the approval request, check its body is the evaluation brief, answer ``option``."""
    watch.wait_task(TASK, WAITING, scenarios.STEP_TIMEOUT)
    request = stack.api.get(_hitl_path(watch))
    assert request["options"] == ["Approve", "Reject"], request
    body = request.get("body") or ""
    for part in ("mean reward delta", "95% CI", "| error_rate |", "Gate: **PROMOTE**", "report.html"):
        assert part in body, f"approval body lacks {part!r}: {body[:800]}"
    stack.api.call("PATCH", _hitl_path(watch), json={"chosen_options": [option], "params_input": {}})
    return dict(request)


def approval_promotes(stack: Stack) -> str:
    """10. The gate passes, the run waits for a reviewer; Approve through the REST API promotes, and
    the challenger's deployment becomes the family's champion deployment."""
    assert aws.read_champion(stack.sandbox, APPROVE_CONF["model_family"]) is None
    watch = scenarios.start_run(stack, "approve", APPROVE_CONF)
    _answer(stack, watch, "Approve")
    state = watch.wait_done(scenarios.RUN_TIMEOUT)
    assert state == "success", f"run ended {state}; failed tasks: {watch.failed_tasks()}"
    assert watch.seen["promote"][-1] == "success", watch.seen["promote"]
    champion = aws.read_champion(stack.sandbox, APPROVE_CONF["model_family"])
    assert champion and champion["run_id"] == watch.run_id, champion
    deployed = stack.api.xcom(scenarios.DAG_ID, watch.run_id, "deploy_tuned")
    assert champion["deployment_arn"] == deployed, (champion, deployed)
    live = stack.sandbox.client("bedrock").get_custom_model_deployment(
        customModelDeploymentIdentifier=deployed
    )
    assert live["status"] == "Active" and live["modelArn"] == champion["custom_model_arn"], live
    outcome = stack.api.xcom(scenarios.DAG_ID, watch.run_id, "outcome")
    assert outcome == "promoted", outcome
    return f"approved via PATCH hitlDetails; {champion['custom_model_arn'].rsplit('/', 1)[-1]} promoted"


def rejection_keeps_the_champion(stack: Stack) -> str:
    """11. Reject through the REST API: promote is skipped, the champion record keeps its version and
    value, and the challenger's deployment is torn down."""
    family = REJECT_CONF["model_family"]
    ssm = stack.sandbox.client("ssm")
    name = f"/bedrock-rft/champion/{family}"
    # A champion served by the base model (no deployment), so the challenger passes the gate and the
    # reviewer decides.
    seeded = {
        "family": family,
        "custom_model_arn": None,
        "deployment_arn": None,
        "model_id": BASE_MODEL,
        "promoted_at": datetime.now(timezone.utc).isoformat(),
        "run_id": "e2e-seeded",
    }
    ssm.put_parameter(Name=name, Value=json.dumps(seeded), Type="String", Overwrite=True)
    before = ssm.get_parameter(Name=name)["Parameter"]
    watch = scenarios.start_run(stack, "reject", REJECT_CONF)
    _answer(stack, watch, "Reject")
    state = watch.wait_done(scenarios.RUN_TIMEOUT)
    assert state == "success", f"run ended {state}; failed tasks: {watch.failed_tasks()}"
    assert watch.seen["promote"][-1] == "skipped", watch.seen["promote"]
    after = ssm.get_parameter(Name=name)["Parameter"]
    assert (after["Version"], after["Value"]) == (before["Version"], before["Value"]), (before, after)
    deployed = stack.api.xcom(scenarios.DAG_ID, watch.run_id, "deploy_tuned")
    summaries = stack.sandbox.client("bedrock").list_custom_model_deployments()["modelDeploymentSummaries"]
    assert deployed not in {d["customModelDeploymentArn"] for d in summaries}, "challenger still deployed"
    outcome = stack.api.xcom(scenarios.DAG_ID, watch.run_id, "outcome")
    assert outcome.startswith("not approved"), outcome
    return f"rejected via PATCH hitlDetails; champion still version {after['Version']}; challenger torn down"
