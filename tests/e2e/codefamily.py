"""Scenario 13: the code task family (HumanEval, ``code_solution``) on the real services.

Triggered through the REST API with the ``code`` recipe's params — what a user passes with ``--conf`` —
the run's grader Lambda runs model-written programs in the hardened runner on a Celery worker's
sandbox; the run must succeed, report pass@1/pass@5, and the sandbox's per-step record must show the
simulated policy trying fewer reward hacks at the end of training than at the start.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from bedrock_rft_provider.demo import BUCKET
from bedrock_rft_provider.jobs.metrics import HACKING_ATTEMPT_SHARE
from bedrock_rft_provider.sandbox.training import SANDBOX_METRICS_FILE
from bedrock_rft_provider.task_families import recipe
from tests.e2e import scenarios
from tests.e2e.stack import Stack

# Its own champion family: the native gsm8k champion of scenarios 5, 6 and 9 stays theirs.
CONF: dict[str, Any] = {
    **scenarios.RUN_CONF,
    **recipe("code").retraining_conf,
    "model_family": "humaneval-e2e",
}


def _objects(stack: Stack, prefix: str) -> dict[str, bytes]:
    s3 = stack.sandbox.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    wanted = [k for k in keys if k.endswith(("/evaluation/summary.json", SANDBOX_METRICS_FILE))]
    return {k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in wanted}


def code_family_run(stack: Stack) -> str:
    """13. The code recipe via REST: success, pass@k reported, the hacking share falls over training."""
    watch = scenarios.start_run(stack, "code", CONF)
    state = watch.wait_done(scenarios.RUN_TIMEOUT)
    assert state == "success", f"run ended {state}; failed tasks: {watch.failed_tasks()}"
    prefix = "retraining/" + watch.run_id.replace(":", "-").replace("+", "-") + "/"
    found = _objects(stack, prefix)
    summary = json.loads(next(v for k, v in found.items() if k.endswith("summary.json")))
    pass_at_k = summary["pass_at_k"]
    assert set(pass_at_k) == {"pass@1", "pass@5"}, summary.get("pass_at_k")
    rows = list(csv.DictReader(io.StringIO(next(v for k, v in found.items() if k.endswith(".csv")).decode())))
    curve = [float(r[HACKING_ATTEMPT_SHARE]) for r in rows]
    first, last = sum(curve[:3]) / 3, sum(curve[-3:]) / 3
    assert last < first, f"the hacking share did not fall: {curve}"
    return (
        f"success; pass@1 {pass_at_k['pass@1']:.2f}, pass@5 {pass_at_k['pass@5']:.2f}; share of "
        f"reward-hacking attempts {first:.2f} -> {last:.2f} over {len(curve)} steps"
    )
