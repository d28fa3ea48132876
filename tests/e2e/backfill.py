"""Scenario 5: ``airflow backfill create`` of the evaluation DAG over three past daily intervals."""

from __future__ import annotations

import json
from datetime import date, timedelta

from tests.e2e import aws
from tests.e2e.runs import RunWatch
from tests.e2e.stack import Stack

DAG_ID = "bedrock_rft_evaluation"
FAMILY = "e2e-backfill"
RUN_TIMEOUT = 900.0


def backfill_command(days: list[date]) -> list[str]:
    """The exact CLI the e2e runs (README "Running on a real Airflow" shows it)."""
    return [
        "backfill", "create", "--dag-id", DAG_ID,
        "--from-date", days[0].isoformat(), "--to-date", days[-1].isoformat(),
        "--dag-run-conf", json.dumps({"model_family": FAMILY}),
    ]  # fmt: skip


def backfill_evaluation(stack: Stack) -> str:
    """5. Three past intervals with champion promotions inside them: three runs, three partitions,
    base model / v1 / v2."""
    champion = aws.read_champion(stack.sandbox, "gsm8k")
    assert champion, "no gsm8k champion to place in the history (scenario 1 promotes one)"
    today = date.today()
    # A real backfill runs only intervals that have ended: the last one ends today at 00:00 UTC.
    days = [today - timedelta(days=n) for n in (3, 2, 1)]
    aws.seed_backfill(stack.sandbox, FAMILY, champion, days)
    stack.processes.run("backfill-create", *backfill_command(days))
    stack.api.unpause(DAG_ID)  # the scheduler runs backfills of unpaused DAGs only
    runs = [r for r in stack.api.dag_runs(DAG_ID) if r["run_type"] == "backfill"]
    assert len(runs) == 3, f"backfill made {len(runs)} runs: {[r['dag_run_id'] for r in runs]}"
    states = {
        r["dag_run_id"]: RunWatch(stack.api, DAG_ID, r["dag_run_id"]).wait_done(RUN_TIMEOUT) for r in runs
    }
    assert set(states.values()) == {"success"}, states
    stack.state["backfill_runs"] = sorted(states)
    seen = []
    for day, expected in zip(days, (None, 1, 2), strict=True):
        summary = aws.read_json(stack.sandbox, f"evaluation/{FAMILY}/{day}/summary.json")
        champion_used = summary.get("champion") or {}
        version = champion_used.get("version")
        assert version == expected, f"interval {day}: evaluated champion {version}, expected {expected}"
        seen.append(f"{day}: {'v' + str(version) if version else 'base model'}")
    partitions = {k.split("/")[2] for k in aws.bucket_keys(stack.sandbox, f"evaluation/{FAMILY}/")}
    assert partitions == {d.isoformat() for d in days}, partitions
    return f"3 runs, 3 partitions; {'; '.join(seen)}"
