"""What the evaluation runners' fake model endpoints share (``fake_runtime.FakeRuntime`` for Bedrock's
``converse``, ``fake_chat.FakeChat`` for Chat Completions): an answer per prompt after an injected
latency, a seeded share of throttled calls, per-prompt failures, and counts per prompt text."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

Failure = TypeVar("Failure")


class FakeModel(Generic[Failure]):
    """Call bookkeeping for a fake endpoint; a subclass renders requests, answers and errors.

    ``errors`` maps a prompt text to the failure that prompt gets (the subclass decides its shape).
    ``calls`` counts every call per prompt text, ``answered`` the calls that got an answer;
    ``max_in_flight`` is the most calls seen at once (the runner's real concurrency).
    """

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        throttle_rate: float = 0.0,
        seed: int = 0,
        answer: Callable[[dict[str, Any]], str] | None = None,
        errors: dict[str, Failure] | None = None,
    ) -> None:
        self.latency_s = latency_s
        self.throttle_rate = throttle_rate
        self.answer = answer or (lambda request: f"The answer.\n#### {len(self.prompt_text(request))}")
        self.errors: dict[str, Failure] = errors or {}
        self.calls: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.throttled = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def prompt_text(self, request: dict[str, Any]) -> str:
        """The user text of a request: what calls are counted and failures chosen by."""
        raise NotImplementedError

    @contextmanager
    def call(self, text: str) -> Iterator[bool]:
        """One call of prompt ``text``, in flight for its duration; yields whether to throttle it
        (after the latency; a throttled call is counted in ``throttled``)."""
        with self._lock:
            self.calls[text] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            throttle = self._rng.random() < self.throttle_rate
            if throttle:
                self.throttled += 1
        try:
            if self.latency_s:
                time.sleep(self.latency_s)
            yield throttle
        finally:
            with self._lock:
                self.in_flight -= 1

    def reply(self, text: str, request: dict[str, Any]) -> str:
        """The answer to ``request``, counted as answered."""
        content = self.answer(request)
        with self._lock:
            self.answered[text] += 1
        return content
