"""What the RFT job operator decides before it submits anything, from its rendered arguments.

No Airflow here: every check raises a ConfigError naming the field before any AWS call, so a typo in a
templated flag or a guard can never cost a job. The operator calls :func:`check_submission` first,
:func:`native_job_spec` for the native backend's request, then :func:`reuse_key` (which reads the data
and grader through the hook it is given) to find a job it may reuse instead of paying again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.backends import OPEN_WEIGHT, choose_backend
from bedrock_rft_provider.jobs.budget import CAP_NAMES
from bedrock_rft_provider.jobs.naming import custom_model_name_for_run, job_name_for_run
from bedrock_rft_provider.jobs.spec import RFTJobSpec
from bedrock_rft_provider.jobs.spend_guard import WaitGuard
from bedrock_rft_provider.jobs.training_key import TrainingKey, training_key
from bedrock_rft_provider.templated import as_bool, is_unset

# The operator arguments that go into the native request as they are (names are derived when unset).
NATIVE_SPEC_ARGS = (
    "job_name",
    "custom_model_name",
    "base_model_id",
    "role_arn",
    "training_data_uri",
    "output_data_uri",
    "reward_lambda_arn",
    "hyperparameters",
    "validation_data_uri",
    "vpc_config",
    "kms_key_id",
    "tags",
    "invocation_logs",
)


class JobInputs(Protocol):
    """What a training key is read from (``BedrockRFTHook`` has both)."""

    def content_sha256(self, uri: str) -> str: ...

    def grader_identity(self, lambda_arn: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Submission:
    """The checked choices of one submission: which backend, whether to retrain and wait, the guard."""

    backend: str
    force_retrain: bool
    wait_for_completion: bool
    guard: WaitGuard


def spend_guard_with_caps(spend_guard: Any, caps: Mapping[str, Any]) -> WaitGuard:
    """The rendered ``spend_guard``, validated, with each cap it leaves unset taken from ``caps``.

    ``caps`` holds the operator's own ``max_budget`` / ``max_training_hours`` / ``max_grader_invocations``,
    so a cap given once is both refused at submission (against the forecast) and enforced while the job
    trains. A ``spend_guard`` that is not a dict is left to ``WaitGuard.from_dict`` to name.

    :raises ConfigError: naming the bad field (``spend_guard``, a cap, ``prices.<key>``, ``health.<check>``).
    """
    values = dict(spend_guard or {}) if isinstance(spend_guard, Mapping) else spend_guard
    if isinstance(values, dict):
        for name in CAP_NAMES:
            if is_unset(values.get(name)) and not is_unset(caps.get(name)):
                values[name] = caps[name]
    return WaitGuard.from_dict(values)


def check_submission(
    *,
    base_model_id: str,
    backend: str | None,
    invocation_logs: Mapping[str, Any] | None,
    force_retrain: bool | str,
    wait_for_completion: bool | str,
    spend_guard: Any,
    caps: Mapping[str, Any],
) -> Submission:
    """Check the arguments every backend shares; flags may be rendered strings (true/false, 1/0, ...).

    :raises ConfigError: a flag that does not read true/false, a ``backend`` that contradicts the
        model, a bad ``spend_guard``, or ``invocation_logs`` on the open-weight backend (it trains on a
        file only).
    """
    guard = spend_guard_with_caps(spend_guard, caps)
    # Never silently False: that would quietly reuse a model the user asked to retrain.
    force = as_bool("force_retrain", force_retrain, default=False)
    wait = as_bool("wait_for_completion", wait_for_completion, default=True)
    chosen = choose_backend(base_model_id, backend)
    if chosen == OPEN_WEIGHT and invocation_logs:
        raise ConfigError("invocation_logs", "open-weight models train on a file; give training_data_uri")
    return Submission(backend=chosen, force_retrain=force, wait_for_completion=wait, guard=guard)


def native_job_spec(
    *,
    dag_id: str,
    run_id: str,
    task_id: str,
    namespace: str,
    job_name: str | None,
    custom_model_name: str | None,
    tags: Mapping[str, str] | None,
    **request: Any,
) -> RFTJobSpec:
    """The validated native request (``request``: the other ``RFTJobSpec.build`` fields); an unset job or
    model name is derived from the run, so a retry or clear names (and reattaches to) the same job.
    ``tags`` go on both the job and the custom model.

    :raises ConfigErrors: listing every bad field (see ``RFTJobSpec.build``).
    """
    return RFTJobSpec.build(
        job_name=job_name or job_name_for_run(dag_id, run_id, task_id, namespace=namespace),
        custom_model_name=custom_model_name
        or custom_model_name_for_run(dag_id, run_id, task_id, namespace=namespace),
        job_tags=tags,
        custom_model_tags=tags,
        namespace=namespace,
        **request,
    )


def reuse_key(spec: RFTJobSpec, inputs: JobInputs) -> tuple[TrainingKey | None, str]:
    """``(key, "")``, or ``(None, why)`` when data-level reuse is off for this run.

    Reuse is an optimisation: without it the job still starts (or fails on the same cause), so an AWS
    error while hashing the data or reading the grader turns reuse off instead of failing the task.
    """
    if spec.invocation_logs:  # logs keep arriving: no content hash says "same data"
        return None, "the job trains on invocation logs"
    uris = (spec.training_data_uri, *spec.validation_data_uris)
    try:
        data = [(uri, inputs.content_sha256(uri)) for uri in uris]
        grader = inputs.grader_identity(spec.reward_lambda_arn)
    except (BotoCoreError, ClientError) as exc:
        return None, f"cannot hash the data or read the grader ({exc})"
    return training_key(spec, data_sha256=data, grader=grader, namespace=spec.namespace), ""
