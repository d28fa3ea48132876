"""Before a try submits (or reattaches to) an ``-a<n>`` attempt: the run's earlier attempts and their spend.

The accounting and the refusal are ``jobs.run_spend``; this module only reads the earlier jobs and their
stop markers (by name, as ``BedrockRFTHook.start_or_reattach`` finds them) and writes a marker when the
wait stops a job.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException
from botocore.exceptions import ClientError

from bedrock_rft_provider.errors import aws_error_code
from bedrock_rft_provider.hooks.bedrock_rft import NOT_LIVE_STATES, BedrockRFTHook
from bedrock_rft_provider.jobs import run_spend
from bedrock_rft_provider.jobs.spec import RFTJobSpec
from bedrock_rft_provider.jobs.spend_guard import WaitGuard

_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class RunCapSpentError(AirflowFailException):
    """A new attempt was refused before submission: not retried, as a retry would be refused again."""


def guard_for_this_try(hook: BedrockRFTHook, spec: RFTJobSpec, attempt: int, guard: WaitGuard) -> WaitGuard:
    """``guard`` with each cap reduced by what this run's earlier attempts spent.

    The earlier attempts are the ended jobs named ``spec.for_attempt(n)`` before the one this try will
    reattach to (or, when none is live, before the new one). Raises :class:`RunCapSpentError` when a cap
    is spent or a stop marker cannot be read; nothing has been submitted then.
    """
    if not guard.any:  # no cap: nothing to account for
        return guard
    names = list(dict.fromkeys(spec.for_attempt(n).job_name for n in range(1, max(attempt, 1) + 1)))
    earlier: list[run_spend.EarlierAttempt] = []
    reattaching = False
    try:
        for name in names:
            job = hook.find_job(name)
            if job is None:
                continue
            if job.get("status") not in NOT_LIVE_STATES:
                reattaching = True  # this try reattaches to it: only the attempts before it are earlier
                break
            earlier.append(_earlier_attempt(hook, spec, job, guard))
        return run_spend.guard_for_next_attempt(earlier, guard, reattaching=reattaching)
    except run_spend.RunSpendError as exc:
        raise RunCapSpentError(str(exc)) from None


def _earlier_attempt(
    hook: BedrockRFTHook, spec: RFTJobSpec, job: dict[str, Any], guard: WaitGuard
) -> run_spend.EarlierAttempt:
    from bedrock_rft_provider.triggers.spend_watch import NativeWatch  # the wait's own count

    name = str(job.get("jobName"))
    spend, _ = NativeWatch(hook, name, guard, hook.log).spend_and_metrics(job)
    uri = run_spend.marker_uri(spec.output_data_uri, name)
    try:
        text = hook.storage.read_text(uri)
    except ClientError as exc:
        if aws_error_code(exc) in _MISSING:
            return run_spend.EarlierAttempt(name, str(job.get("status")), spend)
        raise run_spend.RunSpendError(
            f"{uri}: cannot read the stop marker of earlier job {name} ({aws_error_code(exc)}); "
            "grant s3:GetObject on it, or delete it to count only the job's own spend"
        ) from None
    try:
        marker = run_spend.parse_marker(uri, text)
    except run_spend.RunSpendError as exc:
        raise run_spend.RunSpendError(
            f"{exc}; fix or delete it to clear again (the job's own spend is still counted)"
        ) from None
    return run_spend.EarlierAttempt(name, str(job.get("status")), spend, marker)
