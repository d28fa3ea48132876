"""Run a test set through Bedrock Runtime ``converse`` with bounded, adaptive concurrency and resume."""

from __future__ import annotations

import json
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from bedrock_rft_provider.errors import BedrockRFTError, ConfigError, aws_error_code
from bedrock_rft_provider.evaluation.limiter import AdaptiveLimiter
from bedrock_rft_provider.evaluation.records import EvalRecord
from bedrock_rft_provider.rewards.contract import text_of
from bedrock_rft_provider.rewards.jsonl import json_lines

log = logging.getLogger(__name__)

THROTTLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException"})
TRANSIENT_CODES = THROTTLE_CODES | frozenset(
    {
        "ServiceUnavailableException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "InternalServerException",
        "RequestTimeout",
    }
)
# Errors that every further request would hit too: stop instead of paying for a run that cannot succeed.
FATAL_CODES = frozenset({"AccessDeniedException", "ResourceNotFoundException", "UnrecognizedClientException"})
_TRANSIENT_EXCEPTIONS = (
    ReadTimeoutError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ConnectionClosedError,
)


class ConverseClient(Protocol):
    """The one call of a ``bedrock-runtime`` client the runner makes."""

    def converse(self, **kwargs: Any) -> dict[str, Any]: ...


class InferenceIncompleteError(BedrockRFTError):
    """Some prompts still have no answer after all retries; a re-run resumes from the output file."""


class InferenceAbortedError(BedrockRFTError):
    """A non-retryable error (access, unknown model) made every further request pointless."""


