"""Event-driven post-training: when Bedrock reports an RFT job Completed, deploy, evaluate, gate, promote.

The alternative to waiting in the retraining DAG's ``train`` task (the polling path, the default):
``bedrock-rft events-setup`` routes Bedrock's "Model Customization Job State Change" events through
an EventBridge rule into an SQS queue. Two DAGs take it from there:

- ``bedrock_rft_post_training_events`` (the dispatcher) is scheduled on an asset whose watcher
  (``MessageQueueTrigger``, SQS scheme) reads that queue on the triggerer. Each of its runs reads the
  triggering events and starts one ``bedrock_rft_post_training`` run per completed job, with run id
  ``job__<job name>``: a duplicate event for the same job starts nothing. Malformed messages are
  logged and ignored; a run whose events hold no completed job starts nothing.
- ``bedrock_rft_post_training`` (this DAG, schedule None, one run at a time so promotions stay serial)
  handles one job per run: it deploys the job's model, evaluates it against the champion on the test
  split, gates and promotes it, exactly like the retraining DAG. Trigger it by hand with ``job`` set
  for a job whose event never came. Each job is handled once: the first run to reach it writes
  ``s3://<bucket>/post-training/<job name>/handled-by.json``, and any other run for that job (its
  event after a manual run, the job by ARN and by name, a replay after the dispatch run was deleted)
  skips without deploying, naming that run; a retry or clear of that run handles it again.

Why two DAGs: on Airflow 3.3.2 a DAG with ``max_active_runs`` whose last finished run was started by
a ``TriggerDagRunOperator`` keeps counting as full until its file is parsed again
(apache/airflow#73032), so a DAG that dispatched runs of itself started the next event's run up to
``min_file_process_interval`` late. Unpause both DAGs: a paused dispatcher's watcher does not run, and
a paused ``bedrock_rft_post_training`` leaves its runs queued.

Set ``BEDROCK_RFT_EVENTS_QUEUE_URL`` (printed by ``bedrock-rft events-setup``) in the environment of
the dag-processor and the triggerer. Without it, or without apache-airflow-providers-common-messaging,
the dispatcher has no schedule and says why in the dag-processor log; trigger
``bedrock_rft_post_training`` by hand with ``job`` set. Only native (Nova) jobs publish events;
open-weight jobs keep the polling path.

=====================  ===========================================================================
param                  meaning
=====================  ===========================================================================
job                    RFT job name or ARN to handle (required; the dispatcher sets the ARN); the
                       dispatched run takes the others from the retraining run that handed the
                       job over (``post-training-params.json`` next to the job's output), else
                       (a job started elsewhere) from the defaults below
bucket                 S3 bucket for the evaluation outputs (``post-training/<job name>/``)
model_family           champion family; the champion record is SSM ``/bedrock-rft/champion/<family>``
reward                 reward as ``module:function`` used to score the evaluation
test_data_uri          test split to evaluate on; empty = ``test.jsonl`` next to the job's training
                       data (where ``BedrockRFTDatasetOperator`` writes it)
min_improvement        least mean-reward gain over the champion (or base model) to promote
min_eval_samples       least number of test prompts the gate accepts
gate_guards            metrics that must not regress vs the baseline
eval_concurrency       parallel model calls during evaluation
sandbox                label outputs as sandbox results (set False on real AWS)
=====================  ===========================================================================
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param, task

from bedrock_rft_provider.example_dag_params import DEMO_BUCKET, DEMO_FAMILY, DEMO_REWARD, gate_params
from bedrock_rft_provider.operators.deployment import (
    BedrockCustomModelDeploymentDeleteOperator,
    BedrockCustomModelDeploymentOperator,
)
from bedrock_rft_provider.operators.evaluation import BedrockRFTEvaluationOperator
from bedrock_rft_provider.operators.gate import BedrockRFTQualityGateOperator
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator
from bedrock_rft_provider.triggers.job_events import (
    JOB_PARAM_PATTERN,
    EventsUnavailableError,
    job_events_asset,
)

DAG_ID = "bedrock_rft_post_training"
EVENTS_DAG_ID = "bedrock_rft_post_training_events"
POLL_SECONDS = int(os.environ.get("BEDROCK_RFT_POLL_SECONDS", "30"))

try:
    events_schedule: Any = [job_events_asset(poll_seconds=POLL_SECONDS)]
except EventsUnavailableError as why:
    logging.getLogger(__name__).warning(
        "%s has no schedule; trigger %s with a job: %s", EVENTS_DAG_ID, DAG_ID, why
    )
    events_schedule = None

# Why the dispatcher is a DAG of its own (Airflow 3.3.2, apache/airflow#73032): the scheduler creates
# a run only while DagModel.exceeds_max_non_backfill is False (models/dag.py:797, in
# dags_needing_dagruns; jobs/scheduler_job_runner.py:2446). The dag-processor sets that flag from all
# active runs at each parse (dag_processing/collection.py:636), but the scheduler recomputes it only
# when a SCHEDULED, MANUAL or ASSET_TRIGGERED run ends (jobs/scheduler_job_runner.py:2876-2881 and
# 2940-2945), not an OPERATOR_TRIGGERED one. One max_active_runs=1 DAG that triggered runs of itself
# therefore stayed "full" after its job run ended, until the next parse. Here the dispatcher's runs
# are all asset-triggered (or manual), and this DAG (schedule None) is never created by the scheduler.


def job_field(key: str) -> str:
    """A template for one field of ``completed_job``'s result (rendered at run time)."""
    return f"{{{{ ti.xcom_pull(task_ids='completed_job')['{key}'] }}}}"


