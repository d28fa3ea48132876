"""Scheduled Amazon Bedrock RFT retraining: data -> grader -> train -> evaluate -> gate -> promote.

One DAG for both training backends: Amazon Nova 2 Lite trains through Bedrock's native RFT jobs and is
evaluated through an on-demand deployment (``deploy_tuned``); ``openai.gpt-oss-20b``, ``qwen.qwen3-32b``
and ``nvidia.nemotron-nano-3-30b`` train through Bedrock's OpenAI-compatible fine-tuning API and answer
on that endpoint without a deployment, so ``deployment_needed`` skips ``deploy_tuned`` for them. Switch
by changing ``base_model_id`` (and the connection's region: the open-weight models train in us-west-2).

Runs weekly, and also whenever new raw training data lands (the ``RAW_TRAINING_DATA`` asset: point
your ingestion DAG's ``outlets`` at it). Every value you would change is a DAG param (change them per
run in the trigger form, or edit the defaults below):

=====================  ===========================================================================
param                  meaning
=====================  ===========================================================================
bucket                 S3 bucket for datasets, grader reports, job outputs and evaluations
role_arn               Bedrock service role the RFT job runs as (``bedrock-rft iam-policy``)
grader_role_arn        execution role of the reward Lambda
base_model_id          model to tune: ``amazon.nova-2-lite-v1:0:256k`` (us-east-1), or an open-weight
                       model (us-west-2): ``openai.gpt-oss-20b``, ``qwen.qwen3-32b``,
                       ``nvidia.nemotron-nano-3-30b``
model_family           champion family; the champion record is SSM ``/bedrock-rft/champion/<family>``
dataset_source         ``gsm8k`` | ``jsonl`` | ``csv`` | ``parquet`` | ``synthetic`` | ``hf:NAME``
dataset_input          input path / ``s3://`` URI (for ``synthetic``: how many problems)
invocation_logs        train on Bedrock model invocation logs (production traffic) instead of the
                       prepared ``train.jsonl``: ``{"s3_uri": ..., "request_metadata_filters": ...}``
                       (see ``BedrockRFTJobOperator``); the prepared validation and test files are
                       still used; empty (default): train on the prepared file
reward                 reward as ``module:function`` (the built-in GSM8K grader by default)
grader_function_name   name of the grader Lambda
grader_environment     environment variables of the grader Lambda (e.g. an LLM judge's
                       ``BEDROCK_RFT_JUDGE_MODEL_ID``)
judge_component        the LLM judge's reward name in the grader's results (e.g. ``policy_judge``);
                       set it to calibrate the judge before training; empty (default): no judge
judge_min_agreement    least agreement of the judge with the labelled validation records
preflight_ideal_tolerance  how far an ideal answer may score below the top in the reward preflight
                       (0 for a verifiable reward; a judge's composite weight for a judged one)
evaluation_reward      reward for the baseline check and evaluation, when it differs from
                       ``reward`` (e.g. the verifiable part of a judged reward); empty: ``reward``
preflight_response_template  how ``reward_preflight`` writes the reference answer as a response
                       (``{reference}`` is replaced), e.g. a fenced block when the reward checks a format
hyperparameters        Nova RFT hyperparameters (pythonic names); unset ones use the service defaults
open_weight_hyperparameters  the open-weight models' RFT hyperparameters (``n_epochs``,
                       ``batch_size``, ``learning_rate_multiplier``), used instead of ``hyperparameters``
baseline_skip_above    skip training when the base model already scores at least this
baseline_skip_below    skip training when the base model scores at most this (SFT first)
health_policy          ``warn`` or ``fail`` on flat reward / length explosion / train-val gap
min_improvement        least mean-reward gain over the champion (or base model) to promote
gate_require_significance  the gain's paired-bootstrap 95% CI must lie above zero (default true;
                       false lets ``min_improvement`` alone decide, e.g. for a small test set)
min_eval_samples       least number of test prompts the gate accepts
gate_guards            metrics that must not regress vs the baseline (default: response length
                       +25% relative, error rate +0.01)
eval_concurrency       parallel model calls during evaluation
eval_samples_per_prompt  answers per test prompt in ``evaluate`` (> 1 adds pass@1 and pass@k to the
                       summary and the report; the code family uses 5)
sandbox                label outputs as sandbox results (set False on real AWS)
force_retrain          train even when a job with the same data (sha256), grader code and job
                       configuration is already running or completed (by default it is reused)
max_budget             money cap (needs ``prices``): ``spend_forecast`` refuses to submit when the
                       forecast costs more, and the wait stops the job (failing ``train``) once it
                       has spent this much
max_training_hours     the same for training hours (refused at submission once a past run gave a
                       training rate; always enforced while the job trains)
max_grader_invocations the same for reward Lambda invocations
prices                 your price table (README "What it costs and how to cap it"; no prices ship
                       with the provider); empty = the ``bedrock_rft_prices`` Airflow Variable, else
                       the forecast and the caps are in units only
forecast_assumptions   what the forecast cannot know (``grader_samples_per_invocation``,
                       ``training_samples_per_hour``, ...); see ``jobs.forecast.ForecastAssumptions``
health_actions         per training-health check, ``warn`` or ``stop`` while the job trains, e.g.
                       ``{"flat_reward": "stop"}`` (checks: flat_reward, length_explosion,
                       train_validation_gap, entropy_collapse, grad_norm_blowup)
allow_grader_change    train even when the deployed grader scores the champion's stored answers
                       differently from the grader the champion was evaluated with
grader_change_threshold  share of those answers allowed to change score before ``grader_guard`` fails
require_approval       wait for a reviewer to approve a promotion the gate passed (Airflow >= 3.1
                       human-in-the-loop; Reject or no answer within ``BEDROCK_RFT_APPROVAL_HOURS``
                       hours, default 24, keeps the champion; on Airflow 3.0 a run that needs
                       approval fails instead of promoting). ``BEDROCK_RFT_REQUIRE_APPROVAL=true``
                       on the workers requires it whatever this param says; ``BEDROCK_RFT_APPROVERS``
                       (Airflow user ids, comma-separated, read at parse time) names who may answer
notify_topic_arn       SNS topic for gate decision, promotion and training failure / budget stop
                       messages; empty = none sent (one log line each)
completion             ``poll`` (default): ``train`` waits for the job and this run goes on to
                       evaluate and promote; ``event``: ``train`` only submits the job and the run
                       ends there; the job's completion event starts, through
                       ``bedrock_rft_post_training_events``, a ``bedrock_rft_post_training`` run
                       (set up with ``bedrock-rft events-setup``); open-weight jobs publish no
                       events, and without ``BEDROCK_RFT_EVENTS_QUEUE_URL`` nothing would hand
                       over, so those always wait in ``train``; a job ``train`` waits for is
                       tagged ``bedrock-rft-post-training=in-run`` and its event starts nothing
=====================  ====================================================================
``spend_forecast`` logs the forecast (graded samples, grader invocations, Lambda GB-seconds,
evaluation tokens, training hours, money) before ``train`` and fails the run, with what to change,
when it is over a cap; ``train`` checks the same caps again before any AWS call. After training,
``training_spend`` measures the actual spend; the evaluation report and the champion record show
forecast vs actual, and the next run's forecast takes its training rate from the champion's.

Training is idempotent at the data level: when unpausing creates a scheduled run next to a manual
one, or new data turns out to be the same data, the second run reuses the first run's job and model
(the ``train`` task logs ``REUSING RFT job ...``) instead of paying for the same training twice.

AWS access is the ``aws_default`` connection: with the defaults below it points at the local
sandbox (``make demo``; for your own Airflow, ``bedrock-rft sandbox --bootstrap`` starts one with this
bucket and these roles and prints the connection line); on real AWS change the connection and
``bucket`` / ``role_arn`` / ``grader_role_arn`` / ``sandbox`` — nothing else.

The deferred waits poll Bedrock every ``BEDROCK_RFT_POLL_SECONDS`` seconds (environment variable read
when the file is parsed; default 60, which keeps an hours-long RFT job to a few hundred status calls).
``make demo`` sets it to 1 because sandbox jobs finish in seconds.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, Param, task

try:
    from airflow.sdk import AssetOrTimeSchedule
except ImportError:  # Airflow < 3.2
    from airflow.timetables.assets import AssetOrTimeSchedule  # type: ignore[no-redef]
from airflow.timetables.trigger import CronTriggerTimetable

from bedrock_rft_provider.data.source_kinds import SOURCES
from bedrock_rft_provider.evaluation.brief import evaluation_brief
from bedrock_rft_provider.evaluation.champion import FAMILY_PATTERN
from bedrock_rft_provider.example_dag_params import DEMO_BUCKET, DEMO_FAMILY, DEMO_REWARD, gate_params
from bedrock_rft_provider.jobs.backends import CATALOG, OPEN_WEIGHT, choose_backend
from bedrock_rft_provider.jobs.cap_names import CAP_NAMES
from bedrock_rft_provider.notifications import BedrockRFTNotifier
from bedrock_rft_provider.operators.approval import BedrockRFTPromotionApprovalOperator, approvers_from
from bedrock_rft_provider.operators.dataset import BedrockRFTDatasetOperator
from bedrock_rft_provider.operators.deployment import (
    BedrockCustomModelDeploymentDeleteOperator,
    BedrockCustomModelDeploymentOperator,
)
from bedrock_rft_provider.operators.evaluation import BedrockRFTEvaluationOperator
from bedrock_rft_provider.operators.forecast import BedrockRFTSpendForecastOperator
from bedrock_rft_provider.operators.gate import BedrockRFTQualityGateOperator
from bedrock_rft_provider.operators.grader_guard import BedrockGraderChangeGuardOperator
from bedrock_rft_provider.operators.judge_calibration import BedrockJudgeCalibrationOperator
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator
from bedrock_rft_provider.operators.reward import (
    BedrockRewardFunctionOperator,
    BedrockRewardPreflightOperator,
)
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.triggers.job_events import (
    HANDOVER_EVENTS,
    HANDOVER_IN_RUN,
    HANDOVER_TAG,
    events_configured,
)

# The schedule: weekly (Monday 03:00 UTC) — edit the cron here — or on new raw data (the asset).
RETRAIN_CRON = "0 3 * * 1"
RAW_TRAINING_DATA = Asset(name="bedrock-rft-raw-training-data", uri="s3://bedrock-rft-demo/raw/gsm8k/")


# Whether ``train`` waits for its job (rendered at run time): always but for completion=event on a
# native job with the events queue set up.
WAITS_HERE = (
    "params.completion != 'event' or not job_events_configured() or "
    "training_backend(params.base_model_id) == '" + OPEN_WEIGHT + "'"
)


# A job this run waits for is post-trained here: its completion event (the rule forwards every job's)
# must not start a second deployment and evaluation with the dispatcher's defaults. Open-weight jobs
# take no tags (and publish no events).
TRAIN_TAGS = (
    f"{{{{ {{'{HANDOVER_TAG}': '{HANDOVER_IN_RUN}' if ({WAITS_HERE}) else '{HANDOVER_EVENTS}'}}"
    f" if training_backend(params.base_model_id) != '{OPEN_WEIGHT}' else None }}}}"
)


def result(task_id: str, key: str) -> str:
    """A template for one field of a task's returned dict (rendered at run time)."""
    return f"{{{{ ti.xcom_pull(task_ids='{task_id}')['{key}'] }}}}"


