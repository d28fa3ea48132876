"""A decided stop is never lost: a failed stop request is sent again at the next poll, and a job that is
already stopping is reported as stopped by its guard (what a restarted trigger sees)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from airflow.triggers.base import TriggerEvent

from bedrock_rft_provider.jobs.metrics import TRAIN_REWARD, TrainingMetrics
from bedrock_rft_provider.jobs.spend_guard import WaitGuard
from bedrock_rft_provider.triggers.rft_job import BedrockRFTJobTrigger, guarded_run
from bedrock_rft_provider.triggers.spend_watch import GUARD_STOP, SUCCESS, NativeWatch

LOG = logging.getLogger("test")
HYPER = {"customizationConfig": {"rftConfig": {"hyperParameters": {"batchSize": 2}}}}


class FakeHook:
    """A job that trains one step per describe; ``stop_job`` fails ``fail_stops`` times first."""

    def __init__(self, *, fail_stops: int = 0, status: str = "InProgress") -> None:
        self.status = status
        self.steps = 0
        self.fail_stops = fail_stops
        self.stop_calls = 0

    def describe_job(self, job: str) -> dict[str, Any]:
        if self.status == "InProgress":
            self.steps += 1
        return {"jobName": job, "status": self.status, **HYPER}

    def read_training_metrics(self, job: dict[str, Any]) -> TrainingMetrics:
        metrics = TrainingMetrics()
        metrics.series[TRAIN_REWARD] = [(i, 0.5) for i in range(1, self.steps + 1)]
        return metrics

    def stop_job(self, job: str) -> bool:
        self.stop_calls += 1
        if self.stop_calls <= self.fail_stops:
            raise ConnectionError("the stop request was lost")
        self.status = "Stopping"
        return True


def _events(hook: FakeHook, guard: WaitGuard) -> list[TriggerEvent]:
    trigger = BedrockRFTJobTrigger(job_identifier="job-1", waiter_delay=0, waiter_max_attempts=20)
    watch = NativeWatch(hook, "job-1", guard, LOG)

    async def collect() -> list[TriggerEvent]:
        return [event async for event in guarded_run(trigger, watch)]

    return asyncio.run(collect())


def test_a_failed_stop_request_is_sent_again_until_it_goes_through() -> None:
    # 2 x 4 = 8 invocations per step: the cap of 24 is reached at step 3.
    hook = FakeHook(fail_stops=2)
    events = _events(hook, WaitGuard(max_grader_invocations=24))
    assert hook.stop_calls == 3 and hook.status == "Stopping"
    assert len(events) == 1 and events[0].payload["status"] == "error"
    assert events[0].payload["guard"]["stop"] and "max_grader_invocations=24" in events[0].payload["message"]


def test_a_job_already_stopping_is_reported_as_the_guards_stop_without_another_request() -> None:
    hook = FakeHook(status="Stopping")
    hook.steps = 5
    check = NativeWatch(hook, "job-1", WaitGuard(max_grader_invocations=24), LOG).check()
    assert check.outcome == GUARD_STOP and hook.stop_calls == 0


def test_a_job_within_its_caps_is_never_stopped() -> None:
    hook = FakeHook()
    check = NativeWatch(hook, "job-1", WaitGuard(max_grader_invocations=10_000), LOG).check()
    assert check.outcome != GUARD_STOP and hook.stop_calls == 0
    hook.status = "Completed"
    assert NativeWatch(hook, "job-1", WaitGuard(max_grader_invocations=1), LOG).check().outcome == SUCCESS
