"""Why a deferred or running RFT task is being killed: a user stopping it, or a clear / retry.

Airflow (>= 3.3) calls ``on_kill`` both when a deferred task is *cleared* ("run it again") and when it
is *marked failed* ("stop it"); a running task is killed in both cases too. Only the second should
stop paid training. By the time ``on_kill`` runs, Airflow has already written the task instance's new
state, so we read it back through the execution API (the supervisor channel the triggerer and the
task runner both have): ``failed`` means a user marked it failed; anything else (no state after a
clear, ``restarting``, ``scheduled``, ``up_for_retry``, ``success``, ...) means the job must keep
running so the next try reattaches to it. When the state cannot be read, the job is left running
(the safe side: a clear never throws paid training away) and the log says how to stop it.
"""

from __future__ import annotations

import logging
from typing import Any

USER_STOP_STATES = frozenset({"failed"})
HOW_TO_STOP = (
    "mark the task failed to stop it, or run "
    "`aws bedrock stop-model-customization-job --job-identifier {job}`"
)


def current_task_state(task_instance: Any) -> str | None:
    """The task instance's state in the metadata database now (raises when it cannot be read)."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    map_index = getattr(task_instance, "map_index", -1)
    map_index = -1 if map_index is None else int(map_index)
    states = RuntimeTaskInstance.get_task_states(
        dag_id=task_instance.dag_id,
        task_ids=[task_instance.task_id],
        run_ids=[task_instance.run_id],
        map_index=map_index if map_index >= 0 else None,
    )
    key = task_instance.task_id if map_index < 0 else f"{task_instance.task_id}_{map_index}"
    state = states.get(task_instance.run_id, {}).get(key)
    return None if state is None else str(getattr(state, "value", state))


def user_stopped(task_instance: Any, job: str, log: logging.Logger | Any) -> bool:
    """True only when the task was marked failed; False for a clear, a retry, or an unknown state."""
    if task_instance is None:
        log.warning("Cannot tell why the task is killed; leaving RFT job %s running (%s)", job, _how(job))
        return False
    try:
        state = current_task_state(task_instance)
    except Exception as exc:  # no supervisor channel (older Airflow, a unit test) or an API error
        log.warning("Cannot read the task's state (%s); leaving RFT job %s running (%s)", exc, job, _how(job))
        return False
    if state in USER_STOP_STATES:
        log.info("Task was marked %s: stopping RFT job %s", state, job)
        return True
    log.info(
        "Task is now %s (cleared or retried, not stopped): RFT job %s keeps running and the next try "
        "reattaches to it (%s)",
        state or "cleared",
        job,
        _how(job),
    )
    return False


def _how(job: str) -> str:
    return HOW_TO_STOP.format(job=job)
