"""evaluate -> gate -> promote | reject as a real DAG run (``dag.test()``): the gate's branch is followed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from support.airflow_compat import dagbag_for_test

pytestmark = pytest.mark.integration
SLOW_TIMEOUT_S = 900  # a safety net (~10x a run on 2 busy cores: 78 s at load 15-20), not a speed limit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "evaluation"
MODEL = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-2-lite-v1:0:256k/abcdefghijkl"

DAG_SOURCE = """
from __future__ import annotations

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

from bedrock_rft_provider.operators.evaluation import BedrockRFTEvaluationOperator
from bedrock_rft_provider.operators.gate import BedrockRFTQualityGateOperator
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator

with DAG(dag_id="DAG_ID", schedule=None, catchup=False, params={"min_improvement": 0.1}) as dag:
    evaluate = BedrockRFTEvaluationOperator(
        task_id="evaluate",
        dataset_uri="FIXTURES/dataset.jsonl",
        responses_uri="FIXTURES/responses_tuned.jsonl",
        baseline_responses_uri="FIXTURES/responses_base.jsonl",
        reward="bedrock_rft_provider.rewards.builtin:math_answer",
        output_uri="OUTPUT/{{ run_id | replace(':', '_') }}",
    )
    gate = BedrockRFTQualityGateOperator(
        task_id="gate",
        summary=evaluate.output,
        promote_task_ids="promote",
        reject_task_ids="reject",
        min_improvement="{{ params.min_improvement }}",
        min_samples=10,
        require_ci_excludes_zero=False,
    )
    promote = BedrockRFTPromoteOperator(
        task_id="promote",
        family="dag-test",
        custom_model_arn="MODEL",
        summary=evaluate.output,
        tag_model=False,
    )
    evaluate >> gate >> [promote, EmptyOperator(task_id="reject")]
"""


CASES = [
    ("eval_gate_promote", 0.1, "promote", "reject"),  # delta 4/12 = 0.333 >= 0.1
    ("eval_gate_reject", 0.5, "reject", "promote"),
]


@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gate_branch_is_followed_in_a_dag_run(
    *,
    case: tuple[str, float, str, str],
    airflow_db: Path,
    airflow_home: Path,
    tmp_path: Path,
    moto_server: str,
    aws_conn_to: Callable[[str], None],
) -> None:
    dag_id, min_improvement, taken, skipped = case
    from airflow.utils.state import DagRunState

    aws_conn_to(moto_server)
    source = DAG_SOURCE.replace("DAG_ID", dag_id).replace("FIXTURES", str(FIXTURES))
    dag_file = airflow_home / "dags" / f"{dag_id}.py"
    dag_file.write_text(source.replace("OUTPUT", str(tmp_path)).replace("MODEL", MODEL))
    try:
        dagbag = dagbag_for_test(str(dag_file))
        assert dagbag.import_errors == {}
        run = dagbag.get_dag(dag_id).test(run_conf={"min_improvement": min_improvement})
        states = {ti.task_id: ti.state for ti in run.get_task_instances()}
        assert run.state == DagRunState.SUCCESS
        assert (states[taken], states[skipped]) == ("success", "skipped")
        ssm = boto3.client("ssm", endpoint_url=moto_server, region_name="us-east-1")
        stored = ssm.get_parameters(Names=["/bedrock-rft/champion/dag-test"])["Parameters"]
        if taken == "promote":
            assert json.loads(stored[0]["Value"])["metrics"]["delta"] == pytest.approx(4 / 12)
        summaries = list(tmp_path.glob("*/summary.json"))
        assert len(summaries) == 1
    finally:
        dag_file.unlink(missing_ok=True)
        shutil.rmtree(airflow_home / "dags" / "__pycache__", ignore_errors=True)
