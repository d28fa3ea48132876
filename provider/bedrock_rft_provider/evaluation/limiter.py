"""AdaptiveLimiter: the evaluation runner's AIMD concurrency limit (moved out of inference.py)."""

from __future__ import annotations

import threading
from collections import deque


class AdaptiveLimiter:
    """AIMD concurrency limit: halve on sustained throttling, add one after ``success_window`` successes.

    Throttles are a signal only when they are more than ``throttle_tolerance`` of the recent outcomes
    (the last ``2 * max_limit``, at least 20): an occasional throttle is absorbed by a retry, while a
    service pushed past its quota throttles a large share of requests and gets fewer of them. A
    throttle lowers the limit once per "generation", so the burst of throttles from requests already
    in flight when the limit dropped does not collapse it to one.
    """

    def __init__(self, max_limit: int, *, success_window: int = 10, throttle_tolerance: float = 0.2) -> None:
        self.max_limit = max_limit
        self.limit = max_limit
        self.lowest = max_limit
        self.success_window = success_window
        self.throttle_tolerance = throttle_tolerance
        self._recent: deque[int] = deque(maxlen=max(20, 2 * max_limit))
        self._recent_throttles = 0
        self._in_flight = 0
        self._successes = 0
        self._generation = 0
        self._cond = threading.Condition()

    def acquire(self) -> int:
        with self._cond:
            while self._in_flight >= self.limit:
                self._cond.wait()
            self._in_flight += 1
            return self._generation

    def release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify()

    def _record(self, throttled: int) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._recent_throttles -= self._recent[0]
        self._recent.append(throttled)
        self._recent_throttles += throttled

    def on_success(self) -> None:
        with self._cond:
            self._record(0)
            self._successes += 1
            if self._successes >= self.success_window and self.limit < self.max_limit:
                self.limit += 1
                self._successes = 0
                self._cond.notify()

    def on_throttle(self, generation: int) -> None:
        with self._cond:
            self._record(1)
            share = self._recent_throttles / max(len(self._recent), 10)
            if generation != self._generation or share <= self.throttle_tolerance:
                return
            self._generation += 1
            self._successes = 0
            self.limit = max(1, self.limit // 2)
            self.lowest = min(self.lowest, self.limit)