def training_backend(base_model_id: str) -> str:
    """``"native"`` or ``"open-weight"``: the backend ``BedrockRFTJobOperator`` trains this model on."""
    return choose_backend(base_model_id)


# The hyperparameters of the backend the model trains on (forecast and job read the same ones).
HYPERPARAMETERS = (
    "{{ params.open_weight_hyperparameters if training_backend(params.base_model_id) == '"
    + OPEN_WEIGHT
    + "' else params.hyperparameters }}"
)
# The spend caps (jobs.cap_names.CAP_NAMES), each from the DAG param of the same name.
CAPS = {name: f"{{{{ params.{name} }}}}" for name in CAP_NAMES}
# The dataset sources prepare-data reads (``hf:NAME[:split]`` as a prefix), checked at trigger time.
SOURCE_PATTERN = "^(" + "|".join(re.escape(x) for x in SOURCES if not x.startswith("hf:")) + "|hf:.+)$"
POLL_SECONDS = int(os.environ.get("BEDROCK_RFT_POLL_SECONDS", "60"))
RUN_PREFIX = (
    "s3://{{ params.bucket }}/retraining/{{ dag_run.run_id | replace(':', '-') | replace('+', '-') }}"
)
# The champion version the challenger was evaluated against: promote refuses when it changed since.
BASELINE_VERSION = "{{ ti.xcom_pull(task_ids='current_champion', key='champion_version') }}"
APPROVAL_TIMEOUT = timedelta(hours=float(os.environ.get("BEDROCK_RFT_APPROVAL_HOURS", "24")))
REPORT_URI = f"{RUN_PREFIX}/evaluation/report.html"
# The prepared training file, or "" when the run trains on invocation logs (the job then names them).
TRAIN_URI = "{{ '' if params.invocation_logs else ti.xcom_pull(task_ids='prepare_dataset')['train_uri'] }}"


