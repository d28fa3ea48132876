"""A cap below the forecast refuses submission before any AWS write, on both backends, in the sandbox:
no job, no uploaded training file, nothing under the output prefix. With the cap raised to the forecast,
the same operator submits (so the refusal was the cap's doing). The forecast operator reads the run's
reports and the grader's memory and refuses the same way, writing nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook
from bedrock_rft_provider.jobs.forecast import ForecastInputs, forecast_spend
from bedrock_rft_provider.operators.forecast import BedrockRFTSpendForecastOperator
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from bedrock_rft_provider.sandbox.server import Sandbox
from tests.support.airflow_context import make_context
from unit.sandbox.sandbox_helpers import GRADER_RIGHT_NUMBER, make_world, unique

pytestmark = pytest.mark.integration

N_TRAIN, N_VALIDATION = 120, 30
BACKENDS = {
    "native": ("amazon.nova-2-lite-v1:0:256k", {"epoch_count": 1, "batch_size": 16, "eval_interval": 4}),
    "open-weight": ("openai.gpt-oss-20b", {"n_epochs": 1, "batch_size": 8}),
}


def _forecast(backend: str, hyperparameters: dict[str, Any]) -> dict[str, Any]:
    inputs = ForecastInputs(
        backend=backend,
        train_records=N_TRAIN,
        validation_records=N_VALIDATION,
        hyperparameters=hyperparameters,
    )
    return forecast_spend(inputs).as_dict()


def _operator(world: Any, grader: str, backend: str, **overrides: Any) -> BedrockRFTJobOperator:
    model, hyperparameters = BACKENDS[backend]
    return BedrockRFTJobOperator(
        task_id="train",
        base_model_id=model,
        role_arn=world.role_arn,
        training_data_uri=world.train_uri,
        validation_data_uri=world.validation_uri,
        output_data_uri=world.output_uri,
        reward_lambda_arn=grader,
        hyperparameters=hyperparameters,
        wait_for_completion=False,
        deferrable=False,
        **overrides,
    )


def _written(sandbox: Sandbox, world: Any) -> dict[str, set[str]]:
    """What a submission would add to the account: jobs (newest first), uploaded files, output objects."""
    bedrock, s3 = sandbox.client("bedrock"), sandbox.client("s3")
    client = BedrockOpenWeightHook(aws_conn_id="aws_default").client
    native = bedrock.list_model_customization_jobs(
        sortBy="CreationTime", sortOrder="Descending", maxResults=100
    )
    listed = s3.list_objects_v2(Bucket=world.bucket, Prefix="output/")
    return {
        "native": {job["jobArn"] for job in native["modelCustomizationJobSummaries"]},
        "open-weight": {job.id for job in client.fine_tuning.jobs.list(limit=100)},
        "files": {f.id for f in client.files.list()},
        "output objects": {o["Key"] for o in listed.get("Contents", [])},
    }


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.slow
def test_a_cap_below_the_forecast_refuses_before_any_aws_write(
    bedrock_rft_sandbox_airflow_conn: Sandbox, backend: str
) -> None:
    sandbox = bedrock_rft_sandbox_airflow_conn
    world = make_world(sandbox, n_train=N_TRAIN, n_validation=N_VALIDATION)
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    forecast = _forecast(backend, BACKENDS[backend][1])
    needed = forecast["grader_invocations"]
    before = _written(sandbox, world)

    refused = _operator(world, grader, backend, spend_forecast=forecast, max_grader_invocations=needed - 1)
    with pytest.raises(AirflowFailException) as excinfo:
        refused.execute(make_context(run_id=unique("manual__capped")))
    message = str(excinfo.value)
    assert f"the forecast is {needed:,} grader invocations" in message
    assert f"raise max_grader_invocations to at least {needed:,}" in message
    assert _written(sandbox, world) == before

    allowed = _operator(world, grader, backend, spend_forecast=forecast, max_grader_invocations=needed)
    result = allowed.execute(make_context(run_id=unique("manual__within")))
    new_jobs = _written(sandbox, world)[backend] - before[backend]
    assert new_jobs == {result["job_arn"] if backend == "native" else result["job_id"]}


def test_caps_without_a_forecast_are_refused_by_name(bedrock_rft_sandbox_airflow_conn: Sandbox) -> None:
    world = make_world(bedrock_rft_sandbox_airflow_conn, n_train=N_TRAIN, n_validation=N_VALIDATION)
    operator = _operator(world, "arn:aws:lambda:us-east-1:123456789012:function:g", "native", max_budget="10")
    with pytest.raises(ValueError, match=r"^spend_forecast: is required"):
        operator.execute(make_context())


def test_the_forecast_operator_reads_the_run_and_refuses_over_a_cap_writing_nothing(
    bedrock_rft_sandbox_airflow_conn: Sandbox,
) -> None:
    sandbox = bedrock_rft_sandbox_airflow_conn
    world = make_world(sandbox, n_train=N_TRAIN, n_validation=N_VALIDATION)
    grader = world.deploy_grader(GRADER_RIGHT_NUMBER)
    function = grader.split(":")[6]
    memory_mb = sandbox.client("lambda").get_function_configuration(FunctionName=function)["MemorySize"]
    s3 = sandbox.client("s3")
    report = {
        "counts": {"train": N_TRAIN, "validation": N_VALIDATION, "test": 40},
        "prompt_length": {"estimated_tokens": {"mean": 30.0}},
    }
    preflight = {"run": {"n": 32, "latency_ms_per_batch": {"batches": 2, "mean": 80.0}}}
    s3.put_object(Bucket=world.bucket, Key="data/report.json", Body=json.dumps(report))
    s3.put_object(Bucket=world.bucket, Key="data/preflight.json", Body=json.dumps(preflight))

    def operator(**caps: Any) -> BedrockRFTSpendForecastOperator:
        return BedrockRFTSpendForecastOperator(
            task_id="forecast",
            base_model_id="amazon.nova-2-lite-v1:0:256k",
            hyperparameters=BACKENDS["native"][1],
            dataset_report_uri=f"s3://{world.bucket}/data/report.json",
            preflight_report_uri=f"s3://{world.bucket}/data/preflight.json",
            grader_function_name=function,
            prices={"grader_gb_second": 0.5, "output_million_tokens": 100, "source": "test"},
            report_uri=f"s3://{world.bucket}/output/forecast.json",
            **caps,
        )

    result = operator().execute(make_context())
    # 120 / 16 -> 8 steps x 16 x 4 = 512 training samples; ceil(8 / 4) = 2 passes x 30 = 60 validation.
    assert result["graded_samples"] == 572
    seconds_per_sample = 80.0 * 2 / 32 / 1000
    assert result["lambda_gb_seconds"] == pytest.approx(572 * seconds_per_sample * memory_mb / 1024)
    assert result["eval_input_tokens"] == 40 * 2 * 30
    assert result["grader_memory_mb"] == memory_mb
    written = json.loads(s3.get_object(Bucket=world.bucket, Key="output/forecast.json")["Body"].read())
    assert written["graded_samples"] == 572
    s3.delete_object(Bucket=world.bucket, Key="output/forecast.json")

    with pytest.raises(AirflowFailException, match=r"max_budget = 1\.00 USD: the forecast is"):
        operator(max_budget=1).execute(make_context())
    assert s3.list_objects_v2(Bucket=world.bucket, Prefix="output/").get("KeyCount", 0) == 0
