"""Where an evaluation run's slot time went: inside requests, or idle at the start, between or at the end.

The runner's throughput is ``slots busy x concurrency / mean latency``: every slot-second is either
inside a request (its latency) or idle. :class:`StampedConverseRunner` is the real ``ConverseRunner``
noting each call's start and end on its worker thread (two clock reads and an append per call, next to
~1 ms of botocore work); :func:`split_idle` divides the idle slot time of one run into

    start     the runner's clock started -> a worker's first call (thread start-up, the queue)
    stagger   the first call of all workers -> this worker's first call (each first request waits for
              the ones before it: one interpreter lock serialises their ~1 ms of client work)
    between   one call's end -> the same worker's next call (the output line, the loop, backoff)
    tail      this worker's last answer -> the run's last answer (the queue is empty; the slot idles
              until the slowest worker is done. With slot phases spread over a request, that is about
              half a request per slot: 1 / (2 x requests per slot) of the run)
    close     the run's last answer -> the runner's clock stopped (the writer's flush)

each as a share of ``elapsed x concurrency``, so that ``1 - busy`` is their sum.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from bedrock_rft_provider.evaluation.inference import ConverseRunner
from bedrock_rft_provider.evaluation.runner import InferenceStats, Reply

IDLE_PARTS = ("start", "stagger", "between", "tail", "close")


class StampedConverseRunner(ConverseRunner):
    """``ConverseRunner`` keeping ``(thread id, start, end)`` in monotonic seconds for every call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spans: list[tuple[int, float, float]] = []

    def call(self, request: dict[str, Any]) -> Reply:
        started = time.monotonic()
        try:
            return super().call(request)
        finally:
            self.spans.append((threading.get_ident(), started, time.monotonic()))


def split_idle(
    spans: list[tuple[int, float, float]], stats: InferenceStats, returned: float
) -> dict[str, float]:
    """Shares of the run's slot time (``elapsed x concurrency``) idle in each part of ``IDLE_PARTS``.

    :param returned: ``time.monotonic()`` right after ``run`` returned (the clock stopped just before).
    :returns: ``{part: share}``; empty when no call was made.
    """
    if not spans:
        return {}
    by_worker: dict[int, list[tuple[float, float]]] = {}
    for worker, started, ended in spans:
        by_worker.setdefault(worker, []).append((started, ended))
    slots = len(by_worker)
    clock_start = returned - stats.elapsed_s
    first = min(calls[0][0] for calls in by_worker.values())
    last = max(max(end for _, end in calls) for calls in by_worker.values())
    idle = dict.fromkeys(IDLE_PARTS, 0.0)
    for calls in by_worker.values():
        calls.sort()
        idle["start"] += max(0.0, first - clock_start)
        idle["stagger"] += calls[0][0] - first
        idle["between"] += sum(b[0] - a[1] for a, b in itertools.pairwise(calls))
        idle["tail"] += last - calls[-1][1]
        idle["close"] += max(0.0, returned - last)
    slot_time = max(1e-9, stats.elapsed_s * slots)
    return {part: seconds / slot_time for part, seconds in idle.items()}
