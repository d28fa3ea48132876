"""Baseline for ``bench_dags``: the retraining DAG written with the amazon provider's operators only.

The closest equivalent of ``dags/bedrock_rft_retraining.py`` a user could write today without this
provider: ``airflow.providers.amazon.aws.operators.bedrock`` / ``lambda_function`` where an operator
exists, ``@task`` functions (calling the amazon hooks) where none does. Same 24 task ids, same params,
schedule and dependency edges (``bench_dags`` checks the edges), so the parse-time comparison is fair.

Where the amazon operators cannot express the same thing, the baseline does *less*, never more, so any
difference in parse time is not flattered in our favour:

- ``BedrockCustomizeModelOperator`` does not template ``training_data_uri`` / ``output_data_uri``,
  so they are fixed URIs here (the example DAG passes them per run).
- The evaluation job compares challenger and champion with Bedrock's built-in metrics, not the reward.
- Bedrock has no operator to delete a deployment, so ``tear_down`` is a ``@task``.
- Those amazon operators wait in-task or defer themselves, so no separate ``sensors.bedrock`` task.
- The approval is the standard provider's ``ApprovalOperator`` (what a user would reach for too).

The params the example DAGs share (bucket, family, reward, the gate's) come from
``bedrock_rft_provider.example_dag_params``, the example DAG's own source, so their defaults cannot
drift apart; that small module (plain ``Param`` objects) is the only thing imported from this provider.
"""

from __future__ import annotations

import json
from typing import Any

import pendulum
from airflow.providers.amazon.aws.operators.bedrock import (
    BedrockBatchInferenceOperator,
    BedrockCreateEvaluationJobOperator,
    BedrockCreateProvisionedModelThroughputOperator,
    BedrockCustomizeModelOperator,
)
from airflow.providers.amazon.aws.operators.lambda_function import (
    LambdaCreateFunctionOperator,
    LambdaInvokeFunctionOperator,
)
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import DAG, Asset, Param, task

try:
    from airflow.sdk import AssetOrTimeSchedule
except ImportError:  # Airflow < 3.2
    from airflow.timetables.assets import AssetOrTimeSchedule  # type: ignore[no-redef]
from airflow.timetables.trigger import CronTriggerTimetable

# The params only (the same defaults as the example DAG's); nothing else of this provider is used.
from bedrock_rft_provider.example_dag_params import DEMO_BUCKET, DEMO_FAMILY, DEMO_REWARD, gate_params

RAW_TRAINING_DATA = Asset(name="bedrock-rft-raw-training-data", uri="s3://bedrock-rft-demo/raw/gsm8k/")
BUCKET = DEMO_BUCKET  # the customize operator's data URIs are not templated


def result(task_id: str, key: str) -> str:
    """A template for one field of a task's returned dict (rendered at run time)."""
    return f"{{{{ ti.xcom_pull(task_ids='{task_id}')['{key}'] }}}}"


RUN_ID = "{{ dag_run.run_id | replace(':', '-') | replace('+', '-') }}"
RUN_PREFIX = "s3://{{ params.bucket }}/retraining/" + RUN_ID
ROLE_ARN = "{{ params.role_arn }}"