with DAG(
    dag_id=DAG_ID,
    description="Deploy, evaluate, gate and promote a completed RFT job (started by its completion event)",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["bedrock", "rft", "events"],
    params={
        # Required (no default, which schedule None allows): a run without it, or with anything that is not
        # a job name or ARN (whitespace, a URL), is refused when triggered, naming the param.
        "job": Param(type="string", pattern=JOB_PARAM_PATTERN, description="RFT job name or ARN"),
        "bucket": Param(DEMO_BUCKET, type="string"),
        "model_family": Param(DEMO_FAMILY, type="string"),
        "reward": Param(DEMO_REWARD, type="string"),
        "test_data_uri": Param("", type="string"),
        **gate_params(),
        "sandbox": Param(True, type="boolean"),
    },
    render_template_as_native_obj=True,
) as dag:

    @task.short_circuit
    def completed_job(params: dict[str, Any], ti: Any = None) -> dict[str, Any]:
        """The job, re-read from Bedrock (an event is only a hint); skips the rest unless it Completed
        and this run is the one that handles it (the first to claim it: see ``jobs.handling``)."""
        from bedrock_rft_provider.dag_tasks import post_training

        return post_training.completed_job(params, ti.dag_id, ti.run_id)

    deploy_tuned = BedrockCustomModelDeploymentOperator(
        task_id="deploy_tuned",
        model_arn=job_field("custom_model_arn"),
        deferrable=True,
        waiter_delay=POLL_SECONDS,
    )

    @task
    def current_champion(params: dict[str, Any], ti: Any = None) -> str:
        """The champion's deployment to beat, or the tuned model's base model when there is none; its
        SSM version (0 = none) is the XCom ``champion_version`` (promote refuses if it changed since)."""
        from bedrock_rft_provider.dag_tasks import post_training

        model_id, version = post_training.current_champion(params)
        ti.xcom_push(key="champion_version", value=version)
        return model_id

    champion = current_champion()
    evaluate = BedrockRFTEvaluationOperator(
        task_id="evaluate",
        dataset_uri=job_field("test_uri"),
        model_id=deploy_tuned.output,
        baseline_model_id=champion,
        reward="{{ params.reward }}",
        output_uri=job_field("output_prefix") + "/evaluation",
        concurrency="{{ params.eval_concurrency }}",
        sandbox="{{ params.sandbox }}",
    )

    quality_gate = BedrockRFTQualityGateOperator(
        task_id="quality_gate",
        summary=evaluate.output,
        promote_task_ids="promote",
        reject_task_ids="reject",
        min_improvement="{{ params.min_improvement }}",
        min_samples="{{ params.min_eval_samples }}",
        guards="{{ params.gate_guards }}",
    )

    promote = BedrockRFTPromoteOperator(
        task_id="promote",
        family="{{ params.model_family }}",
        custom_model_arn=job_field("custom_model_arn"),
        deployment_arn=deploy_tuned.output,
        job_arn=job_field("job_arn"),
        dataset_uris={
            "train": job_field("train_uri"),
            "validation": job_field("validation_uri"),
            "test": job_field("test_uri"),
        },
        eval_summary_uri=job_field("output_prefix") + "/evaluation/summary.json",
        summary=evaluate.output,
        baseline_version="{{ ti.xcom_pull(task_ids='current_champion', key='champion_version') }}",
        # Same stable champion deployment as the retraining DAG: applications keep calling one ARN.
        stable_deployment=True,
        waiter_delay=POLL_SECONDS,
    )

    @task
    def reject(params: dict[str, Any]) -> None:
        """The challenger lost: the champion stays as it is (the gate logged why)."""
        print(f"Not promoted; the {params['model_family']} champion is unchanged.")

    @task(trigger_rule="all_done")
    def deployment_to_tear_down(params: dict[str, Any], ti: Any = None) -> str:
        """The tuned deployment, unless it is now the champion's; "" = nothing to delete."""
        from bedrock_rft_provider.dag_tasks import post_training

        return post_training.deployment_to_tear_down(
            ti.xcom_pull(task_ids="deploy_tuned"), params["model_family"]
        )

    to_tear_down = deployment_to_tear_down()
    tear_down = BedrockCustomModelDeploymentDeleteOperator(
        task_id="tear_down", deployment_identifier=to_tear_down, trigger_rule="all_done"
    )

    completed_job() >> [deploy_tuned, champion]
    decided = [promote, reject()]
    quality_gate >> decided
    decided >> to_tear_down


with DAG(
    dag_id=EVENTS_DAG_ID,
    description=f"Start a {DAG_ID} run for each RFT job whose completion event arrived",
    schedule=events_schedule,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=f"Reads the job-events asset's triggering events and starts one `{DAG_ID}` run per completed "
    f"job (run id `job__<job name>`; a duplicate event starts nothing). See `{DAG_ID}` for the setup.",
    tags=["bedrock", "rft", "events"],
) as events_dag:

    @task
    def job_runs(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """One run per completed job in the triggering events; malformed messages are logged, never used.
        A job a retraining run handed over runs with that run's params (``jobs.handling``)."""
        from bedrock_rft_provider.dag_tasks import post_training

        return post_training.job_runs(triggering_asset_events)

    # The run id is the job's: a duplicate event, or a clear of this task, finds the run and skips.
    TriggerDagRunOperator.partial(
        task_id="start_job_runs", trigger_dag_id=DAG_ID, skip_when_already_exists=True
    ).expand_kwargs(job_runs())
