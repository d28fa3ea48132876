"""The tools task family on the one retraining DAG, under ``dag.test()`` on the sandbox: generated
tool-calling records, the tool_call_match grader deployed and preflighted, simulated training that
learns to call right, an evaluation with tools offered and a per-argument report, promotion."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from bedrock_rft_provider import demo
from bedrock_rft_provider.task_families import recipe
from support.example_dags import read_champion, run_example_dag

# A safety net (>= 10x the math family's 15-47 s runs on 2 busy cores), not a speed limit.
SLOW_TIMEOUT_S = 900


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_the_tools_family_trains_evaluates_per_argument_and_promotes(dagbag: Any, sandbox_env: Any) -> None:
    conf = {
        **demo.retraining_conf(recipe("tools")),
        "model_family": "e2e-tools",
        "dataset_input": "400",
        "min_eval_samples": 20,
    }
    run = run_example_dag(dagbag, "bedrock_rft_retraining", datetime(2026, 11, 25, tzinfo=timezone.utc), conf)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["reward_preflight"] == "success" and states["promote"] == "success"
    assert read_champion(sandbox_env, "e2e-tools") is not None
    s3 = sandbox_env.client("s3")
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=demo.BUCKET, Prefix="retraining/")
        for o in page.get("Contents", [])
    ]
    summaries = [
        json.loads(s3.get_object(Bucket=demo.BUCKET, Key=k)["Body"].read())
        for k in keys
        if k.endswith("/evaluation/summary.json")
    ]
    summary = next(s for s in summaries if "tool_call_function" in s.get("metrics", {}))
    assert summary["mean_reward"] > summary["baseline"]["mean_reward"]
    arguments = {k for k in summary["metrics"] if k.startswith("tool_arg.")}
    assert {"tool_arg.get_weather.city", "tool_arg.convert_currency.amount"} <= arguments
    report_key = next(
        k
        for k in keys
        if k.endswith("/evaluation/report.md")
        and "tool" in s3.get_object(Bucket=demo.BUCKET, Key=k)["Body"].read().decode()
    )
    report = s3.get_object(Bucket=demo.BUCKET, Key=report_key)["Body"].read().decode()
    assert "## Tool calls: accuracy per part and per argument" in report
    assert "| argument: get_weather.city |" in report
