"""Baseline for ``bench_dags``: the daily evaluation DAG written with the amazon provider's operators.

The closest equivalent of ``dags/bedrock_rft_evaluation.py`` without this provider: one
``BedrockCreateEvaluationJobOperator`` task per data interval, same params and schedule. It does less
than the example DAG (the champion comes from an Airflow Variable, not from the SSM history as of the
interval's end, and scoring uses Bedrock's built-in metrics instead of the training reward), so a parse
time difference does not favour the example DAG.
"""

from __future__ import annotations

import pendulum
from airflow.providers.amazon.aws.operators.bedrock import BedrockCreateEvaluationJobOperator
from airflow.sdk import DAG, Param
from airflow.timetables.interval import CronDataIntervalTimetable

INTERVAL = "{{ data_interval_start | ds }}"
CHAMPION = "{{ var.value.get('bedrock_rft_champion_' ~ params.model_family, params.base_model_id) }}"

with DAG(
    dag_id="amazon_bedrock_evaluation",
    description="Evaluate the champion of each day on that day's prompts (amazon operators only)",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    doc_md=__doc__,
    tags=["bedrock", "rft", "evaluation", "baseline"],
    params={
        "bucket": Param("bedrock-rft-demo", type="string"),
        "model_family": Param("gsm8k", type="string"),
        "base_model_id": Param("amazon.nova-2-lite-v1:0:256k", type="string"),
        "role_arn": Param("arn:aws:iam::123456789012:role/bedrock-rft-service", type="string"),
        "eval_concurrency": Param(8, type="integer", minimum=1),
        "sandbox": Param(True, type="boolean"),
    },
    render_template_as_native_obj=True,
) as dag:
    BedrockCreateEvaluationJobOperator(
        task_id="evaluate_champion",
        job_name="{{ params.model_family }}-eval-{{ data_interval_start | ds_nodash }}",
        role_arn="{{ params.role_arn }}",
        evaluation_config={
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {
                            "name": "daily",
                            "datasetLocation": {
                                "s3Uri": f"s3://{{{{ params.bucket }}}}/evaluation-data/{INTERVAL}/test.jsonl"
                            },
                        },
                        "metricNames": ["Builtin.Accuracy"],
                    }
                ]
            }
        },
        inference_config={
            "models": [
                {"bedrockModel": {"modelIdentifier": CHAMPION}},
                {"bedrockModel": {"modelIdentifier": "{{ params.base_model_id }}"}},
            ]
        },
        output_data_config={
            "s3Uri": f"s3://{{{{ params.bucket }}}}/evaluation/{{{{ params.model_family }}}}/{INTERVAL}/"
        },
    )
