"""The Converse inference runner: bounded adaptive concurrency, retries, resume after a kill."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.evaluation.inference import (
    AdaptiveLimiter,
    ConverseRunner,
    InferenceAbortedError,
    InferenceIncompleteError,
    converse_request,
    finished_keys,
)
from bedrock_rft_provider.evaluation.records import EvalRecord, load_responses

from .fake_runtime import FakeRuntime, client_error, user_text

REPO_ROOT = Path(__file__).resolve().parents[3]


def make_records(n: int) -> list[EvalRecord]:
    return [
        EvalRecord(
            id=f"p{i:04d}",
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"prompt {i}"}],
            reference_answer=str(i),
        )
        for i in range(n)
    ]


def output_keys(path: Path) -> list[tuple[str, int]]:
    return [(r["id"], r["sample"]) for r in map(json.loads, path.read_text().splitlines())]


def fast_runner(client: object, **kwargs: object) -> ConverseRunner:
    options: dict[str, object] = {"concurrency": 8, "base_delay_s": 0.001, "max_delay_s": 0.01, "seed": 1}
    options.update(kwargs)
    return ConverseRunner(client, "amazon.nova-2-lite-v1:0", **options)  # type: ignore[arg-type]


def test_converse_request_moves_system_messages_to_system_field() -> None:
    record = EvalRecord(
        "a",
        [{"role": "system", "content": "S"}, {"role": "user", "content": [{"type": "text", "text": "Q"}]}],
    )
    request = converse_request(record, "m", {"maxTokens": 64, "temperature": 0.0})
    assert request == {
        "modelId": "m",
        "messages": [{"role": "user", "content": [{"text": "Q"}]}],
        "system": [{"text": "S"}],
        "inferenceConfig": {"maxTokens": 64, "temperature": 0.0},
    }


def test_every_prompt_answered_exactly_once_under_latency_and_throttling(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    records = make_records(120)
    client = FakeRuntime(latency_s=0.005, throttle_rate=0.2, seed=3)
    out = tmp_path / "responses.jsonl"
    with caplog.at_level(logging.INFO, logger="bedrock_rft_provider.evaluation.inference"):
        stats = fast_runner(client, max_attempts=50, throttle_tolerance=0.1).run(records, out)

    keys = output_keys(out)
    assert sorted(keys) == [(r.id, 0) for r in records]  # none lost, none duplicated
    assert set(client.answered.values()) == {1}  # the service answered each prompt once
    assert client.throttled > 0 and stats.throttles == client.throttled
    assert stats.completed == 120 and stats.unfinished == 0 and stats.requests_per_s > 0
    assert stats.lowest_concurrency_limit < 8  # AIMD backed off
    assert client.max_in_flight <= 8
    assert "inference finished: 120/120 (100%)" in caplog.text and "req/s" in caplog.text


def test_samples_per_prompt_keys_each_sample(tmp_path: Path) -> None:
    out = tmp_path / "responses.jsonl"
    fast_runner(FakeRuntime(), samples_per_prompt=3).run(make_records(5), out)
    assert sorted(output_keys(out)) == [(f"p{i:04d}", s) for i in range(5) for s in range(3)]


def test_validation_error_is_recorded_and_not_retried(tmp_path: Path) -> None:
    records = make_records(4)
    client = FakeRuntime(errors={"prompt 2": client_error("ValidationException", 400)})
    out = tmp_path / "responses.jsonl"
    stats = fast_runner(client).run(records, out)
    by_id = {r.id: r for r in load_responses(out)}
    assert by_id["p0002"].response is None and "ValidationException" in (by_id["p0002"].error or "")
    assert client.calls["prompt 2"] == 1 and stats.errors == 1 and stats.completed == 3


def test_transient_errors_are_retried_until_they_pass(tmp_path: Path) -> None:
    class Flaky(FakeRuntime):
        failures_left = 2

        def converse(self, **request: Any) -> dict[str, Any]:
            if self.failures_left and user_text(request) == "prompt 1":
                self.failures_left -= 1
                raise client_error("ServiceUnavailableException", 503)
            return super().converse(**request)

    client = Flaky()
    stats = fast_runner(client).run(make_records(3), tmp_path / "r.jsonl")
    assert stats.completed == 3 and stats.retries == 2 and client.answered["prompt 1"] == 1


def test_exhausted_retries_raise_and_keep_finished_answers(tmp_path: Path) -> None:
    client = FakeRuntime(errors={"prompt 0": client_error("ModelNotReadyException", 429)})
    out = tmp_path / "r.jsonl"
    with pytest.raises(InferenceIncompleteError, match="1 of 3 request"):
        fast_runner(client, max_attempts=3).run(make_records(3), out)
    assert sorted(output_keys(out)) == [("p0001", 0), ("p0002", 0)]
    assert client.calls["prompt 0"] == 3


def test_access_denied_stops_the_run(tmp_path: Path) -> None:
    client = FakeRuntime(
        errors={f"prompt {i}": client_error("AccessDeniedException", 403) for i in range(50)}
    )
    with pytest.raises(InferenceAbortedError, match="AccessDeniedException"):
        fast_runner(client, concurrency=2).run(make_records(50), tmp_path / "r.jsonl")
    assert sum(client.calls.values()) < 10


def test_rerun_skips_finished_prompts_and_repairs_a_cut_line(tmp_path: Path) -> None:
    records = make_records(10)
    out = tmp_path / "r.jsonl"
    fast_runner(FakeRuntime()).run(records[:6], out)
    with out.open("a") as handle:
        handle.write('{"id": "p0006", "sample": 0, "resp')  # a write cut short by a kill
    client = FakeRuntime()
    stats = fast_runner(client).run(records, out)
    assert stats.already_done == 6 and stats.completed == 4
    assert sorted(client.calls) == ["prompt 6", "prompt 7", "prompt 8", "prompt 9"]
    assert sorted(output_keys(out)) == [(r.id, 0) for r in records]


_CHILD = """
import sys
sys.path[:0] = [{tests!r}, {provider!r}]
from unit.evaluation.fake_runtime import FakeRuntime
from unit.evaluation.test_inference import make_records
from bedrock_rft_provider.evaluation.inference import ConverseRunner
runner = ConverseRunner(FakeRuntime(latency_s=0.05), "amazon.nova-2-lite-v1:0", concurrency=4)
runner.run(make_records(200), {out!r})
"""


def test_killed_run_resumes_without_redoing_finished_prompts(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    code = _CHILD.format(tests=str(REPO_ROOT / "tests"), provider=str(REPO_ROOT / "provider"), out=str(out))
    child = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": ""})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or len(out.read_bytes().splitlines()) < 20):
            assert child.poll() is None, "the child finished or died before it could be killed"
            time.sleep(0.02)
    finally:
        child.kill()
        child.wait(timeout=30)
    done_before = finished_keys(out)
    assert 20 <= len(done_before) < 200

    client = FakeRuntime()
    stats = fast_runner(client).run(make_records(200), out)
    assert stats.already_done == len(done_before)
    assert sum(client.calls.values()) == 200 - len(done_before)
    assert sorted(output_keys(out)) == [(f"p{i:04d}", 0) for i in range(200)]


def test_limiter_halves_once_per_generation_and_probes_back_up() -> None:
    limiter = AdaptiveLimiter(16, success_window=2, throttle_tolerance=0.0)
    generation = limiter.acquire()
    limiter.release()
    limiter.on_throttle(generation)
    limiter.on_throttle(generation)  # a second throttle from the same burst
    assert limiter.limit == 8
    for _ in range(4):
        limiter.on_success()
    assert limiter.limit == 10 and limiter.lowest == 8


def test_limiter_absorbs_occasional_throttles_but_backs_off_under_sustained_ones() -> None:
    occasional = AdaptiveLimiter(32)
    for i in range(200):
        if i % 20 == 19:  # 5% of requests throttled
            occasional.on_throttle(occasional.acquire())
        else:
            occasional.acquire()
            occasional.on_success()
        occasional.release()
    assert occasional.lowest == 32

    sustained = AdaptiveLimiter(32)
    for i in range(40):
        generation = sustained.acquire()
        sustained.release()
        if i % 2:  # 50% of requests throttled
            sustained.on_throttle(generation)
        else:
            sustained.on_success()
    assert sustained.limit < 32


def test_answers_of_another_model_are_not_reused(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    ConverseRunner(FakeRuntime(), "model-a", concurrency=2).run(make_records(3), out)
    client = FakeRuntime()
    stats = ConverseRunner(client, "model-b", concurrency=2).run(make_records(3), out)
    assert stats.already_done == 0 and sum(client.calls.values()) == 3
    assert {json.loads(line)["model"] for line in out.read_text().splitlines()} == {"model-b"}
