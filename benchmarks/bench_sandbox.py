"""Sandbox request overhead vs plain moto server, and wall time of a full emulated RFT pipeline.

Baseline: moto's own ``ThreadedMotoServer`` answering ``GetModelCustomizationJob`` (its shallow
Bedrock) in the same process and run; calls alternate round by round between baseline and sandbox so a
busy machine slows both alike. (The sandbox serves HTTP/1.1 keep-alive, moto's server HTTP/1.0, as each
ships.) Measured: median latency of ``get_model_customization_job`` and
``converse`` against the sandbox, their ratio to the baseline, and the wall time (time scale 0, the
fastest) of an SDK-level pipeline: synthetic GSM8K-style data -> S3 -> packaged ``math_answer`` grader
-> preflight invoke -> RFT job to Completed -> deployment -> converse on the test split.

    .venv/bin/python benchmarks/bench_sandbox.py [--calls 300]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

import boto3

from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.server import Sandbox

BASE_MODEL = "amazon.nova-2-lite-v1:0:256k"


def interleaved_medians(
    calls: dict[str, Callable[[], Any]], rounds: int, warmup: int = 20
) -> dict[str, float]:
    """Median ms per call, measured in alternating rounds so machine load hits every call alike."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def moto_baseline() -> tuple[Any, Callable[[], Any]]:
    """Plain moto server with one job; returns (server, a get-by-name call): moto finds jobs by name only."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    bedrock = boto3.client("bedrock", endpoint_url=f"http://{host}:{port}", region_name="us-east-1")
    bedrock.create_model_customization_job(
        jobName="moto-baseline",
        customModelName="moto-baseline",
        roleArn="arn:aws:iam::123456789012:role/any",
        baseModelIdentifier=BASE_MODEL,
        trainingDataConfig={"s3Uri": "s3://bucket-a/train.jsonl"},
        outputDataConfig={"s3Uri": "s3://bucket-a/out/"},
        hyperParameters={},
    )
    return server, lambda: bedrock.get_model_customization_job(jobIdentifier="moto-baseline")


def pipeline(sandbox: Sandbox) -> dict[str, Any]:
    """The SDK-level pipeline; returns timings per stage and what the tuned model scored."""
    from bedrock_rft_provider.data.gsm8k import to_rft_record
    from bedrock_rft_provider.data.synthetic import generate
    from bedrock_rft_provider.rewards.packaging import build_reward_package

    timings: dict[str, float] = {}
    started = time.perf_counter()
    iam, s3, lam = sandbox.client("iam"), sandbox.client("s3"), sandbox.client("lambda")
    bedrock, runtime = sandbox.client("bedrock"), sandbox.client("bedrock-runtime")

    records = [to_rft_record(raw, "synthetic") for raw in generate(260, seed=0)]
    train, validation, test = records[:200], records[200:230], records[230:]
    s3.create_bucket(Bucket="bench-rft")
    for name, split in (("train", train), ("validation", validation), ("test", test)):
        s3.put_object(
            Bucket="bench-rft", Key=f"data/{name}.jsonl", Body="\n".join(json.dumps(r) for r in split)
        )
    timings["dataset"] = time.perf_counter() - started

    mark = time.perf_counter()
    role = iam.create_role(RoleName="bench-rft", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    package = build_reward_package("bedrock_rft_provider.rewards.builtin:math_answer")
    lam.create_function(
        FunctionName="bench-math-answer",
        Runtime="python3.11",
        Role=role,
        Handler=package.handler,
        Code={"ZipFile": package.zip_bytes},
        Timeout=60,
    )
    grader = lam.publish_version(FunctionName="bench-math-answer")["FunctionArn"]
    sample = {
        "id": "preflight",
        "messages": [*train[0]["messages"], {"role": "assistant", "content": "#### 0"}],
        "metadata": {"reference_answer": train[0]["reference_answer"]},
    }
    preflight = lam.invoke(FunctionName=grader, Payload=json.dumps([sample]))
    assert "FunctionError" not in preflight, preflight["Payload"].read()
    timings["grader_deploy_and_preflight"] = time.perf_counter() - mark

    mark = time.perf_counter()
    job_arn = bedrock.create_model_customization_job(
        jobName="bench-rft-job",
        customModelName="bench-rft-model",
        roleArn=role,
        baseModelIdentifier=BASE_MODEL,
        customizationType="REINFORCEMENT_FINE_TUNING",
        trainingDataConfig={"s3Uri": "s3://bench-rft/data/train.jsonl"},
        validationDataConfig={"validators": [{"s3Uri": "s3://bench-rft/data/validation.jsonl"}]},
        outputDataConfig={"s3Uri": "s3://bench-rft/output/"},
        customizationConfig={
            "rftConfig": {
                "graderConfig": {"lambdaGrader": {"lambdaArn": grader}},
                "hyperParameters": {
                    "epochCount": 2,
                    "batchSize": 16,
                    "trainingSamplePerPrompt": 4,
                    "evalInterval": 5,
                },
            }
        },
    )["jobArn"]
    deadline = time.monotonic() + 300
    while (job := bedrock.get_model_customization_job(jobIdentifier=job_arn))["status"] == "InProgress":
        assert time.monotonic() < deadline, "job did not finish in 300 s"
        time.sleep(0.02)
    assert job["status"] == "Completed", job.get("failureMessage")
    timings["rft_job"] = time.perf_counter() - mark

    mark = time.perf_counter()
    deployment = bedrock.create_custom_model_deployment(
        modelDeploymentName="bench-rft-deployment", modelArn=job["outputModelArn"]
    )["customModelDeploymentArn"]
    while (
        bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=deployment)["status"] != "Active"
    ):
        time.sleep(0.02)
    samples = []
    for model in ("amazon.nova-2-lite-v1:0", deployment):
        for index, record in enumerate(test):
            answer = runtime.converse(
                modelId=model,
                messages=[{"role": "user", "content": [{"text": record["messages"][-1]["content"]}]}],
                inferenceConfig={"temperature": 0},
            )["output"]["message"]["content"][0]["text"]
            samples.append(
                {
                    "id": f"{model}|{index}",
                    "messages": [*record["messages"], {"role": "assistant", "content": answer}],
                    "metadata": {"reference_answer": record["reference_answer"]},
                }
            )
    scores = json.loads(lam.invoke(FunctionName=grader, Payload=json.dumps(samples))["Payload"].read())
    timings["deploy_and_evaluate"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    half = len(test)
    metrics_key = "output/bench-rft-job/training_artifacts/step_wise_training_metrics.csv"
    metrics = s3.get_object(Bucket="bench-rft", Key=metrics_key)["Body"].read().decode()
    return {
        "timings": timings,
        "steps": len(metrics.splitlines()) - 1,
        "base_accuracy": sum(s["aggregate_reward_score"] for s in scores[:half]) / half,
        "tuned_accuracy": sum(s["aggregate_reward_score"] for s in scores[half:]) / half,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    # Request logging would tax the baseline (moto logs every request to stderr); silence it for both.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server, moto_get = moto_baseline()
    try:
        with Sandbox(config=SandboxConfig.from_env(time_scale=0.0)) as sandbox:
            result = pipeline(sandbox)
            bedrock, runtime = sandbox.client("bedrock"), sandbox.client("bedrock-runtime")
            job_arn = bedrock.get_model_customization_job(jobIdentifier="bench-rft-job")["jobArn"]
            messages = [{"role": "user", "content": [{"text": "How many pages are left?"}]}]
            medians = interleaved_medians(
                {
                    "moto get (name)": moto_get,
                    "sandbox get (name)": lambda: bedrock.get_model_customization_job(
                        jobIdentifier="bench-rft-job"
                    ),
                    "sandbox get (ARN)": lambda: bedrock.get_model_customization_job(jobIdentifier=job_arn),
                    "sandbox converse": lambda: runtime.converse(
                        modelId="amazon.nova-2-lite-v1:0", messages=messages
                    ),
                },
                args.calls,
            )
    finally:
        server.stop()

    baseline = medians["moto get (name)"]
    print(f"{args.calls} interleaved rounds after 20 warm-up calls each; median latency per call")
    print(f"baseline  moto server  get_model_customization_job (by name): {baseline:7.2f} ms")
    for name, label in (
        ("sandbox get (name)", "get_model_customization_job (by name):"),
        ("sandbox get (ARN)", "get_model_customization_job (by ARN): "),
        ("sandbox converse", "converse (base model, simulated):     "),
    ):
        print(
            f"sandbox                {label} {medians[name]:7.2f} ms  ratio {medians[name] / baseline:.2f}x"
        )
    print("end-to-end SDK pipeline at time scale 0 (synthetic 200/30/30 records, math_answer grader):")
    for stage, seconds in result["timings"].items():
        print(f"  {stage:30s} {seconds:6.2f} s")
    print(
        f"  training steps: {result['steps']}; test-split accuracy (SIMULATED model answers): "
        f"base {result['base_accuracy']:.2f} -> tuned {result['tuned_accuracy']:.2f}"
    )


if __name__ == "__main__":
    main()
