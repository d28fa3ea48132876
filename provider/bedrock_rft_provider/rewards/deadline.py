"""Time bounds for reward code: a per-sample budget and regex searches that cannot run away.

On the main thread the bound is ``SIGALRM`` (``setitimer``): the interpreter and the ``re`` engine
both check for signals, so even a catastrophically backtracking pattern is interrupted. An enclosing
timer (an outer budget, or Airflow's ``execution_timeout``) is saved and re-armed with its remaining time.
Off the main thread no signal can be used: :func:`bounded_search` then runs the match in a child
process with a wall-clock deadline (stdlib only, so it works inside the Lambda zip; the third-party
``regex`` package's ``timeout=`` would need vendoring into the zip, which we chose not to do).
"""

from __future__ import annotations

import contextlib
import marshal
import re
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

from bedrock_rft_provider.rewards.isolation import Limits, run_isolated


class RewardTimeout(BaseException):
    """The reward's time budget ran out."""


def _alarm_usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _raise_timeout(signum: int, frame: Any) -> None:
    raise RewardTimeout("time budget exceeded")


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[bool]:
    """Raise :class:`RewardTimeout` in this block after ``seconds``; yields whether the bound is armed.

    Only on the main thread (elsewhere it yields False and bounds nothing). An outer timer that would
    fire sooner is left alone; otherwise it is restored afterwards with its remaining time.
    """
    if not seconds or seconds <= 0 or not _alarm_usable():
        yield False
        return
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    if outer_delay and outer_delay <= seconds:
        yield False
        return
    outer_handler = signal.signal(signal.SIGALRM, _raise_timeout)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_delay:
            remaining = max(0.001, outer_delay - (time.monotonic() - started))
            signal.setitimer(signal.ITIMER_REAL, remaining, outer_interval)


class SampleTimer:
    """Per-sample budgets inside :func:`batch_timer`, with no system call per sample in the usual case.

    ``arm`` notes the sample's deadline (``time.monotonic()``, no syscall) and ``disarm`` clears it. The
    one ``ITIMER_REAL`` is moved only when a sample's deadline comes before the alarm already set;
    when the alarm fires early (it was set for an earlier sample, or nothing is running) the handler
    re-arms it for the running sample's deadline and returns; it raises :class:`RewardTimeout` only once
    the running sample's own deadline has passed. So every sample is interrupted at its deadline, as
    with a fresh timer per sample, and a sample that finishes in time costs two clock reads.
    """

    __slots__ = ("_fires_at", "deadline", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline: float | None = None  # of the running sample; None between samples
        self._fires_at = 0.0  # monotonic time the armed alarm goes off (0: not armed)

    def arm(self, seconds: float | None = None) -> None:
        """Start this sample's budget: :class:`RewardTimeout` after ``seconds`` (default: the batch's)."""
        deadline = time.monotonic() + (seconds or self.seconds)
        self.deadline = deadline
        if not self._fires_at or deadline < self._fires_at:
            self._schedule(deadline)

    def disarm(self) -> None:
        """Stop the budget (call it inside the same ``try`` that catches :class:`RewardTimeout`)."""
        self.deadline = None

    def _schedule(self, at: float) -> None:
        self._fires_at = at
        signal.setitimer(signal.ITIMER_REAL, max(at - time.monotonic(), 1e-6))

    def on_alarm(self, signum: int, frame: Any) -> None:
        """The ``SIGALRM`` handler: raise for the running sample past its deadline, else re-arm."""
        self._fires_at = 0.0
        deadline = self.deadline
        if deadline is None:
            return  # between samples: the next arm() sets the alarm again
        if time.monotonic() >= deadline:
            self.deadline = None
            raise RewardTimeout("time budget exceeded")
        self._schedule(deadline)

    def stop(self) -> None:
        """Clear the alarm (at the end of the batch)."""
        self.deadline, self._fires_at = None, 0.0
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextlib.contextmanager
def batch_timer(seconds: float | None) -> Iterator[SampleTimer | None]:
    """One ``SIGALRM`` handler for a whole batch, so a sample's budget usually costs no system call.

    :func:`time_limit` per sample installs and restores the handler and reads the outer timer each
    time (five signal calls per sample, a quarter of a cheap reward's time). This yields a
    :class:`SampleTimer` when the bound can be armed cheaply, else ``None`` — off the main thread, with
    no budget, or when an outer timer is running (then the caller uses :func:`time_limit` per sample,
    which nests with it and keeps its remaining time).
    """
    if not seconds or seconds <= 0 or not _alarm_usable() or signal.getitimer(signal.ITIMER_REAL)[0]:
        yield None
        return
    timer = SampleTimer(seconds)
    outer_handler = signal.signal(signal.SIGALRM, timer.on_alarm)
    try:
        yield timer
    finally:
        timer.stop()
        signal.signal(signal.SIGALRM, outer_handler)


_SEARCH = r"""
import marshal, re, sys
job = marshal.loads(sys.stdin.buffer.read())
_confine(*_CONFINE_ARGS)
sys.stdout.write("1" if re.search(job["pattern"], job["text"], job["flags"]) else "0")
sys.stdout.flush()
"""


def bounded_search(pattern: str, text: str, flags: int = 0, timeout_s: float = 1.0) -> bool | None:
    """Whether ``pattern`` matches somewhere in ``text``; ``None`` when it ran out of time.

    Raises ``re.error`` for an invalid pattern (compiled here first, which is cheap and bounded).
    """
    compiled = re.compile(pattern, flags)
    if _alarm_usable():
        try:
            with time_limit(timeout_s):
                return compiled.search(text) is not None
        except RewardTimeout:
            return None
    job = marshal.dumps({"pattern": pattern, "text": text, "flags": int(flags)})
    outcome = run_isolated(_SEARCH, job, Limits(timeout_s=timeout_s, output_bytes=16), isolation="basic")
    if outcome.timed_out or outcome.stdout not in (b"0", b"1"):
        return None
    return outcome.stdout == b"1"