with DAG(
    dag_id="amazon_bedrock_retraining",
    description="Retrain a Bedrock model with RFT using only the amazon provider's operators",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 3 * * 1", timezone="UTC"), assets=RAW_TRAINING_DATA
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["bedrock", "rft", "baseline"],
    params={
        "bucket": Param(BUCKET, type="string"),
        "role_arn": Param("arn:aws:iam::123456789012:role/bedrock-rft-service", type="string"),
        "grader_role_arn": Param("arn:aws:iam::123456789012:role/bedrock-rft-grader", type="string"),
        "base_model_id": Param("amazon.nova-2-lite-v1:0:256k", type="string"),
        "model_family": Param(DEMO_FAMILY, type="string"),
        "dataset_source": Param("synthetic", type="string"),
        "dataset_input": Param("600", type="string"),
        "reward": Param(DEMO_REWARD, type="string"),
        "grader_function_name": Param("bedrock-rft-gsm8k-grader", type="string"),
        "hyperparameters": Param(
            {
                "epochCount": 2,
                "batchSize": 16,
                "learningRate": 1e-5,
                "trainingSamplePerPrompt": 4,
                "evalInterval": 5,
                "inferenceMaxTokens": 1024,
                "maxPromptLength": 1024,
            },
            type="object",
        ),
        "baseline_skip_above": Param(0.95, type="number", minimum=0, maximum=1),
        "baseline_skip_below": Param(0.02, type="number", minimum=0, maximum=1),
        "health_policy": Param("warn", enum=["warn", "fail"]),
        **gate_params(),  # the example DAG's own: min_improvement, min_eval_samples, gate_guards, ...
        "sandbox": Param(True, type="boolean"),
        "force_retrain": Param(False, type="boolean"),
        "max_budget": Param(None, type=["null", "number"], exclusiveMinimum=0),
        "max_training_hours": Param(None, type=["null", "number"], exclusiveMinimum=0),
        "max_grader_invocations": Param(None, type=["null", "integer"], minimum=1),
        "prices": Param({}, type="object"),
        "health_actions": Param({}, type="object"),
        "allow_grader_change": Param(False, type="boolean"),
        "grader_change_threshold": Param(0.02, type="number", minimum=0, maximum=1),
        "require_approval": Param(False, type="boolean"),
        "notify_topic_arn": Param("", type="string"),
        "completion": Param("poll", enum=["poll", "event"]),
        "forecast_assumptions": Param({}, type="object"),
        "judge_component": Param("", type="string"),
        "judge_min_agreement": Param(0.8, type="number", minimum=0, maximum=1),
        "grader_environment": Param({}, type="object"),
        "preflight_ideal_tolerance": Param(0.0, type="number", minimum=0, maximum=1),
        "evaluation_reward": Param("", type="string"),
        "open_weight_hyperparameters": Param(
            {"n_epochs": 2, "batch_size": 16, "learning_rate_multiplier": 1.0}, type="object"
        ),
    },
    render_template_as_native_obj=True,
) as dag:

    @task(multiple_outputs=True)
    def prepare_dataset(params: dict[str, Any]) -> dict[str, str]:
        """Convert and split the raw data; write it in RFT and batch-inference formats."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        s3 = S3Hook()
        prefix = f"datasets/{params['model_family']}"
        raw = s3.read_key(key=f"raw/{params['model_family']}/data.jsonl", bucket_name=params["bucket"])
        rows = [json.loads(line) for line in raw.splitlines() if line.strip()]
        cut_val, cut_test = int(len(rows) * 0.8), int(len(rows) * 0.9)
        splits = {"train": rows[:cut_val], "validation": rows[cut_val:cut_test], "test": rows[cut_test:]}
        out: dict[str, str] = {}
        for name, split in splits.items():
            body = "\n".join(json.dumps(row) for row in split)
            s3.load_string(body, key=f"{prefix}/{name}.jsonl", bucket_name=params["bucket"], replace=True)
            out[f"{name}_uri"] = f"s3://{params['bucket']}/{prefix}/{name}.jsonl"
        out["preflight_payload"] = json.dumps(splits["train"][:8])
        return out

    dataset = prepare_dataset()

    deploy_reward = LambdaCreateFunctionOperator(
        task_id="deploy_reward",
        function_name="{{ params.grader_function_name }}",
        runtime="python3.12",
        role="{{ params.grader_role_arn }}",
        handler="grader.lambda_handler",
        code={"S3Bucket": "{{ params.bucket }}", "S3Key": "graders/{{ params.grader_function_name }}.zip"},
        timeout=900,
        wait_for_completion=True,
    )

    reward_preflight = LambdaInvokeFunctionOperator(
        task_id="reward_preflight",
        function_name="{{ params.grader_function_name }}",
        payload=result("prepare_dataset", "preflight_payload"),
    )

    baseline_check = BedrockBatchInferenceOperator(
        task_id="baseline_check",
        job_name="baseline-" + RUN_ID,
        role_arn=ROLE_ARN,
        model_id="{{ params.base_model_id }}",
        input_uri=result("prepare_dataset", "validation_uri"),
        output_uri=f"{RUN_PREFIX}/baseline_check/",
        deferrable=True,
        waiter_delay=2,
    )

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def worth_training(job_arn: str, params: dict[str, Any]) -> bool:
        """Score the base model's batch output; skip training when it is too good or hopeless."""
        from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook

        job = BedrockHook().conn.get_model_invocation_job(jobIdentifier=job_arn)
        print(job["outputDataConfig"])
        score = 0.5  # a user would score the batch output with their reward here
        return params["baseline_skip_below"] < score < params["baseline_skip_above"]

    train = BedrockCustomizeModelOperator(
        task_id="train",
        job_name="rft-" + RUN_ID,
        custom_model_name="{{ params.model_family }}-rft-{{ ds_nodash }}",
        role_arn=ROLE_ARN,
        base_model_id="{{ params.base_model_id }}",
        training_data_uri=f"s3://{BUCKET}/datasets/gsm8k/train.jsonl",
        output_data_uri=f"s3://{BUCKET}/retraining/rft-output/",
        hyperparameters={},
        customization_job_kwargs={
            "customizationType": "REINFORCEMENT_FINE_TUNING",
            "validationDataConfig": {"validators": [{"s3Uri": result("prepare_dataset", "validation_uri")}]},
            "customizationConfig": {
                "rftConfig": {
                    "graderConfig": {
                        "lambdaGrader": {"lambdaArn": "{{ ti.xcom_pull(task_ids='deploy_reward') }}"}
                    },
                    "hyperParameters": "{{ params.hyperparameters }}",
                }
            },
        },
        ensure_unique_job_name=False,
        deferrable=True,
        waiter_delay=2,
    )

    @task(multiple_outputs=True)
    def training_health(job_arn: str, params: dict[str, Any]) -> dict[str, Any]:
        """Check the job's metrics for a flat reward; return the tuned model's ARN."""
        from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook

        job = BedrockHook().conn.get_model_customization_job(jobIdentifier=job_arn)
        if job["status"] != "Completed" and params["health_policy"] == "fail":
            raise RuntimeError(f"training job {job_arn} is {job['status']}")
        return {"custom_model_arn": job["outputModelArn"], "status": job["status"]}

    deploy_tuned = BedrockCreateProvisionedModelThroughputOperator(
        task_id="deploy_tuned",
        model_units=1,
        provisioned_model_name="{{ params.model_family }}-" + RUN_ID,
        model_id=result("training_health", "custom_model_arn"),
        deferrable=True,
        waiter_delay=2,
    )

    @task
    def current_champion(params: dict[str, Any]) -> str:
        """The champion's deployment from SSM, or the base model when there is none yet."""
        from airflow.providers.amazon.aws.hooks.ssm import SsmHook

        name = f"/bedrock-rft/champion/{params['model_family']}"
        record = json.loads(SsmHook().get_parameter_value(name, default="{}"))
        return str(record.get("deployment_arn") or params["base_model_id"])

    evaluate = BedrockCreateEvaluationJobOperator(
        task_id="evaluate",
        job_name="eval-" + RUN_ID,
        role_arn=ROLE_ARN,
        evaluation_config={
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {
                            "name": "test",
                            "datasetLocation": {"s3Uri": result("prepare_dataset", "test_uri")},
                        },
                        "metricNames": ["Builtin.Accuracy"],
                    }
                ]
            }
        },
        inference_config={
            "models": [
                {"bedrockModel": {"modelIdentifier": "{{ ti.xcom_pull(task_ids='tuned_model') }}"}},
                {"bedrockModel": {"modelIdentifier": current_champion()}},
            ]
        },
        output_data_config={"s3Uri": f"{RUN_PREFIX}/evaluation/"},
    )

    @task.branch
    def quality_gate(evaluation_job_arn: str, params: dict[str, Any]) -> str:
        """Promote when the challenger beats the champion by ``min_improvement``."""
        from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook

        job = BedrockHook().conn.get_evaluation_job(jobIdentifier=evaluation_job_arn)
        print(job["status"], job["outputDataConfig"])
        delta = 0.0  # a user would read both models' scores from the job output here
        return "approve_promotion" if delta >= params["min_improvement"] else "reject"

    @task
    def promote(
        job_arn: str, deployment_arn: str, evaluation_job_arn: str, datasets: dict[str, str], params: Any
    ) -> None:
        """Write the new champion record to SSM."""
        from airflow.providers.amazon.aws.hooks.ssm import SsmHook

        record = {"job_arn": job_arn, "deployment_arn": deployment_arn, "evaluation": evaluation_job_arn}
        SsmHook().conn.put_parameter(
            Name=f"/bedrock-rft/champion/{params['model_family']}",
            Value=json.dumps({**record, "datasets": datasets}),
            Type="String",
            Overwrite=True,
        )

    @task
    def reject(params: dict[str, Any]) -> None:
        """The challenger lost: the champion stays as it is."""
        print(f"Not promoted; the {params['model_family']} champion is unchanged.")

    @task(trigger_rule="none_failed")
    def outcome(ti: Any = None) -> str:
        """Fails when any step failed, so the run does too despite the always-run tear-down."""
        decision = ti.xcom_pull(task_ids="promote_or_reject")
        return f"outcome: {decision}"

    @task(trigger_rule="all_done")
    def deployment_to_tear_down(params: dict[str, Any], ti: Any = None) -> str | None:
        """The tuned deployment, unless it now serves the champion."""
        from airflow.providers.amazon.aws.hooks.ssm import SsmHook

        deployment_arn = ti.xcom_pull(task_ids="deploy_tuned")
        name = f"/bedrock-rft/champion/{params['model_family']}"
        record = json.loads(SsmHook().get_parameter_value(name, default="{}"))
        return (
            None if not deployment_arn or record.get("deployment_arn") == deployment_arn else deployment_arn
        )

    @task(trigger_rule="all_done")
    def tear_down(deployment_arn: str | None) -> None:
        """Delete the provisioned throughput (the amazon provider has no operator for it)."""
        from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook

        if deployment_arn:
            BedrockHook().conn.delete_provisioned_model_throughput(provisionedModelId=deployment_arn)

    calibrate_judge = LambdaInvokeFunctionOperator(
        task_id="calibrate_judge",
        function_name="{{ params.grader_function_name }}",
        payload=result("prepare_dataset", "preflight_payload"),
    )

    @task
    def grader_guard(params: dict[str, Any]) -> str:
        """The deployed grader's code hash, to compare with the champion's."""
        from airflow.providers.amazon.aws.hooks.lambda_function import LambdaHook

        config = LambdaHook().conn.get_function(FunctionName=params["grader_function_name"])
        return str(config["Configuration"]["CodeSha256"])

    @task
    def spend_forecast(params: dict[str, Any]) -> dict[str, Any]:
        """Graded samples the job will pay for (epochs x records x samples per prompt)."""
        hyper = params["hyperparameters"]
        samples = hyper["epochCount"] * 600 * hyper["trainingSamplePerPrompt"]
        return {"graded_samples": samples, "caps": params["max_grader_invocations"]}

    @task.short_circuit
    def completes_here(job_arn: str, params: dict[str, Any]) -> bool:
        """With completion=event the run ends after submitting."""
        return bool(params["completion"] != "event")

    @task.branch
    def deployment_needed(job_arn: str) -> str:
        """Native models need a deployment; open-weight ones answer without one."""
        return "deploy_tuned" if ":model-customization-job/" in job_arn else "tuned_model"

    @task(trigger_rule="none_failed_min_one_success")
    def tuned_model(ti: Any = None) -> str:
        """The model under test: the deployment, or the open-weight model id."""
        return str(ti.xcom_pull(task_ids="deploy_tuned") or ti.xcom_pull(task_ids="train"))

    @task
    def training_spend(job_arn: str, forecast: dict[str, Any]) -> dict[str, Any]:
        """The job's actual training time next to the forecast."""
        from airflow.providers.amazon.aws.hooks.bedrock import BedrockHook

        job = BedrockHook().conn.get_model_customization_job(jobIdentifier=job_arn)
        return {"forecast": forecast, "ended": str(job.get("endTime"))}

    approve_promotion = ApprovalOperator(
        task_id="approve_promotion",
        subject="Promote the challenger?",
        body="{{ ti.xcom_pull(task_ids='evaluate') }}",
    )

    go = worth_training(baseline_check.output)
    gate = quality_gate(evaluate.output)
    promoted = promote(
        "{{ ti.xcom_pull(task_ids='train') }}",
        "{{ ti.xcom_pull(task_ids='tuned_model') }}",
        evaluate.output,
        {
            "train": result("prepare_dataset", "train_uri"),
            "validation": result("prepare_dataset", "validation_uri"),
            "test": result("prepare_dataset", "test_uri"),
        },
    )
    to_tear_down = deployment_to_tear_down()
    tear_down(to_tear_down)

    # The example DAG's edges, written the same way.
    dataset >> [baseline_check, reward_preflight, calibrate_judge]
    guard = grader_guard()
    deploy_reward >> [reward_preflight, calibrate_judge, guard]
    forecast = spend_forecast()
    [reward_preflight, calibrate_judge, guard, go] >> forecast >> train
    health = training_health(train.output)
    completes_here(train.output) >> health
    tuned = tuned_model()
    health >> deployment_needed(train.output) >> [deploy_tuned, tuned]
    deploy_tuned >> tuned
    [tuned, training_spend(train.output, forecast)] >> evaluate >> gate
    decided = [promoted, reject()]
    gate >> [approve_promotion, decided[1]]
    approve_promotion >> promoted
    tuned >> promoted
    decided >> to_tear_down
    decided >> outcome()