def notifier(event: str) -> BedrockRFTNotifier:
    """A callback sending ``event`` to the ``notify_topic_arn`` param's topic (none set: a log line)."""
    return BedrockRFTNotifier(
        event=event,
        topic_arn="{{ params.notify_topic_arn }}",
        family="{{ params.model_family }}",
        report_uri=REPORT_URI,
    )


with DAG(
    dag_id="bedrock_rft_retraining",
    description="Retrain a Bedrock model with RFT, evaluate it against the champion, promote if better",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(RETRAIN_CRON, timezone="UTC"), assets=RAW_TRAINING_DATA
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["bedrock", "rft"],
    params={
        "bucket": Param(DEMO_BUCKET, type="string"),
        "role_arn": Param("arn:aws:iam::123456789012:role/bedrock-rft-service", type="string"),
        "grader_role_arn": Param("arn:aws:iam::123456789012:role/bedrock-rft-grader", type="string"),
        # A free-text field with the models RFT trains as proposals (a model Bedrock adds later still works).
        "base_model_id": Param(
            "amazon.nova-2-lite-v1:0:256k", type="string", minLength=1, examples=list(CATALOG)
        ),
        # The champion's SSM parameter name: checked at trigger time, not at promotion after paid training.
        "model_family": Param(DEMO_FAMILY, type="string", pattern=f"^{FAMILY_PATTERN.pattern}$"),
        "dataset_source": Param("synthetic", type="string", pattern=SOURCE_PATTERN),
        "dataset_input": Param("600", type="string"),
        "invocation_logs": Param({}, type="object"),
        "reward": Param(DEMO_REWARD, type="string"),
        "grader_function_name": Param(
            "bedrock-rft-gsm8k-grader", type="string", pattern=r"^[a-zA-Z0-9_-]{1,64}$"
        ),
        "grader_environment": Param({}, type="object"),
        "judge_component": Param("", type="string"),
        "judge_min_agreement": Param(0.8, type="number", minimum=0, maximum=1),
        "preflight_ideal_tolerance": Param(0.0, type="number", minimum=0, maximum=1),
        "evaluation_reward": Param("", type="string"),
        "preflight_response_template": Param("{reference}", type="string"),
        "hyperparameters": Param(
            {
                "epoch_count": 2,
                "batch_size": 16,
                "learning_rate": 1e-5,
                "training_sample_per_prompt": 4,
                "eval_interval": 5,
                "inference_max_tokens": 1024,
                "max_prompt_length": 1024,
            },
            type="object",
        ),
        "open_weight_hyperparameters": Param(
            {"n_epochs": 2, "batch_size": 16, "learning_rate_multiplier": 1.0}, type="object"
        ),
        "baseline_skip_above": Param(0.95, type="number", minimum=0, maximum=1),
        "baseline_skip_below": Param(0.02, type="number", minimum=0, maximum=1),
        "health_policy": Param("warn", enum=["warn", "fail"]),
        **gate_params(),
        "gate_require_significance": Param(True, type="boolean"),
        "eval_samples_per_prompt": Param(1, type="integer", minimum=1),
        "sandbox": Param(True, type="boolean"),
        "force_retrain": Param(False, type="boolean"),
        # Spend caps: refused at submission over the forecast, enforced while the job trains.
        "max_budget": Param(None, type=["null", "number"], exclusiveMinimum=0),
        "max_training_hours": Param(None, type=["null", "number"], exclusiveMinimum=0),
        "max_grader_invocations": Param(None, type=["null", "integer"], minimum=1),
        "prices": Param({}, type="object"),
        "health_actions": Param({}, type="object", additionalProperties={"enum": ["off", "warn", "stop"]}),
        "allow_grader_change": Param(False, type="boolean"),
        "grader_change_threshold": Param(0.02, type="number", minimum=0, maximum=1),
        "require_approval": Param(False, type="boolean"),
        "notify_topic_arn": Param("", type="string"),
        "completion": Param("poll", enum=["poll", "event"]),
        "forecast_assumptions": Param({}, type="object"),
    },
    render_template_as_native_obj=True,
    user_defined_macros={
        "training_backend": training_backend,
        "evaluation_brief": evaluation_brief,
        "job_events_configured": events_configured,
    },
) as dag:
    prepare_dataset = BedrockRFTDatasetOperator(
        task_id="prepare_dataset",
        source="{{ params.dataset_source }}",
        input_uri="{{ params.dataset_input }}",
        output_uri="s3://{{ params.bucket }}/datasets/{{ params.model_family }}",
        require_reference_answer=True,
    )

    deploy_reward = BedrockRewardFunctionOperator(
        task_id="deploy_reward",
        function_name="{{ params.grader_function_name }}",
        reward="{{ params.reward }}",
        role_arn="{{ params.grader_role_arn }}",
        environment="{{ params.grader_environment }}",
    )

    reward_preflight = BedrockRewardPreflightOperator(
        task_id="reward_preflight",
        function_name="{{ params.grader_function_name }}",
        training_data_uri=result("prepare_dataset", "train_uri"),
        report_uri=f"{RUN_PREFIX}/preflight.json",
        ideal_tolerance="{{ params.preflight_ideal_tolerance }}",
        response_template="{{ params.preflight_response_template }}",
    )

    # Runs only when the reward has an LLM judge (judge_component set); otherwise it logs and succeeds.
    calibrate_judge = BedrockJudgeCalibrationOperator(
        task_id="calibrate_judge",
        function_name="{{ params.grader_function_name }}",
        data_uri=result("prepare_dataset", "validation_uri"),
        judge_component="{{ params.judge_component }}",
        min_agreement="{{ params.judge_min_agreement }}",
        report_uri=f"{RUN_PREFIX}/judge_calibration.json",
    )

    grader_guard = BedrockGraderChangeGuardOperator(
        task_id="grader_guard",
        family="{{ params.model_family }}",
        reward_lambda_arn=result("deploy_reward", "alias_arn"),
        allow_grader_change="{{ params.allow_grader_change }}",
        max_changed_share="{{ params.grader_change_threshold }}",
    )

    baseline_check = BedrockRFTEvaluationOperator(
        task_id="baseline_check",
        dataset_uri=result("prepare_dataset", "validation_uri"),
        model_id="{{ params.base_model_id }}",
        reward="{{ params.evaluation_reward or params.reward }}",
        output_uri=f"{RUN_PREFIX}/baseline_check",
        concurrency="{{ params.eval_concurrency }}",
        sandbox="{{ params.sandbox }}",
    )

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def worth_training(summary: dict[str, Any], params: dict[str, Any]) -> bool:
        """Skip paid training when the base model is already good enough, or cannot learn the task.

        Also reads the quality gate's params now: a bad gate policy must fail before paid training,
        not after it (the gate runs once the tuned model is evaluated)."""
        from bedrock_rft_provider.dag_tasks import retraining

        return retraining.worth_training(summary, params)

    spend_forecast = BedrockRFTSpendForecastOperator(
        task_id="spend_forecast",
        base_model_id="{{ params.base_model_id }}",
        hyperparameters=HYPERPARAMETERS,
        dataset_report_uri=result("prepare_dataset", "report_uri"),
        preflight_report_uri=f"{RUN_PREFIX}/preflight.json",
        grader_function_name="{{ params.grader_function_name }}",
        prices="{{ params.prices or var.json.get('bedrock_rft_prices', {}) }}",
        assumptions="{{ params.forecast_assumptions }}",
        champion_family="{{ params.model_family }}",
        report_uri=f"{RUN_PREFIX}/forecast.json",
        **CAPS,
    )

    train = BedrockRFTJobOperator(
        task_id="train",
        base_model_id="{{ params.base_model_id }}",
        role_arn="{{ params.role_arn }}",
        training_data_uri=TRAIN_URI,
        invocation_logs="{{ params.invocation_logs }}",
        validation_data_uri=result("prepare_dataset", "validation_uri"),
        output_data_uri=f"{RUN_PREFIX}/rft-output/",
        reward_lambda_arn=result("deploy_reward", "alias_arn"),
        hyperparameters=HYPERPARAMETERS,
        force_retrain="{{ params.force_retrain }}",
        spend_guard={
            "max_budget": "{{ params.max_budget }}",
            "max_training_hours": "{{ params.max_training_hours }}",
            "max_grader_invocations": "{{ params.max_grader_invocations }}",
            "prices": "{{ params.prices }}",
            "health": "{{ params.health_actions }}",
        },
        spend_forecast=spend_forecast.output,
        **CAPS,
        # Open-weight jobs publish no completion events, and without the events queue nothing would
        # pick the job up: both wait here (the polling path).
        wait_for_completion="{{ " + WAITS_HERE + " }}",
        tags=TRAIN_TAGS,
        deferrable=True,
        waiter_delay=POLL_SECONDS,
        waiter_max_attempts=24 * 3600 // POLL_SECONDS,  # RFT takes hours: give up after 24 h
        on_failure_callback=notifier("job_failure"),
    )

    @task.short_circuit
    def completes_here(job: dict[str, Any], params: dict[str, Any], ti: Any = None) -> bool:
        """With ``completion=event`` the run ends after submitting: the job's completion event starts
        ``bedrock_rft_post_training`` with this run's family, reward, bucket, test split and gate (left
        next to the job's output, ``jobs.handling``). A job that already ended (a reused one) goes on here."""
        from bedrock_rft_provider.dag_tasks import retraining

        return retraining.completes_here(job, params, ti.xcom_pull(task_ids="prepare_dataset"))

    @task
    def training_health(job: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """Read the job's metrics and check for flat reward, length explosion, overfitting and (open-weight
        metric events) entropy collapse and grad-norm blow-up."""
        from bedrock_rft_provider.dag_tasks import retraining

        return retraining.training_health(job, params)

    @task
    def training_spend(job: dict[str, Any], forecast: dict[str, Any]) -> dict[str, Any]:
        """What training actually used (hours, graded samples, invocations, GB-s, money) vs the forecast."""
        from bedrock_rft_provider.dag_tasks import retraining

        return retraining.training_spend(job, forecast)

    @task.branch
    def deployment_needed(job: dict[str, Any]) -> str:
        """Nova custom models answer only through a deployment; fine-tuned open-weight models answer on
        the OpenAI-compatible endpoint as they are, so their runs skip ``deploy_tuned``."""
        from bedrock_rft_provider.dag_tasks import retraining

        return retraining.deployment_needed(job)

    deploy_tuned = BedrockCustomModelDeploymentOperator(
        task_id="deploy_tuned",
        model_arn=result("train", "custom_model_arn"),
        deferrable=True,
        waiter_delay=POLL_SECONDS,
    )

    @task(trigger_rule="none_failed_min_one_success")
    def tuned_model(ti: Any = None) -> dict[str, str]:
        """What evaluation calls and promotion records: the deployment (Nova) or the fine-tuned model."""
        deployment_arn = ti.xcom_pull(task_ids="deploy_tuned") or ""
        model_id = deployment_arn or ti.xcom_pull(task_ids="train")["fine_tuned_model"]
        return {"model_id": model_id, "deployment_arn": deployment_arn}

    @task
    def current_champion(params: dict[str, Any], ti: Any = None) -> str:
        """The model to beat: the champion's deployment (Nova) or fine-tuned model (open-weight, no
        deployment), or the base model when there is no champion yet. Its SSM version (0 = none) is
        the XCom ``champion_version``: promote refuses if the champion changed since."""
        from bedrock_rft_provider.dag_tasks import retraining

        model_id, version = retraining.current_champion(params)
        ti.xcom_push(key="champion_version", value=version)
        return model_id

    tuned = tuned_model()
    evaluate = BedrockRFTEvaluationOperator(
        task_id="evaluate",
        dataset_uri=result("prepare_dataset", "test_uri"),
        model_id=tuned["model_id"],
        baseline_model_id=current_champion(),
        reward="{{ params.evaluation_reward or params.reward }}",
        output_uri=f"{RUN_PREFIX}/evaluation",
        training_metrics_uri=f"{RUN_PREFIX}/rft-output/",
        concurrency="{{ params.eval_concurrency }}",
        samples_per_prompt="{{ params.eval_samples_per_prompt }}",
        sandbox="{{ params.sandbox }}",
        spend=training_spend(train.output, spend_forecast.output),
    )

    quality_gate = BedrockRFTQualityGateOperator(
        task_id="quality_gate",
        summary=evaluate.output,
        promote_task_ids="approve_promotion",
        reject_task_ids="reject",
        min_improvement="{{ params.min_improvement }}",
        require_ci_excludes_zero="{{ params.gate_require_significance }}",
        min_samples="{{ params.min_eval_samples }}",
        guards="{{ params.gate_guards }}",
        on_success_callback=notifier("gate_decision"),
    )

    approve_promotion = BedrockRFTPromotionApprovalOperator(
        task_id="approve_promotion",
        required="{{ params.require_approval }}",
        subject="Promote the retrained {{ params.model_family }} model?",
        body=(
            "{{ evaluation_brief(ti.xcom_pull(task_ids='evaluate'), "
            "ti.xcom_pull(task_ids='quality_gate', key='gate_decision'), family=params.model_family) }}"
            f"\n\nReport: {REPORT_URI}"
        ),
        response_timeout=APPROVAL_TIMEOUT,
        assigned_users=approvers_from(os.environ.get("BEDROCK_RFT_APPROVERS")),  # unset: any DAG user
    )

    promote = BedrockRFTPromoteOperator(
        task_id="promote",
        family="{{ params.model_family }}",
        custom_model_arn=result("train", "custom_model_arn"),
        deployment_arn=tuned["deployment_arn"],
        job_arn=result("train", "job_arn"),
        dataset_uris={
            "train": TRAIN_URI,  # "" (not recorded) when trained on invocation logs
            "validation": result("prepare_dataset", "validation_uri"),
            "test": result("prepare_dataset", "test_uri"),
        },
        eval_summary_uri=f"{RUN_PREFIX}/evaluation/summary.json",
        summary=evaluate.output,
        grader_lambda_arn=result("deploy_reward", "alias_arn"),
        stable_deployment=True,
        baseline_version=BASELINE_VERSION,
        waiter_delay=POLL_SECONDS,
        on_success_callback=notifier("promotion"),
    )

    @task
    def reject(params: dict[str, Any]) -> None:
        """The challenger lost: the champion stays as it is (the gate logged why)."""
        print(f"Not promoted; the {params['model_family']} champion is unchanged.")

    @task(trigger_rule="all_done")
    def deployment_to_tear_down(params: dict[str, Any], ti: Any = None) -> str:
        """The tuned deployment, unless it is now the champion's (champions stay deployed); "" = none."""
        from bedrock_rft_provider.dag_tasks import retraining

        return retraining.deployment_to_tear_down(
            ti.xcom_pull(task_ids="deploy_tuned"), params["model_family"]
        )

    @task(trigger_rule="none_failed")
    def outcome(ti: Any = None) -> str:
        """The run's verdict. It fails (upstream_failed) when any step failed, so the run does too,
        even though the always-run tear-down succeeded."""
        from bedrock_rft_provider.dag_tasks import retraining

        decision = ti.xcom_pull(task_ids="quality_gate", key="gate_decision")
        return retraining.outcome(decision, ti.xcom_pull(task_ids="promote", key="version"))

    to_tear_down = deployment_to_tear_down()
    tear_down = BedrockCustomModelDeploymentDeleteOperator(
        task_id="tear_down",
        deployment_identifier=to_tear_down,
        trigger_rule="all_done",
    )

    go = worth_training(baseline_check.output)
    prepare_dataset >> [baseline_check, reward_preflight, calibrate_judge]
    deploy_reward >> [reward_preflight, calibrate_judge, grader_guard]
    [reward_preflight, calibrate_judge, grader_guard, go] >> spend_forecast >> train
    health = training_health(train.output)
    completes_here(train.output) >> health
    health >> deployment_needed(train.output) >> [deploy_tuned, tuned]
    deploy_tuned >> tuned
    evaluate >> quality_gate
    decided = [promote, reject()]
    quality_gate >> [approve_promotion, decided[1]]
    approve_promotion >> promote
    decided >> to_tear_down
    decided >> outcome()
