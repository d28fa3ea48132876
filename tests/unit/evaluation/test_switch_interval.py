"""The runner raises the interpreter switch interval while its workers answer, and puts it back."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.evaluation.inference import ConverseRunner
from bedrock_rft_provider.evaluation.records import EvalRecord
from bedrock_rft_provider.evaluation.switch_interval import RUN_SWITCH_INTERVAL_S, longer_switch_interval


class _Client:
    """Answers every ``converse`` and notes the switch interval its caller ran under."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.seen: list[float] = []

    def converse(self, **_: Any) -> dict[str, Any]:
        self.seen.append(sys.getswitchinterval())
        if self.fail:
            raise RuntimeError("a bug in the client, not an API error")
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": "4"}]}},
            "stopReason": "end_turn",
        }


def _about(seconds: float) -> Any:
    return pytest.approx(seconds, abs=1e-5)  # the interpreter keeps it in whole microseconds


def _records(n: int) -> list[EvalRecord]:
    return [EvalRecord(f"r{i}", [{"role": "user", "content": "2 + 2?"}], "4") for i in range(n)]


@pytest.fixture(autouse=True)
def default_interval() -> Iterator[float]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield 0.005
    sys.setswitchinterval(before)


def test_workers_answer_under_the_longer_interval_and_it_is_put_back(tmp_path: Path) -> None:
    client = _Client()
    ConverseRunner(client, "m", concurrency=4).run(_records(8), tmp_path / "out.jsonl")
    assert client.seen == [_about(RUN_SWITCH_INTERVAL_S)] * 8
    assert sys.getswitchinterval() == _about(0.005)


def test_the_interval_is_put_back_when_the_run_raises(tmp_path: Path) -> None:
    client = _Client(fail=True)
    with pytest.raises(RuntimeError):
        ConverseRunner(client, "m", concurrency=2).run(_records(2), tmp_path / "out.jsonl")
    assert client.seen and client.seen[0] == _about(RUN_SWITCH_INTERVAL_S)
    assert sys.getswitchinterval() == _about(0.005)


class _FailsOnce:
    """Answers, except that the third call raises an error that is not an API error (a bug)."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def converse(self, **_: Any) -> dict[str, Any]:
        with self.lock:
            self.calls += 1
            call = self.calls
        if call == 3:
            raise RuntimeError("a bug in the client, not an API error")
        return {"output": {"message": {"role": "assistant", "content": [{"text": "4"}]}}}


def test_a_worker_that_raises_stops_the_others_sending_requests(tmp_path: Path) -> None:
    """It used to raise only after the other workers had sent every remaining (paid) request."""
    client = _FailsOnce()
    with pytest.raises(RuntimeError):
        ConverseRunner(client, "m", concurrency=4).run(_records(200), tmp_path / "out.jsonl")
    assert client.calls <= 3 + 4  # at most one more request per worker, in flight when it failed
    assert sys.getswitchinterval() == _about(0.005)


def test_overlapping_runs_keep_it_raised_until_the_last_one_ends() -> None:
    first_done, second_entered = threading.Event(), threading.Event()
    during_second: list[float] = []

    def second() -> None:
        with longer_switch_interval():
            second_entered.set()
            first_done.wait(5)
            during_second.append(sys.getswitchinterval())

    with longer_switch_interval():
        thread = threading.Thread(target=second)
        thread.start()
        assert second_entered.wait(5)
    first_done.set()
    thread.join(5)
    assert during_second == [_about(RUN_SWITCH_INTERVAL_S)]  # the first run's end did not lower it
    assert sys.getswitchinterval() == _about(0.005)


def test_a_longer_interval_already_set_is_not_lowered() -> None:
    sys.setswitchinterval(0.05)
    with longer_switch_interval():
        assert sys.getswitchinterval() == _about(0.05)
    assert sys.getswitchinterval() == _about(0.05)
