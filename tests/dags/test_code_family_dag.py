"""The code task family end to end: ``bedrock_rft_retraining`` with the ``code`` recipe, on the sandbox."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from bedrock_rft_provider import demo
from bedrock_rft_provider.jobs.metrics import HACKING_ATTEMPT_SHARE
from bedrock_rft_provider.task_families import recipe
from support.example_dags import PROMOTABLE, run_example_dag

# A safety net (>= 3x a run of this DAG with the suite on 2 busy cores), not a speed limit.
SLOW_TIMEOUT_S = 1800


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_the_code_recipe_trains_on_humaneval_and_reports_pass_at_k_and_the_hacking_curve(
    dagbag: Any, sandbox_env: Any
) -> None:
    conf = {**demo.retraining_conf(recipe("code")), **PROMOTABLE, "model_family": "e2e-code"}
    run = run_example_dag(dagbag, "bedrock_rft_retraining", datetime(2026, 11, 25, tzinfo=timezone.utc), conf)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["train"] == "success" and states["evaluate"] == "success"

    s3 = sandbox_env.client("s3")
    prefix = "retraining/" + run.run_id.replace(":", "-").replace("+", "-") + "/"
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=demo.BUCKET, Prefix=prefix)
        for o in page.get("Contents", [])
    ]
    run_prefix = prefix + "evaluation/summary.json"
    summary = json.loads(s3.get_object(Bucket=demo.BUCKET, Key=run_prefix)["Body"].read())
    assert summary["samples_per_prompt"] == 5
    assert set(summary["pass_at_k"]) == {"pass@1", "pass@5"}
    assert summary["pass_at_k"]["pass@5"] >= summary["pass_at_k"]["pass@1"]
    assert "code_format_ok" in summary["metrics"]
    hacking = [k for k in keys if k.endswith("sandbox_step_wise_training_metrics.csv")]
    assert hacking, "the sandbox wrote no per-step hacking share"
    body = s3.get_object(Bucket=demo.BUCKET, Key=hacking[-1])["Body"].read().decode()
    assert body.splitlines()[0] == f"step_number,{HACKING_ATTEMPT_SHARE}"
    report = s3.get_object(Bucket=demo.BUCKET, Key=run_prefix.replace("summary.json", "report.html"))
    assert "Share of reward-hacking attempts over steps" in report["Body"].read().decode()
