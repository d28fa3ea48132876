"""Daily evaluation of the model in service, per data interval — the DAG to backfill.

Each run takes one day's test prompts (``evaluation_data_uri``, partitioned by the interval's start
date), resolves the champion *as of the interval's end* from its SSM history (or the base model when
no champion existed yet), answers the prompts with it, scores them with the training reward, and
compares with the base model. Results land in a partition per interval and are overwritten when the
interval is re-run, so a backfill is idempotent::

    airflow backfill create --dag-id bedrock_rft_evaluation \\
        --from-date 2026-11-01 --to-date 2026-11-07        # the scheduler then runs them

=====================  ===========================================================================
param                  meaning
=====================  ===========================================================================
bucket                 S3 bucket holding the daily test partitions and the evaluation outputs
model_family           champion family (SSM ``/bedrock-rft/champion/<family>``)
base_model_id          served before the first promotion, and the baseline of every comparison
reward                 reward as ``module:function`` (the one used in training)
eval_concurrency       parallel ``converse`` calls
sandbox                label outputs as sandbox results (set False on real AWS)
=====================  ===========================================================================
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param
from airflow.timetables.interval import CronDataIntervalTimetable

from bedrock_rft_provider.example_dag_params import DEMO_BUCKET, DEMO_FAMILY, DEMO_REWARD
from bedrock_rft_provider.operators.evaluation import BedrockRFTEvaluationOperator

INTERVAL = "{{ data_interval_start | ds }}"
DAILY_CRON = "0 0 * * *"  # one data interval per day; edit to change the evaluation cadence

with DAG(
    dag_id="bedrock_rft_evaluation",
    description="Evaluate the champion of each day on that day's prompts (backfillable)",
    schedule=CronDataIntervalTimetable(DAILY_CRON, timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    doc_md=__doc__,
    tags=["bedrock", "rft", "evaluation"],
    params={
        "bucket": Param(DEMO_BUCKET, type="string"),
        "model_family": Param(DEMO_FAMILY, type="string"),
        "base_model_id": Param("amazon.nova-2-lite-v1:0:256k", type="string"),
        "reward": Param(DEMO_REWARD, type="string"),
        "eval_concurrency": Param(8, type="integer", minimum=1),
        "sandbox": Param(True, type="boolean"),
    },
    render_template_as_native_obj=True,
) as dag:
    BedrockRFTEvaluationOperator(
        task_id="evaluate_champion",
        dataset_uri=f"s3://{{{{ params.bucket }}}}/evaluation-data/{INTERVAL}/test.jsonl",
        champion_family="{{ params.model_family }}",
        champion_fallback_model_id="{{ params.base_model_id }}",
        baseline_model_id="{{ params.base_model_id }}",
        reward="{{ params.reward }}",
        output_uri=f"s3://{{{{ params.bucket }}}}/evaluation/{{{{ params.model_family }}}}/{INTERVAL}",
        concurrency="{{ params.eval_concurrency }}",
        sandbox="{{ params.sandbox }}",
    )
