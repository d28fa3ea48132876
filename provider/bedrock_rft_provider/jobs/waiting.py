"""How long a wait may last: the one rule every operator, sensor and trigger of this provider uses.

The vocabulary is the amazon provider's. Operators check every ``waiter_delay`` seconds, at most
``waiter_max_attempts`` times; sensors check every ``poke_interval`` seconds, at most ``max_retries``
times and for at most ``timeout`` seconds. Deferred or not, a wait gives up at the same moment: the
trigger makes the checks the worker would have made, and the deferral's own ``timeout`` is a safety
net one check later (for a trigger restarted with a fresh count, e.g. after a triggerer restart).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, NamedTuple

from bedrock_rft_provider.errors import ConfigError

DEFAULT_WAITER_DELAY = 120
DEFAULT_WAITER_MAX_ATTEMPTS = 720  # 24 h at the default delay: RFT takes hours
DEFAULT_MAX_WAIT = timedelta(hours=24)  # what the deprecated ``max_wait`` defaulted to


# A NamedTuple, not a frozen dataclass: the class is created whenever a DAG file using it is
# parsed, and costs a sixth of a frozen dataclass's (no exec'd methods).
class WaitLimit(NamedTuple):
    """What is left of a wait: checks ``waiter_delay`` seconds apart, for ``seconds`` more.

    ``seconds`` is ``math.inf`` for checks without a delay and without a ``timeout`` (only the count
    bounds them).
    """

    waiter_delay: float
    waiter_max_attempts: int
    seconds: float

    @property
    def expired(self) -> bool:
        """True when no check is left: the wait has given up."""
        return self.waiter_max_attempts <= 0

    @property
    def defer_timeout(self) -> timedelta | None:
        """The deferral's safety net: one check after the trigger's last; None when unbounded."""
        if math.isinf(self.seconds):
            return None
        return timedelta(seconds=self.seconds + self.waiter_delay)

    def describe(self) -> str:
        """``"24 h"``, ``"30 min"`` or ``"45 s"``; ``"<n> checks"`` when only the count bounds it."""
        if math.isinf(self.seconds):
            return f"{self.waiter_max_attempts} checks"
        for unit, size in (("h", 3600), ("min", 60)):
            if self.seconds >= size:
                return f"{self.seconds / size:g} {unit}"
        return f"{self.seconds:g} s"


def wait_limit(
    *,
    waiter_delay: float,
    waiter_max_attempts: int,
    timeout: float | None = None,
    elapsed: float = 0.0,
    delay_field: str = "waiter_delay",
    attempts_field: str = "waiter_max_attempts",
) -> WaitLimit:
    """The rest of a wait of ``waiter_max_attempts`` checks ``waiter_delay`` seconds apart, capped at
    ``timeout`` seconds, ``elapsed`` seconds after its first check.

    The whole wait lasts ``min(timeout, waiter_delay * waiter_max_attempts)`` seconds; what is left is
    counted in whole checks (rounded up, so the last check falls at or after the limit). A sensor passes
    ``poke_interval``/``max_retries`` and names them in ``delay_field``/``attempts_field`` for errors.

    :raises ConfigError: a negative delay or timeout, or fewer than one attempt.
    """
    if not waiter_delay >= 0:  # also rejects NaN
        raise ConfigError(delay_field, f"{waiter_delay!r} seconds; use 0 or more")
    if isinstance(waiter_max_attempts, bool) or not isinstance(waiter_max_attempts, int):
        raise ConfigError(attempts_field, f"{waiter_max_attempts!r} is not a whole number of checks")
    if waiter_max_attempts < 1:
        raise ConfigError(attempts_field, f"{waiter_max_attempts} checks; use 1 or more")
    if timeout is not None and not timeout >= 0:
        raise ConfigError("timeout", f"{timeout!r} seconds; use 0 or more")
    budget = waiter_delay * waiter_max_attempts if waiter_delay > 0 else math.inf
    if timeout is not None:
        budget = min(budget, timeout)
    left = max(0.0, budget - max(elapsed, 0.0))
    if left <= 0:
        attempts = 0
    elif waiter_delay > 0:
        attempts = min(waiter_max_attempts, math.ceil(left / waiter_delay))
    else:
        attempts = waiter_max_attempts
    return WaitLimit(waiter_delay=float(waiter_delay), waiter_max_attempts=attempts, seconds=left)


def attempts_within(duration_s: float, waiter_delay: float) -> int:
    """How many checks ``waiter_delay`` seconds apart fill ``duration_s`` seconds (at least one).

    Maps the old ``max_wait`` duration onto ``waiter_max_attempts`` exactly as the operator counted it.
    """
    return max(1, math.ceil(duration_s / max(waiter_delay, 1)))


# -- the deprecated ``poll_interval`` / ``max_wait`` of the RFT job operator, in today's vocabulary ----


def from_poll_interval(value: int, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``poll_interval`` seconds -> ``waiter_delay`` (and the attempts that keep the old 24 h wait)."""
    # ``max_wait`` (default 24 h) stayed put when only ``poll_interval`` changed: keep that duration.
    if kwargs.get("waiter_max_attempts") is not None or kwargs.get("max_wait") is not None:
        return {"waiter_delay": value}
    return {
        "waiter_delay": value,
        "waiter_max_attempts": attempts_within(DEFAULT_MAX_WAIT.total_seconds(), value),
    }


def from_max_wait(value: timedelta | float, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``max_wait`` (a timedelta or seconds) -> ``waiter_max_attempts`` at the given ``waiter_delay``."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    delay = kwargs.get("waiter_delay", DEFAULT_WAITER_DELAY)
    return {"waiter_max_attempts": attempts_within(seconds, delay)}
