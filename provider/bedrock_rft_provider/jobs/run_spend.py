"""A DAG run's spend across its job attempts: the caps bound the run, not each ``<name>-a<n>`` job.

A clear after a stopped job starts a fresh attempt (``jobs.naming.attempt_name``). Without this, each
attempt got the whole caps again, so every clear could spend them again. Here the earlier attempts'
spend is summed and the new attempt's guard gets what is left; when nothing is left (an earlier attempt
was stopped by a cap, or the attempts together reached one) the new attempt is refused.

Why an attempt stopped is kept in a small JSON *stop marker* below the run's own output prefix
(``<output_data_uri>/bedrock-rft-spend-stops/<job_name>.json``), written by the wait just before it
stops the job. Not a job tag: ``bedrock:TagResource`` would be a new IAM permission for the caller,
while the output prefix is already written by this provider and read by the wait.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from bedrock_rft_provider.errors import BedrockRFTError
from bedrock_rft_provider.jobs.spend_guard import Spend, Verdict, WaitGuard

MARKER_FOLDER = "bedrock-rft-spend-stops"
MARKER_VERSION = 1
# Each cap and the ``Spend`` field it bounds.
CAP_UNITS = {
    "max_budget": "money",
    "max_training_hours": "training_hours",
    "max_grader_invocations": "grader_invocations",
}
_SMALLEST = 1e-9  # caps must stay positive (WaitGuard); any spend at all reaches this one


class RunSpendError(BedrockRFTError):
    """A new attempt is refused: the run's caps are spent, or its stop markers cannot be read."""


def marker_uri(output_data_uri: str, job_name: str) -> str:
    """Where the stop marker of ``job_name`` lives below the run's output prefix."""
    return f"{output_data_uri.rstrip('/')}/{MARKER_FOLDER}/{job_name}.json"


def caps_reached(spend: Mapping[str, Any], guard: WaitGuard) -> list[str]:
    """Names of the guard's caps that ``spend`` (a ``Spend`` as a dict) has reached."""
    reached = []
    for name, unit in CAP_UNITS.items():
        cap, used = getattr(guard, name), spend.get(unit)
        if cap is not None and used is not None and used >= cap:
            reached.append(name)
    return reached


def stop_marker(job_name: str, verdict: Verdict, guard: WaitGuard) -> str:
    """The marker's JSON text: the job, the caps its guard had, those reached, why and what it spent."""
    spend = asdict(verdict.spend)
    caps = {name: getattr(guard, name) for name in CAP_UNITS if getattr(guard, name) is not None}
    body = {
        "version": MARKER_VERSION,
        "job": job_name,
        "caps": caps,
        "caps_reached": caps_reached(spend, guard),
        "reasons": list(verdict.reasons),
        "spend": spend,
    }
    return json.dumps(body, sort_keys=True)


@dataclass(frozen=True)
class StopMarker:
    """A parsed stop marker: the caps that stopped the job and the spend it recorded then."""

    job: str
    caps_reached: tuple[str, ...]
    spend: Mapping[str, float | None]


def parse_marker(uri: str, text: str) -> StopMarker:
    """Read a marker; anything unexpected is a :class:`RunSpendError` naming ``uri``."""
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise RunSpendError(f"{uri}: stop marker is not JSON ({exc})") from None
    if not isinstance(body, dict) or body.get("version") != MARKER_VERSION:
        raise RunSpendError(f"{uri}: not a version-{MARKER_VERSION} stop marker")
    reached, spend = body.get("caps_reached"), body.get("spend")
    if not (isinstance(reached, list) and all(r in CAP_UNITS for r in reached)):
        raise RunSpendError(f"{uri}: caps_reached must be a list of {', '.join(CAP_UNITS)}")
    if not isinstance(spend, dict) or not all(
        spend.get(u) is None or _is_number(spend.get(u)) for u in CAP_UNITS.values()
    ):
        raise RunSpendError(f"{uri}: spend must map {', '.join(CAP_UNITS.values())} to numbers")
    return StopMarker(str(body.get("job")), tuple(reached), {u: spend.get(u) for u in CAP_UNITS.values()})


@dataclass(frozen=True)
class EarlierAttempt:
    """One earlier attempt of the run: its job, how it ended, what it spent, the caps that stopped it."""

    job_name: str
    status: str
    spend: Spend
    marker: StopMarker | None = None

    def used(self, unit: str) -> float:
        """Spent in ``unit``: the larger of the job's own count now and what its stop marker recorded."""
        counted = getattr(self.spend, unit)
        recorded = self.marker.spend.get(unit) if self.marker else None
        return max(float(counted or 0), float(recorded or 0))


def run_total(attempts: Sequence[EarlierAttempt], unit: str) -> float:
    """The run's spend in ``unit`` (a ``Spend`` field) over its earlier attempts."""
    return sum(a.used(unit) for a in attempts)


def guard_for_next_attempt(
    attempts: Sequence[EarlierAttempt], guard: WaitGuard, *, reattaching: bool = False
) -> WaitGuard:
    """The guard an attempt waits under: each cap minus what the earlier attempts spent.

    Raises :class:`RunSpendError` (one line: the cap, the run's spend, how to proceed) when a cap is
    already spent, e.g. an earlier attempt was stopped by it and the cap was not raised since. When
    ``reattaching`` to a live attempt (nothing new is paid for) a spent cap is not refused but set to
    its smallest value instead, so the wait stops that attempt at its first check.
    """
    if not attempts:
        return guard
    remaining: dict[str, float | int] = {}
    for name, unit in CAP_UNITS.items():
        cap = getattr(guard, name)
        if cap is None:
            continue
        spent = run_total(attempts, unit)
        if spent >= cap and not reattaching:
            raise RunSpendError(_refusal(attempts, name, unit, cap, spent))
        left = max(cap - spent, _SMALLEST)
        remaining[name] = max(1, int(left)) if name == "max_grader_invocations" else left
    return replace(guard, **remaining)  # type: ignore[arg-type]


def describe(attempts: Sequence[EarlierAttempt]) -> str:
    """``rft-x (Stopped, stopped by max_budget): 1.20 training hours, ...; rft-x-a2 (Failed): ...``."""
    parts = []
    for a in attempts:
        why = f", stopped by {', '.join(a.marker.caps_reached)}" if a.marker and a.marker.caps_reached else ""
        parts.append(f"{a.job_name} ({a.status}{why}): {a.spend.describe()}")
    return "; ".join(parts)


def _refusal(attempts: Sequence[EarlierAttempt], name: str, unit: str, cap: float, spent: float) -> str:
    stopped = [a.job_name for a in attempts if a.marker and name in a.marker.caps_reached]
    how = f"earlier job {', '.join(stopped)} was stopped by it" if stopped else "its earlier jobs spent it"
    amount = f"{spent:.2f}" if unit != "grader_invocations" else f"~{int(spent)}"
    label = "at the given prices" if unit == "money" else unit.replace("_", " ")
    return (
        f"{name}={cap:g} is already spent by this run ({amount} {label}; {how}), so a new "
        f"job would pay again. Raise {name} above {amount} (or unset it) and clear the task to train on "
        f"with the rest. Earlier jobs: {describe(attempts)}"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
