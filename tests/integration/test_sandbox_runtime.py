"""Bedrock Runtime, deployments, Lambda Invoke and the knobs of the sandbox, through real SDK clients."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.server import Sandbox
from unit.sandbox.sandbox_helpers import (
    GRADER_CRASHING,
    GRADER_RIGHT_NUMBER,
    World,
    make_world,
    numeric_records,
    wait_for_job,
    zip_module,
)

pytestmark = pytest.mark.integration

BASE = "amazon.nova-2-lite-v1:0"
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def world(bedrock_rft_sandbox: Sandbox) -> World:
    return make_world(bedrock_rft_sandbox)


@pytest.fixture(scope="module")
def tuned(world: World) -> dict[str, str]:
    """A completed job, its custom model, and an Active deployment of it."""
    bedrock = world.sandbox.client("bedrock")
    request = world.job_request(world.deploy_grader(GRADER_RIGHT_NUMBER), epochCount=3)
    job = wait_for_job(bedrock, bedrock.create_model_customization_job(**request)["jobArn"])
    assert job["status"] == "Completed", job.get("failureMessage")
    deployment = bedrock.create_custom_model_deployment(
        modelDeploymentName=request["customModelName"] + "-dep", modelArn=job["outputModelArn"]
    )
    return {"model": job["outputModelArn"], "deployment": deployment["customModelDeploymentArn"]}


@pytest.fixture(scope="module")
def runtime(bedrock_rft_sandbox: Sandbox) -> Any:
    return bedrock_rft_sandbox.client("bedrock-runtime", config=NO_RETRY)


def _ask(runtime: Any, model_id: str, question: str, temperature: float = 0.0) -> str:
    answer = runtime.converse(
        modelId=model_id,
        messages=[{"role": "user", "content": [{"text": question}]}],
        inferenceConfig={"temperature": temperature, "maxTokens": 512},
    )
    return str(answer["output"]["message"]["content"][0]["text"])


def _final_number(text: str) -> str | None:
    found = re.search(r"(?:####|answer is|\\boxed\{)\s*(-?\d+)|^(-?\d+)$", text, re.M)
    return (found.group(1) or found.group(2)) if found else None


def _accuracy(runtime: Any, model_id: str) -> float:
    records = numeric_records(30, 1000)  # the validation split the sandbox holds in S3
    right = sum(
        _final_number(_ask(runtime, model_id, r["messages"][-1]["content"]))
        == r["reference_answer"].split()[-1]
        for r in records
    )
    return right / len(records)


def test_converse_has_the_real_response_shape(runtime: Any) -> None:
    answer = runtime.converse(
        modelId=BASE, messages=[{"role": "user", "content": [{"text": "What is 2 + 2?"}]}]
    )

    assert answer["output"]["message"]["role"] == "assistant"
    assert answer["stopReason"] == "end_turn"
    usage = answer["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] > 0
    assert answer["metrics"]["latencyMs"] >= 1
    assert "simulated" in answer["additionalModelResponseFields"]["sandbox"]


def test_temperature_zero_answers_are_deterministic(runtime: Any, world: World) -> None:
    question = numeric_records(1, 1003)[0]["messages"][-1]["content"]

    assert len({_ask(runtime, BASE, question) for _ in range(3)}) == 1


def test_the_tuned_deployment_answers_from_the_trained_policy(runtime: Any, tuned: dict[str, str]) -> None:
    base, trained = _accuracy(runtime, BASE), _accuracy(runtime, tuned["deployment"])

    assert trained > base
    assert trained >= 0.8


def test_invoke_model_answers_the_messages_api_shapes(
    bedrock_rft_sandbox: Sandbox, tuned: dict[str, str]
) -> None:
    runtime = bedrock_rft_sandbox.client("bedrock-runtime")
    nova = {
        "messages": [{"role": "user", "content": [{"text": "How many?"}]}],
        "inferenceConfig": {"temperature": 0},
    }
    anthropic = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": "How many?"}],
    }

    nova_out = json.loads(
        runtime.invoke_model(modelId=tuned["deployment"], body=json.dumps(nova))["body"].read()
    )
    claude_out = json.loads(runtime.invoke_model(modelId=BASE, body=json.dumps(anthropic))["body"].read())
    assert nova_out["output"]["message"]["content"][0]["text"]
    assert nova_out["usage"]["totalTokens"] > 0
    assert claude_out["content"][0]["type"] == "text"
    assert claude_out["stop_reason"] == "end_turn"


@pytest.mark.parametrize(
    ("model_id", "code", "expected"),
    [
        ("amazon.titan-text-lite-v1", "ValidationException", "model identifier is invalid"),
        (
            "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdefabcdef",
            "ResourceNotFoundException",
            "deployment",
        ),
    ],
)
def test_unknown_models_get_bedrock_errors(runtime: Any, model_id: str, code: str, expected: str) -> None:
    with pytest.raises(ClientError) as caught:
        _ask(runtime, model_id, "hi")
    assert caught.value.response["Error"]["Code"] == code
    assert expected in caught.value.response["Error"]["Message"]


def test_a_custom_model_arn_needs_a_deployment(runtime: Any, tuned: dict[str, str]) -> None:
    # A Nova 2 custom model ARN (".../amazon.nova-2-lite-v1:0:256k/<id>") does not even match Converse's
    # modelId pattern in the botocore model; one that does is refused for lack of a deployment.
    with pytest.raises(ClientError) as caught:
        _ask(runtime, tuned["model"], "hi")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "at 'modelId' failed to satisfy constraint" in caught.value.response["Error"]["Message"]
    patterned = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite/abcdefabcdef"
    with pytest.raises(ClientError) as caught:
        _ask(runtime, patterned, "hi")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "on-demand throughput isn't supported" in caught.value.response["Error"]["Message"]


def test_deployments_are_listed_fetched_and_deleted(
    bedrock_rft_sandbox: Sandbox, runtime: Any, tuned: dict[str, str]
) -> None:
    bedrock = bedrock_rft_sandbox.client("bedrock")
    created = bedrock.create_custom_model_deployment(
        modelDeploymentName="short-lived", modelArn=tuned["model"]
    )
    arn = created["customModelDeploymentArn"]

    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (
        bedrock.get_custom_model_deployment(customModelDeploymentIdentifier="short-lived")["status"]
        == "Active"
    )
    listed = bedrock.list_custom_model_deployments(modelArnEquals=tuned["model"])["modelDeploymentSummaries"]
    assert arn in {d["customModelDeploymentArn"] for d in listed}
    bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=arn)
    with pytest.raises(ClientError) as caught:
        _ask(runtime, arn, "hi")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_lambda_invoke_runs_the_zip_and_reports_function_errors(
    bedrock_rft_sandbox: Sandbox, world: World, tmp_path: Any
) -> None:
    lam = bedrock_rft_sandbox.client("lambda")
    ok = world.deploy_grader(GRADER_RIGHT_NUMBER)
    broken = world.deploy_grader(GRADER_CRASHING, {"COUNT_FILE": str(tmp_path / "n")})
    sample = numeric_records(1)[0]
    event = [
        {
            "id": "s1",
            "messages": [*sample["messages"], {"role": "assistant", "content": "#### 7"}],
            "metadata": {"reference_answer": "7"},
        }
    ]

    good = lam.invoke(FunctionName=ok, Payload=json.dumps(event), LogType="Tail")
    bad = lam.invoke(FunctionName=broken, Payload=json.dumps(event))
    assert "FunctionError" not in good
    assert json.loads(good["Payload"].read())[0]["aggregate_reward_score"] == 1.0
    assert good["ExecutedVersion"] == "1"
    assert "START RequestId" in base64.b64decode(good["LogResult"]).decode()
    assert bad["FunctionError"] == "Unhandled"
    error = json.loads(bad["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "reference_answer missing from metadata"


def test_lambda_invoke_honours_the_function_timeout(bedrock_rft_sandbox: Sandbox, world: World) -> None:
    lam = bedrock_rft_sandbox.client("lambda")
    lam.create_function(
        FunctionName="sleepy-grader",
        Runtime="python3.11",
        Role=world.role_arn,
        Handler="slow.handler",
        Code={"ZipFile": zip_module("import time\ndef handler(e, c):\n    time.sleep(30)\n", module="slow")},
        Timeout=1,
    )

    answer = lam.invoke(FunctionName="sleepy-grader", Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in json.loads(answer["Payload"].read())["errorMessage"]


def test_aiobotocore_clients_work_against_the_sandbox(
    bedrock_rft_sandbox: Sandbox, tuned: dict[str, str]
) -> None:
    from aiobotocore.session import get_session

    async def fetch() -> dict[str, Any]:
        session = get_session()
        async with session.create_client(
            "bedrock",
            region_name="us-east-1",
            endpoint_url=bedrock_rft_sandbox.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ) as client:
            jobs = await client.list_model_customization_jobs(statusEquals="Completed")
            arn = jobs["modelCustomizationJobSummaries"][0]["jobArn"]
            return dict(await client.get_model_customization_job(jobIdentifier=arn))

    job = asyncio.run(fetch())
    assert job["status"] == "Completed"
    assert job["customizationType"] == "REINFORCEMENT_FINE_TUNING"


@pytest.fixture(scope="module")
def knobbed() -> Iterator[Sandbox]:
    config = SandboxConfig(
        time_scale=0.005, throttle_rate={"Converse": 1.0}, latency_ms={"ListCustomModels": 300}
    )
    with Sandbox(config=config) as sandbox:
        yield sandbox


def test_throttling_knob_answers_throttling_exception_for_that_api_only(knobbed: Sandbox) -> None:
    runtime = knobbed.client("bedrock-runtime", config=NO_RETRY)
    with pytest.raises(ClientError) as caught:
        _ask(runtime, BASE, "hi")
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    body = json.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {}})
    assert (
        knobbed.client("bedrock-runtime", config=NO_RETRY)
        .invoke_model(modelId=BASE, body=body)["body"]
        .read()
    )


def test_latency_knob_delays_that_api(knobbed: Sandbox) -> None:
    bedrock = knobbed.client("bedrock")
    started = time.monotonic()
    bedrock.list_custom_models()
    assert time.monotonic() - started >= 0.3


def test_a_deployment_is_creating_before_it_is_active() -> None:
    # time scale 0.02: the job takes about 3 s, the deployment stays Creating for 6 s.
    with Sandbox(config=SandboxConfig(time_scale=0.02)) as slow:
        _check_creating_deployment(slow)


def _check_creating_deployment(knobbed: Sandbox) -> None:
    world = make_world(knobbed)
    bedrock = knobbed.client("bedrock")
    request = world.job_request(world.deploy_grader(GRADER_RIGHT_NUMBER), epochCount=1)
    request["customizationConfig"]["rftConfig"]["hyperParameters"]["batchSize"] = 128
    job = wait_for_job(bedrock, bedrock.create_model_customization_job(**request)["jobArn"], timeout=120)
    arn = bedrock.create_custom_model_deployment(
        modelDeploymentName="slow-dep", modelArn=job["outputModelArn"]
    )["customModelDeploymentArn"]

    assert bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)["status"] == "Creating"
    body = json.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {}})
    with pytest.raises(ClientError) as caught:
        knobbed.client("bedrock-runtime", config=NO_RETRY).invoke_model(modelId=arn, body=body)
    assert "not ready" in caught.value.response["Error"]["Message"]


def test_lambda_invoke_runs_the_new_code_after_an_update(bedrock_rft_sandbox: Sandbox, world: World) -> None:
    lam = bedrock_rft_sandbox.client("lambda")
    lam.create_function(
        FunctionName="changing-grader",
        Runtime="python3.11",
        Role=world.role_arn,
        Handler="bedrock_rft_entry.handler",
        Code={"ZipFile": zip_module("def handler(e, c):\n    return 'v1'\n")},
    )
    assert json.loads(lam.invoke(FunctionName="changing-grader")["Payload"].read()) == "v1"

    lam.update_function_code(
        FunctionName="changing-grader", ZipFile=zip_module("def handler(e, c):\n    return 'v2'\n")
    )
    assert json.loads(lam.invoke(FunctionName="changing-grader")["Payload"].read()) == "v2"


def test_max_tokens_cuts_the_answer_and_says_so(runtime: Any) -> None:
    answer = runtime.converse(
        modelId=BASE,
        messages=[{"role": "user", "content": [{"text": "Explain in detail."}]}],
        inferenceConfig={"temperature": 0, "maxTokens": 2},
    )
    assert answer["stopReason"] == "max_tokens"
    assert answer["usage"]["outputTokens"] <= 2


def test_lambda_layers_are_importable_like_under_opt_python(
    bedrock_rft_sandbox: Sandbox, world: World
) -> None:
    lam = bedrock_rft_sandbox.client("lambda")
    layer = lam.publish_layer_version(
        LayerName="scoring-helpers",
        Content={"ZipFile": zip_module("def bonus():\n    return 0.5\n", module="python/scoring_helpers")},
    )["LayerVersionArn"]
    lam.create_function(
        FunctionName="layered-grader",
        Runtime="python3.11",
        Role=world.role_arn,
        Handler="bedrock_rft_entry.handler",
        Code={
            "ZipFile": zip_module(
                "from scoring_helpers import bonus\ndef handler(e, c):\n    return bonus()\n"
            )
        },
        Layers=[layer],
    )

    assert json.loads(lam.invoke(FunctionName="layered-grader")["Payload"].read()) == 0.5
