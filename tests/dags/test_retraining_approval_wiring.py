"""The retraining DAG's approval, zero-downtime promotion and notification wiring (parsed, rendered)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pytest

from bedrock_rft_provider.notifications import BedrockRFTNotifier
from bedrock_rft_provider.operators import approval

SUMMARY = {
    "model_id": "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/challenger01",
    "n": 60,
    "mean_reward": 0.7,
    "delta": 0.1,
    "delta_ci95": [0.04, 0.16],
    "p_value": 0.002,
    "error_rate": 0.0,
    "baseline": {"mean_reward": 0.6, "error_rate": 0.0},
}


class PullingTI:
    dag_id, run_id, task_id = "bedrock_rft_retraining", "manual__x", "approve_promotion"

    def xcom_pull(self, task_ids: str, key: str = "return_value") -> Any:
        if (task_ids, key) == ("evaluate", "return_value"):
            return SUMMARY
        if (task_ids, key) == ("quality_gate", "gate_decision"):
            return {"promote": True, "reasons": ["ok sample size 60 (minimum 20)"]}
        return None


def test_the_gate_asks_for_approval_before_promote(dagbag: Any) -> None:
    dag = dagbag.get_dag("bedrock_rft_retraining")
    gate, ask, promote = (dag.get_task(t) for t in ("quality_gate", "approve_promotion", "promote"))
    assert gate.promote_task_ids == "approve_promotion"
    assert ask.downstream_task_ids == {"promote"} and "approve_promotion" in promote.upstream_task_ids
    assert ask.defaults == ["Reject"]  # a timeout rejects
    assert promote.stable_deployment is True


def test_callbacks_notify_gate_promotion_and_training_failure(dagbag: Any) -> None:
    dag = dagbag.get_dag("bedrock_rft_retraining")

    def events(callbacks: Any) -> list[str]:
        return [c.event for c in (callbacks or []) if isinstance(c, BedrockRFTNotifier)]

    assert events(dag.get_task("quality_gate").on_success_callback) == ["gate_decision"]
    assert events(dag.get_task("promote").on_success_callback) == ["promotion"]
    assert events(dag.get_task("train").on_failure_callback) == ["job_failure"]


def test_the_approval_body_renders_the_evaluation_brief(dagbag: Any) -> None:
    dag = dagbag.get_dag("bedrock_rft_retraining")
    task = dag.get_task("approve_promotion")
    env = dag.get_template_env()
    params = {"model_family": "gsm8k", "bucket": "b"}
    body = env.from_string(task.body).render(ti=PullingTI(), params=params, dag_run=PullingTI())
    assert "### Challenger" in body and "for gsm8k" in body
    assert "95% CI [+0.0400, +0.1600]" in body and "Gate: **PROMOTE**" in body
    assert "Report: s3://b/retraining/manual__x/evaluation/report.html" in body


@pytest.mark.parametrize("required", [True, False])
def test_the_gate_significance_test_follows_the_param(dagbag: Any, required: bool) -> None:
    dag = dagbag.get_dag("bedrock_rft_retraining")
    gate = dag.get_task("quality_gate")
    assert dag.params["gate_require_significance"] is True  # on unless a run turns it off
    rendered = dag.get_template_env().from_string(gate.require_ci_excludes_zero)
    assert rendered.render(params={"gate_require_significance": required}) is required


def test_not_required_approves_at_once_without_asking() -> None:
    operator = approval.BedrockRFTPromotionApprovalOperator(task_id="ask", required="False", body="b")
    assert operator.execute({}) == {"chosen_options": ["Approve"], "required": False}


@pytest.fixture
def without_hitl(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The module as imported on Airflow 3.0, where the HITL operators do not exist."""
    monkeypatch.setitem(sys.modules, "airflow.providers.standard.operators.hitl", None)
    yield importlib.reload(approval)
    monkeypatch.undo()
    importlib.reload(approval)


def test_on_airflow_3_0_a_required_approval_fails_instead_of_promoting(without_hitl: Any) -> None:
    assert without_hitl.HITL_AVAILABLE is False
    required = without_hitl.BedrockRFTPromotionApprovalOperator(task_id="ask", required=True)
    with pytest.raises(Exception, match=r"need Airflow >= 3.1.*not promoting without a reviewer"):
        required.execute({})
    optional = without_hitl.BedrockRFTPromotionApprovalOperator(task_id="ask2", required=False)
    assert optional.execute({})["chosen_options"] == ["Approve"]


@pytest.mark.parametrize("dag_id", ["bedrock_rft_retraining", "bedrock_rft_post_training"])
def test_promote_checks_the_champion_it_was_evaluated_against(dagbag: Any, dag_id: str) -> None:
    """Break wave 4: a champion promoted while this run waited (e.g. for approval) stops the promotion;
    both DAGs serve the family from one stable champion deployment."""
    dag = dagbag.get_dag(dag_id)
    promote = dag.get_task("promote")
    assert "champion_version" in promote.baseline_version and "current_champion" in promote.baseline_version
    assert promote.stable_deployment is True

    class VersionTI:
        def xcom_pull(self, task_ids: str, key: str = "return_value") -> Any:
            return 3 if (task_ids, key) == ("current_champion", "champion_version") else None

    assert dag.get_template_env().from_string(promote.baseline_version).render(ti=VersionTI()) == 3  # native