@dataclass
class InferenceStats:
    """What a run did: counts, retries, throttles and the throughput it achieved."""

    total: int
    already_done: int
    completed: int
    errors: int
    unfinished: int
    retries: int
    throttles: int
    elapsed_s: float
    requests_per_s: float
    final_concurrency_limit: int
    lowest_concurrency_limit: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def converse_request(
    record: EvalRecord, model_id: str, inference_config: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Render an OpenAI-style prompt as ``converse`` arguments (system messages go to ``system``)."""
    system: list[dict[str, str]] = []
    messages: list[dict[str, Any]] = []
    for message in record.messages:
        role = message.get("role")
        text = text_of(message.get("content", ""))
        if role == "system":
            system.append({"text": text})
        elif role in ("user", "assistant"):
            messages.append({"role": role, "content": [{"text": text}]})
    request: dict[str, Any] = {"modelId": model_id, "messages": messages}
    if system:
        request["system"] = system
    if inference_config:
        request["inferenceConfig"] = dict(inference_config)
    return request


def response_text(response: dict[str, Any]) -> str:
    """The assistant text of a ``converse`` response (reasoning blocks are left out)."""
    return text_of(response.get("output", {}).get("message", {}).get("content", []))


def finished_keys(path: Path, model_id: str | None = None) -> set[tuple[str, int]]:
    """Keys already answered in ``path``; a line cut short by a killed process is dropped.

    Answers recorded for another ``model_id`` are never mixed in: the file is emptied instead.
    """
    if not path.exists():
        return set()
    raw = path.read_bytes()
    good_end = raw.rfind(b"\n") + 1
    if good_end < len(raw):
        with path.open("r+b") as handle:
            handle.truncate(good_end)
    try:
        answered = [
            (obj, (str(obj["id"]), int(obj.get("sample", 0))))
            for _, obj in json_lines(raw[:good_end], str(path))
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(str(path), f"cannot resume: a line is not a response record ({exc})") from exc
    done: set[tuple[str, int]] = set()
    for obj, key in answered:
        if model_id is not None and obj.get("model", model_id) != model_id:
            log.warning("%s holds answers of %s, not %s: starting afresh", path, obj["model"], model_id)
            path.write_bytes(b"")
            return set()
        done.add(key)
    return done


def _error_code(exc: ClientError) -> tuple[str, int]:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return aws_error_code(exc), int(status or 0)


class ConverseRunner:
    """Answer every (prompt, sample) once, appending each result to a JSONL file as it arrives.

    :param client: a ``bedrock-runtime`` client (or anything with ``converse``); its per-request timeout
        is the client's ``read_timeout``.
    :param model_id: foundation model id, inference profile, custom model deployment ARN or provisioned ARN.
    :param concurrency: the most requests in flight; the adaptive limit never exceeds it.
    :param samples_per_prompt: answers per prompt (``n`` of pass@k); the sample index is part of the key.
    """

    def __init__(
        self,
        client: ConverseClient,
        model_id: str,
        *,
        concurrency: int = 8,
        samples_per_prompt: int = 1,
        inference_config: dict[str, Any] | None = None,
        max_attempts: int = 8,
        base_delay_s: float = 0.5,
        max_delay_s: float = 20.0,
        success_window: int = 10,
        throttle_tolerance: float = 0.2,
        progress_interval_s: float = 15.0,
        seed: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise ConfigError("concurrency", f"must be at least 1, got {concurrency}")
        if samples_per_prompt < 1:
            raise ConfigError("samples_per_prompt", f"must be at least 1, got {samples_per_prompt}")
        if max_attempts < 1:
            raise ConfigError("max_attempts", f"must be at least 1, got {max_attempts}")
        self.client = client
        self.model_id = model_id
        self.concurrency = concurrency
        self.samples_per_prompt = samples_per_prompt
        self.inference_config = inference_config
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.success_window = success_window
        self.throttle_tolerance = throttle_tolerance
        self.progress_interval_s = progress_interval_s
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()

    def run(self, records: Sequence[EvalRecord], output_path: str | Path) -> InferenceStats:
        """Answer what ``output_path`` does not hold yet; raises if anything is left unanswered."""
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
        run = _Run(self, total=total, already_done=total - len(todo))
        log.info(
            "inference on %s: %d request(s) to make, %d already answered in %s (concurrency %d)",
            self.model_id,
            len(todo),
            run.already_done,
            output_path,
            self.concurrency,
        )
        # Appends go straight to the file (O_APPEND, one write per line): a line is on disk as soon as
        # it is answered, and no worker holds a lock across a write while others queue behind it.
        run.fd = os.open(output_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            run.answer_all(todo, self.concurrency)
        finally:
            os.close(run.fd)
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
    """The mutable state of one ``ConverseRunner.run`` call, shared by its worker threads."""

    def __init__(self, runner: ConverseRunner, *, total: int, already_done: int) -> None:
        self.runner = runner
        self.total = total
        self.already_done = already_done
        self.limiter = AdaptiveLimiter(
            runner.concurrency,
            success_window=runner.success_window,
            throttle_tolerance=runner.throttle_tolerance,
        )
        self.fd = -1
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.fatal: str | None = None
        self.completed = self.errors = self.unfinished = self.retries = self.throttles = 0
        self.started = time.monotonic()
        self.last_log = self.started

    def answer_all(self, todo: Sequence[tuple[EvalRecord, int]], concurrency: int) -> None:
        """Answer ``todo`` on ``concurrency`` worker threads, each taking the next item when it is free."""
        work: queue.SimpleQueue[tuple[EvalRecord, int]] = queue.SimpleQueue()
        for item in todo:
            work.put(item)
        # Every worker starts before the first request: a thread started later queues for the GIL behind
        # the requests already running, which delays its first request by up to a round.
        gate = threading.Event()

        def worker() -> None:
            gate.wait()
            while True:
                try:
                    record, sample = work.get_nowait()
                except queue.Empty:
                    return
                self.answer(record, sample)

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="converse") as pool:
            workers = [pool.submit(worker) for _ in range(min(concurrency, len(todo)))]
            gate.set()
            for future in workers:
                future.result()

    def answer(self, record: EvalRecord, sample: int) -> None:
        runner = self.runner
        request = converse_request(record, runner.model_id, runner.inference_config)
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
                response = runner.client.converse(**request)
            except ClientError as exc:
                self.limiter.release()
                code, status = _error_code(exc)
                last_problem = f"{code or status}: {exc}"
                if code in THROTTLE_CODES:
                    self.limiter.on_throttle(generation)
                    self._count("throttles")
                elif code in FATAL_CODES:
                    self._abort(last_problem)
                    break
                elif code not in TRANSIENT_CODES and status < 500:
                    self._write(record.id, sample, None, error=last_problem, attempts=attempt + 1)
                    return
            except _TRANSIENT_EXCEPTIONS as exc:
                self.limiter.release()
                last_problem = f"{type(exc).__name__}: {exc}"
            else:
                self.limiter.release()
                self.limiter.on_success()
                latency_ms = (time.monotonic() - started) * 1000
                self._write(
                    record.id,
                    sample,
                    response_text(response),
                    attempts=attempt + 1,
                    latency_ms=latency_ms,
                    usage=response.get("usage"),
                    stop_reason=response.get("stopReason"),
                )
                return
            if attempt + 1 < runner.max_attempts:
                self._count("retries")
                self.stop.wait(runner.backoff(attempt))
        with self.lock:
            self.unfinished += 1
        if last_problem and not self.stop.is_set():
            log.warning("giving up on id %s sample %d for this run: %s", record.id, sample, last_problem)

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
        encoded = (json.dumps(line, ensure_ascii=False) + "\n").encode()
        while encoded:  # a regular file takes the whole line in one write unless the disk is full
            encoded = encoded[os.write(self.fd, encoded) :]
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
        )

    def log_progress(self, *, final: bool = False) -> None:
        with self.lock:
            self.last_log = time.monotonic()
            elapsed = self.last_log - self.started
            answered = self.completed + self.errors
            done = self.already_done + answered
            throttles, retries = self.throttles, self.retries
        rate = answered / elapsed if elapsed > 0 else 0.0
        remaining = self.total - done
        eta = f"{remaining / rate:.0f}s" if rate > 0 and remaining else ("0s" if not remaining else "?")
        log.info(
            "inference %s%d/%d (%.0f%%) %.1f req/s, ETA %s; errors %d, throttled %d, retries %d, "
            "concurrency limit %d/%d",
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
        )
