"""The inference loop shared by every evaluation runner: bounded adaptive concurrency, retries, resume.

A runner answers every (prompt, sample) once and appends each answer to a JSONL file as it arrives
(within 50 ms: a writer thread appends them in batches, ``evaluation/appender.py``). The loop here
owns concurrency (``AdaptiveLimiter``), retries with full-jitter backoff, resume from the output file,
progress logs, token accounting and the shape of each output line; an API adapter
(``inference.ConverseRunner`` for Bedrock Runtime ``converse``, ``chat_runner.ChatCompletionsRunner``
for Chat Completions) only renders a request, makes the call, reads the reply and classifies errors.

Model output is data: the reply and its reasoning are stored as text, cut at :data:`MAX_REPLY_CHARS`
(``"truncated": true`` then), and error messages are cut at :data:`MAX_PROBLEM_CHARS`.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.appender import LineAppender
from bedrock_rft_provider.evaluation.limiter import AdaptiveLimiter
from bedrock_rft_provider.evaluation.records import EvalRecord, finished_keys
from bedrock_rft_provider.evaluation.replies import (
    MAX_PROBLEM_CHARS,
    MAX_REPLY_CHARS,
    USAGE_KEYS,
    Failure,
    Outcome,
    Reply,
    bounded,
    token_count,
)
from bedrock_rft_provider.evaluation.run_outcome import (
    InferenceAbortedError,
    InferenceIncompleteError,
    InferenceStats,
)
from bedrock_rft_provider.evaluation.switch_interval import longer_switch_interval

__all__ = [
    "MAX_PROBLEM_CHARS",
    "MAX_REPLY_CHARS",
    "USAGE_KEYS",
    "Failure",
    "InferenceAbortedError",
    "InferenceIncompleteError",
    "InferenceRunner",
    "InferenceStats",
    "Outcome",
    "Reply",
]

# The runners' one log (named for the module that has always held the Converse runner).
log = logging.getLogger("bedrock_rft_provider.evaluation.inference")


class InferenceRunner(ABC):
    """Answer every (prompt, sample) once, appending each result to a JSONL file as it arrives.

    Subclasses adapt one API: :meth:`render` a prompt as a request, :meth:`call` it, and
    :meth:`classify` the errors it raises.

    :param client: the API client the adapter calls; its per-request timeout is the client's own.
    :param model_id: the model that answers (recorded on every line; resume never mixes models).
    :param concurrency: the most requests in flight; the adaptive limit never exceeds it.
    :param samples_per_prompt: answers per prompt (``n`` of pass@k); the sample index is part of the key.
    :param inference_config: Converse-style ``{"maxTokens", "temperature", "topP", "stopSequences"}``;
        each adapter maps it onto its API. None = the model's defaults.
    :param max_attempts: tries per request; throttling and transient errors back off with full jitter
        from ``base_delay_s`` doubling up to ``max_delay_s``.
    :raises ConfigError: a count below 1.
    """

    thread_name = "inference"

    def __init__(
        self,
        client: Any,
        model_id: str,
        *,
        concurrency: int = 8,
        samples_per_prompt: int = 1,
        inference_config: Mapping[str, Any] | None = None,
        max_attempts: int = 8,
        base_delay_s: float = 0.5,
        max_delay_s: float = 20.0,
        success_window: int = 10,
        throttle_tolerance: float = 0.2,
        progress_interval_s: float = 15.0,
        seed: int | None = None,
    ) -> None:
        for name, value in (
            ("concurrency", concurrency),
            ("samples_per_prompt", samples_per_prompt),
            ("max_attempts", max_attempts),
        ):
            if value < 1:
                raise ConfigError(name, f"must be at least 1, got {value}")
        self.client = client
        self.model_id = model_id
        self.concurrency = concurrency
        self.samples_per_prompt = samples_per_prompt
        self.inference_config = dict(inference_config) if inference_config else None
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.success_window = success_window
        self.throttle_tolerance = throttle_tolerance
        self.progress_interval_s = progress_interval_s
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()

    # -- the adapter -------------------------------------------------------------------------------
    @abstractmethod
    def render(self, record: EvalRecord) -> dict[str, Any]:
        """The request for one prompt (built once, sent for every sample and attempt)."""

    @abstractmethod
    def call(self, request: dict[str, Any]) -> Reply:
        """Send one request and read its reply; raises what the client raises."""

    @abstractmethod
    def classify(self, exc: Exception) -> Failure | None:
        """What an error from :meth:`call` means; None = not an API error (it propagates)."""

    # -- the loop ------------------------------------------------------------------------------------
    def run(self, records: Sequence[EvalRecord], output_path: str | Path) -> InferenceStats:
        """Answer what ``output_path`` does not hold yet; raises if anything is left unanswered.

        :raises InferenceAbortedError: a fatal error (access, unknown model) stopped the run.
        :raises InferenceIncompleteError: some requests still failed after ``max_attempts`` tries; the
            answers that arrived are in ``output_path`` and a re-run resumes from them.
        """
        output_path = Path(output_path)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        done = finished_keys(output_path, self.model_id)
        todo = [
            (record, sample)
            for record in records
            for sample in range(self.samples_per_prompt)
            if (record.id, sample) not in done
        ]
        total = len(records) * self.samples_per_prompt
        # Rendered (and checked) before the clock starts: a request that cannot be sent stops the run
        # before any is, and the throughput figure is the answering's alone.
        requests = {record.id: self.render(record) for record, _ in todo}
        # Lines go to one writer thread that appends them in batches (evaluation/appender.py): a write
        # per answer made every worker hand the interpreter lock over once more per request.
        run = _Run(self, total=total, already_done=total - len(todo), out=LineAppender(output_path))
        log.info(
            "inference on %s: %d request(s) to make, %d already answered in %s (concurrency %d)",
            self.model_id,
            len(todo),
            run.already_done,
            output_path,
            self.concurrency,
        )
        try:
            run.answer_all([(record.id, sample, requests[record.id]) for record, sample in todo])
        finally:
            run.out.close()
        stats = run.stats()
        run.log_progress(final=True)
        if run.fatal is not None:
            raise InferenceAbortedError(f"inference on {self.model_id} stopped: {run.fatal}")
        if stats.unfinished:
            raise InferenceIncompleteError(
                f"{stats.unfinished} of {len(todo)} request(s) still failing after {self.max_attempts} "
                f"attempts each; {stats.completed} were saved to {output_path} and a re-run resumes there"
            )
        return stats

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        with self._rng_lock:
            return self._rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))


class _Run:
    """The mutable state of one ``InferenceRunner.run`` call, shared by its worker threads."""

    def __init__(self, runner: InferenceRunner, *, total: int, already_done: int, out: LineAppender) -> None:
        self.runner = runner
        self.total = total
        self.already_done = already_done
        self.limiter = AdaptiveLimiter(
            runner.concurrency,
            success_window=runner.success_window,
            throttle_tolerance=runner.throttle_tolerance,
        )
        self.out = out
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.fatal: str | None = None
        self.completed = self.errors = self.unfinished = self.retries = self.throttles = 0
        self.input_tokens = self.output_tokens = 0
        self.started = time.monotonic()
        self.last_log = self.started

    def answer_all(self, todo: Sequence[tuple[str, int, dict[str, Any]]]) -> None:
        """Answer ``todo`` on ``concurrency`` worker threads, each taking the next item when it is free."""
        work: queue.SimpleQueue[tuple[str, int, dict[str, Any]]] = queue.SimpleQueue()
        for item in todo:
            work.put(item)
        # Every worker starts before the first request: a thread started later queues for the GIL behind
        # the requests already running, which delays its first request by up to a round.
        gate = threading.Event()

        def worker() -> None:
            gate.wait()
            while True:
                try:
                    item = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    self.answer(*item)
                except BaseException:  # a bug, not an API error: stop the others sending paid requests
                    self.stop.set()
                    raise

        concurrency = self.runner.concurrency
        prefix = self.runner.thread_name
        # A longer interpreter switch interval while the workers answer (evaluation/switch_interval.py).
        with longer_switch_interval(), ThreadPoolExecutor(concurrency, thread_name_prefix=prefix) as pool:
            workers = [pool.submit(worker) for _ in range(min(concurrency, len(todo)))]
            gate.set()
            try:
                for future in workers:
                    future.result()
            except BaseException:  # Ctrl-C here: the workers stop after their request in flight
                self.stop.set()
                raise

    def answer(self, record_id: str, sample: int, request: dict[str, Any]) -> None:
        runner = self.runner
        last_problem = ""
        for attempt in range(runner.max_attempts):
            if self.stop.is_set():
                break
            generation = self.limiter.acquire()
            if self.stop.is_set():
                self.limiter.release()
                break
            started = time.monotonic()
            try:
                reply = runner.call(request)
            except Exception as exc:
                self.limiter.release()
                failure = runner.classify(exc)
                if failure is None:
                    raise
                last_problem = bounded(failure.problem, MAX_PROBLEM_CHARS)[0]
                if failure.outcome is Outcome.THROTTLED:
                    self.limiter.on_throttle(generation)
                    self._count("throttles")
                elif failure.outcome is Outcome.FATAL:
                    self._abort(last_problem)
                    break
                elif failure.outcome is Outcome.REJECTED:
                    self._write(record_id, sample, None, error=last_problem, attempts=attempt + 1)
                    return
            else:
                self.limiter.release()
                self.limiter.on_success()
                self._write_reply(record_id, sample, reply, attempt + 1, (time.monotonic() - started) * 1000)
                return
            if attempt + 1 < runner.max_attempts:
                self._count("retries")
                self.stop.wait(runner.backoff(attempt))
        with self.lock:
            self.unfinished += 1
        if last_problem and not self.stop.is_set():
            log.warning("giving up on id %s sample %d for this run: %s", record_id, sample, last_problem)

    def _write_reply(
        self, record_id: str, sample: int, reply: Reply, attempts: int, latency_ms: float
    ) -> None:
        text, cut = bounded(reply.text, MAX_REPLY_CHARS)
        reasoning, reasoning_cut = bounded(reply.reasoning, MAX_REPLY_CHARS)
        usage = dict(reply.usage) if reply.usage is not None else None
        with self.lock:
            if usage is not None:
                self.input_tokens += token_count(usage.get("inputTokens"))
                self.output_tokens += token_count(usage.get("outputTokens"))
        self._write(
            record_id,
            sample,
            text,
            attempts=attempts,
            latency_ms=latency_ms,
            usage=usage,
            stop_reason=reply.stop_reason,
            reasoning=reasoning or None,
            truncated=True if cut or reasoning_cut else None,
        )

    def _abort(self, problem: str) -> None:
        with self.lock:
            if self.fatal is None:
                self.fatal = problem
        self.stop.set()

    def _count(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)

    def _write(self, record_id: str, sample: int, text: str | None, **extra: Any) -> None:
        line: dict[str, Any] = {
            "id": record_id,
            "sample": sample,
            "response": text,
            "model": self.runner.model_id,
        }
        line.update({k: v for k, v in extra.items() if v is not None})
        self.out.add((json.dumps(line, ensure_ascii=False) + "\n").encode())
        with self.lock:
            if text is None:
                self.errors += 1
            else:
                self.completed += 1
            due = time.monotonic() - self.last_log >= self.runner.progress_interval_s
        if due:
            self.log_progress()

    def stats(self) -> InferenceStats:
        elapsed = time.monotonic() - self.started
        answered = self.completed + self.errors
        return InferenceStats(
            total=self.total,
            already_done=self.already_done,
            completed=self.completed,
            errors=self.errors,
            unfinished=self.unfinished,
            retries=self.retries,
            throttles=self.throttles,
            elapsed_s=round(elapsed, 3),
            requests_per_s=round(answered / elapsed, 3) if elapsed > 0 else 0.0,
            final_concurrency_limit=self.limiter.limit,
            lowest_concurrency_limit=self.limiter.lowest,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
        )

    def log_progress(self, *, final: bool = False) -> None:
        with self.lock:
            self.last_log = time.monotonic()
            elapsed = self.last_log - self.started
            answered = self.completed + self.errors
            done = self.already_done + answered
            throttles, retries = self.throttles, self.retries
            tokens_in, tokens_out = self.input_tokens, self.output_tokens
        rate = answered / elapsed if elapsed > 0 else 0.0
        remaining = self.total - done
        eta = f"{remaining / rate:.0f}s" if rate > 0 and remaining else ("0s" if not remaining else "?")
        log.info(
            "inference %s%d/%d (%.0f%%) %.1f req/s, ETA %s; errors %d, throttled %d, retries %d, "
            "concurrency limit %d/%d, tokens in %d out %d",
            "finished: " if final else "",
            done,
            self.total,
            100.0 * done / self.total if self.total else 100.0,
            rate,
            eta,
            self.errors,
            throttles,
            retries,
            self.limiter.limit,
            self.limiter.max_limit,
            tokens_in,
            tokens_out,
        )
