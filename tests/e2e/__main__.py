"""``python -m tests.e2e``: bring the stack up, run the scenarios, print one line each, tear down."""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from tests.e2e import (
    approval,
    backfill,
    browser,
    checks,
    codefamily,
    events,
    observability,
    openweight,
    scenarios,
    traffic,
)
from tests.e2e.environment import REPO
from tests.e2e.stack import Stack, running_stack

SCENARIOS: list[tuple[str, Callable[[Stack], str]]] = [
    ("1 retraining via REST: success, deferred on the triggerer, both workers", scenarios.happy_path),
    (
        "2 triggerer SIGKILLed while train is deferred: a new one resumes the same job",
        scenarios.triggerer_restart,
    ),
    ("3 clear while deferred: the retry reattaches, the job is not stopped", scenarios.clear_reattaches),
    ("4 mark failed while deferred: the job is stopped", scenarios.mark_failed_stops),
    ("5 backfill of three past intervals: base model, v1, v2", backfill.backfill_evaluation),
    ("6 extra links via REST are well-formed", checks.extra_links),
    ("7 report.html in headless chromium: plots load, numbers shown", browser.report_in_browser),
    (
        "8 open-weight retraining (gpt-oss) via REST: clear while deferred reattaches to the one job",
        openweight.open_weight_run,
    ),
    ("10 approval via REST (PATCH hitlDetails): Approve promotes", approval.approval_promotes),
    (
        "11 rejection via REST: the champion is unchanged, the challenger torn down",
        approval.rejection_keeps_the_champion,
    ),
    (
        "14 RFT from invocation logs via REST, promoted by re-pointing the champion deployment (same ARN)",
        traffic.traffic_and_stable_deployment,
    ),
    (
        "15 lineage: scenario 1's OpenLineage events link data and grader to the champion",
        observability.lineage_of_the_happy_run,
    ),
    (
        "16 notifications: scenario 1's gate decision and promotion sent to SNS with the brief",
        observability.notifications_of_the_happy_run,
    ),
    ("9 sandbox resources: no duplicates, no stray deployment", checks.resources),
    (
        "12 event-driven completion: the job's completion event starts the post-training DAG run",
        events.event_driven_completion,
    ),
    ("13 code family (HumanEval) via REST: pass@k, the hacking share falls", codefamily.code_family_run),
]


def _signal_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e", description=__doc__)
    parser.add_argument("--logs", type=Path, help="logs folder (default e2e-logs/<UTC time>)")
    parser.add_argument("--time-scale", type=float, default=0.02, help="sandbox time scale (default 0.02)")
    parser.add_argument("--private-postgres", action="store_true", help="always start a private PostgreSQL")
    parser.add_argument("--only", help="comma-separated scenario numbers to run (default: all)")
    args = parser.parse_args(argv)
    logs = args.logs or REPO / "e2e-logs" / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    logs.mkdir(parents=True, exist_ok=True)
    # Ctrl-C and SIGTERM both unwind through the stack's cleanup (every process stopped by PID, the
    # database dropped); SIGINT is set explicitly because a background shell starts us with it ignored.
    signal.signal(signal.SIGTERM, _signal_as_interrupt)
    signal.signal(signal.SIGINT, _signal_as_interrupt)
    chosen = set(args.only.split(",")) if args.only else None
    passed = failed = 0
    started = time.monotonic()
    print(f"e2e: logs in {logs}", flush=True)
    try:
        with running_stack(logs, time_scale=args.time_scale, private_postgres=args.private_postgres) as stack:
            print(f"e2e: stack up in {time.monotonic() - started:.0f}s", flush=True)
            for title, scenario in SCENARIOS:
                if chosen and title.split()[0] not in chosen:
                    continue
                begun = time.monotonic()
                try:
                    stack.processes.check_alive()
                    detail = scenario(stack)
                except Exception as exc:
                    failed += 1
                    (logs / f"scenario-{title.split()[0]}.traceback").write_text(traceback.format_exc())
                    print(f"FAIL  {title} ({time.monotonic() - begun:.0f}s): {exc}", flush=True)
                else:
                    passed += 1
                    print(f"PASS  {title} ({time.monotonic() - begun:.0f}s): {detail}", flush=True)
    except KeyboardInterrupt:
        print(f"e2e: interrupted; everything it started was stopped; logs in {logs}", file=sys.stderr)
        return 130
    except Exception as exc:
        traceback.print_exc()
        print(f"e2e: the stack failed: {exc}", file=sys.stderr, flush=True)
        failed += 1
    print(f"e2e: {passed} passed, {failed} failed in {time.monotonic() - started:.0f}s; logs in {logs}")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
