"""The open-weight RFT job request: validated locally, rendered as ``fine_tuning.jobs.create`` takes it.

Facts relied on (bedrock-rft-facts §9; Bedrock user guide ``fine-tuning-openai-job-create.html`` and the
aws-samples gpt-oss / Qwen3 / Nemotron notebooks):

- The body is ``{model, training_file, validation_file?, method: {type: "reinforcement", reinforcement:
  {grader: {type: "lambda", lambda: {function: <Lambda ARN>}}, hyperparameters: {n_epochs, batch_size,
  learning_rate_multiplier}}}}``. AWS's own SDK example passes ``method`` through ``extra_body`` because
  the ``openai`` client's grader union has no ``lambda`` member; the bytes on the wire are the same.
- ``suffix`` is not supported (the user guide's example comments it out saying so).
- Other OpenAI RFT hyperparameters (``eval_interval``, ``eval_samples``, ``compute_multiplier``,
  ``reasoning_effort``) are undocumented on Bedrock, so they are refused rather than sent.
- Hyperparameter bounds are undocumented on Bedrock (the only example is n_epochs 1, batch_size 4,
  learning_rate_multiplier 1.0). The bounds below are ours, chosen defensively, and the error message
  says so: n_epochs 1-50 (the native epochCount range and OpenAI's documented range), batch_size 1-512
  (the native maximum; the example's 4 is below the native minimum 16, so that minimum does not apply),
  learning_rate_multiplier 0.001-10.
- Idempotency keys and job metadata are undocumented: reattachment does not depend on them (see
  :func:`training_filename` and :func:`pick_job`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from bedrock_rft_provider.errors import ConfigError, raise_config_errors
from bedrock_rft_provider.jobs.backends import OPEN_WEIGHT, choose_backend
from bedrock_rft_provider.jobs.hyperparameters import BOUNDS as NATIVE_BOUNDS
from bedrock_rft_provider.jobs.hyperparameters import Bound, check_bound, check_fields
from bedrock_rft_provider.jobs.naming import check_namespace
from bedrock_rft_provider.jobs.training_key import TrainingKey, key_from_inputs
from bedrock_rft_provider.jobs.validation import check_lambda_arn, check_s3_uri

BOUNDS: dict[str, Bound] = {
    "n_epochs": Bound("n_epochs", int, 1, 50, documented=False),
    "batch_size": Bound("batch_size", int, 1, 512, documented=False),
    "learning_rate_multiplier": Bound("learning_rate_multiplier", float, 0.001, 10, documented=False),
}
# OpenAI RFT hyperparameters Bedrock does not document: refused, never sent.
UNDOCUMENTED_OPENAI = frozenset({"eval_interval", "eval_samples", "compute_multiplier", "reasoning_effort"})
_NATIVE_NAMES = {**{n: n for n in NATIVE_BOUNDS}, **{b.api_name: n for n, b in NATIVE_BOUNDS.items()}}
_NATIVE_EQUIVALENT = {"epoch_count": "n_epochs", "learning_rate": "learning_rate_multiplier"}

LIVE_STATES = frozenset({"validating_files", "queued", "running"})
SUCCESS_STATES = frozenset({"succeeded"})
# Only "succeeded" and "cancelled" appear in Bedrock's docs; "failed" is the OpenAI API's.
FAILURE_STATES = frozenset({"failed", "cancelled"})
TERMINAL_STATES = SUCCESS_STATES | FAILURE_STATES
FILE_PURPOSE = "fine-tune"
FILENAME_PREFIX = "bedrock-rft"


@dataclass(frozen=True)
class OpenWeightHyperParameters:
    """``method.reinforcement.hyperparameters``; an unset field is omitted (the service picks it)."""

    n_epochs: int | None = None
    batch_size: int | None = None
    learning_rate_multiplier: float | None = None

    def __post_init__(self) -> None:
        check_fields(self, lambda name, value: check_bound(f"hyperparameters.{name}", BOUNDS[name], value))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> OpenWeightHyperParameters:
        """Build from ``n_epochs``, ``batch_size``, ``learning_rate_multiplier``; anything else is refused."""
        if values is None:
            return cls()
        if not isinstance(values, Mapping):
            raise ConfigError("hyperparameters", f"must be a dict, got {type(values).__name__}")
        errors: list[ConfigError] = []
        for key in values:
            if key in BOUNDS:
                continue
            errors.append(ConfigError(f"hyperparameters.{key}", _why_refused(str(key))))
        raise_config_errors(errors)
        return cls(**{str(k): v for k, v in values.items()})

    def to_request(self) -> dict[str, Any]:
        """The set fields, by their API names."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


def _why_refused(key: str) -> str:
    allowed = ", ".join(BOUNDS)
    if key in _NATIVE_NAMES:
        native = _NATIVE_NAMES[key]
        hint = f"; use {_NATIVE_EQUIVALENT[native]}" if native in _NATIVE_EQUIVALENT else ""
        return f"is a Nova (native backend) hyperparameter; the open-weight API takes {allowed}{hint}"
    if key in UNDOCUMENTED_OPENAI:
        return f"is an OpenAI RFT hyperparameter Bedrock does not document; allowed: {allowed}"
    return f"is not an open-weight RFT hyperparameter; allowed: {allowed}"


@dataclass(frozen=True)
class OpenWeightJobSpec:
    """Everything one open-weight RFT job needs. Build it with :meth:`build`, which validates every field."""

    backend: ClassVar[str] = OPEN_WEIGHT

    base_model_id: str
    training_data_uri: str
    reward_lambda_arn: str
    hyperparameters: OpenWeightHyperParameters = field(default_factory=OpenWeightHyperParameters)
    validation_data_uri: str | None = None
    namespace: str = ""

    @classmethod
    def build(
        cls,
        *,
        base_model_id: Any,
        training_data_uri: Any,
        reward_lambda_arn: Any,
        hyperparameters: OpenWeightHyperParameters | Mapping[str, Any] | None = None,
        validation_data_uri: Any = None,
        namespace: str = "",
        backend: str | None = None,
        unsupported: Mapping[str, Any] | None = None,
    ) -> OpenWeightJobSpec:
        """Validate every field; raise ConfigErrors listing every bad one, before any call.

        ``unsupported`` holds arguments the open-weight API has no place for (``suffix``, an explicit
        ``custom_model_name`` or ``job_name``, ``kms_key_id``, ``vpc_config``, ``tags``): any that is set
        is an error naming it, rather than silently dropped.
        """
        errors: list[ConfigError] = []

        def checked(check: Any) -> Any:
            try:
                return check()
            except ConfigError as exc:
                errors.extend(getattr(exc, "errors", None) or [exc])
            return None

        values = {
            "base_model_id": checked(lambda: _open_weight_model(base_model_id, backend)),
            "training_data_uri": checked(lambda: check_s3_uri("training_data_uri", training_data_uri)),
            "reward_lambda_arn": checked(lambda: check_lambda_arn("reward_lambda_arn", reward_lambda_arn)),
            "hyperparameters": checked(lambda: _hyperparameters(hyperparameters)),
            "validation_data_uri": checked(lambda: _validation_uri(validation_data_uri)),
            "namespace": checked(lambda: check_namespace("namespace", namespace) if namespace else ""),
        }
        for name, value in (unsupported or {}).items():
            if value not in (None, "", {}, [], ()):
                errors.append(
                    ConfigError(name, UNSUPPORTED.get(name, "is not supported by the open-weight API"))
                )
        raise_config_errors(errors)
        return cls(**values)

    def data_uris(self) -> tuple[str, ...]:
        """Training first, then validation: the order the training key hashes them in."""
        return (self.training_data_uri, *((self.validation_data_uri,) if self.validation_data_uri else ()))

    def to_request(self, *, training_file: str, validation_file: str | None = None) -> dict[str, Any]:
        """The JSON body of ``POST /v1/fine_tuning/jobs`` for the uploaded files' ids."""
        body: dict[str, Any] = {
            "model": self.base_model_id,
            "training_file": training_file,
            "method": {
                "type": "reinforcement",
                "reinforcement": {
                    "grader": {"type": "lambda", "lambda": {"function": self.reward_lambda_arn}},
                    "hyperparameters": self.hyperparameters.to_request(),
                },
            },
        }
        if validation_file:
            body["validation_file"] = validation_file
        return body


UNSUPPORTED = {
    "suffix": "is not supported by Bedrock's open-weight fine-tuning API "
    "(user guide fine-tuning-openai-job-create)",
    "custom_model_name": "cannot be set on the open-weight backend: the service names the fine-tuned model "
    "itself (suffix is not supported)",
    "job_name": "cannot be set on the open-weight backend: its jobs have service-assigned ids only",
    "kms_key_id": "is not documented for the open-weight API; remove it or use a native-backend model",
    "vpc_config": "is not documented for the open-weight API; remove it or use a native-backend model",
    "tags": "the open-weight API has no job tags (metadata is undocumented on Bedrock); remove them",
}


def _open_weight_model(base_model_id: Any, backend: str | None) -> str:
    if not isinstance(base_model_id, str) or not base_model_id:
        raise ConfigError("base_model_id", "is required and must be a model id string")
    chosen = choose_backend(base_model_id, backend or OPEN_WEIGHT)
    if chosen != OPEN_WEIGHT:  # only reachable through a contradicting override, which choose_backend refuses
        raise ConfigError("backend", f"{base_model_id!r} is not an open-weight model")
    return base_model_id


def _hyperparameters(
    value: OpenWeightHyperParameters | Mapping[str, Any] | None,
) -> OpenWeightHyperParameters:
    if isinstance(value, OpenWeightHyperParameters):
        return value
    return OpenWeightHyperParameters.from_dict(value)


def _validation_uri(value: Any) -> str | None:
    if value is None or value in ("", [], ()):
        return None
    if isinstance(value, (list, tuple)):
        if len(value) > 1:
            raise ConfigError(
                "validation_data_uri",
                f"has {len(value)} entries; the open-weight API takes one validation file",
            )
        value = value[0]
    return check_s3_uri("validation_data_uri", value)


def open_weight_training_key(
    spec: OpenWeightJobSpec,
    *,
    data_sha256: Sequence[tuple[str, str]],
    grader: Mapping[str, Any],
    run_fingerprint: str | None = None,
) -> TrainingKey:
    """The key of an open-weight job: data sha256, grader identity, base model, hyperparameters, namespace.

    ``run_fingerprint`` (set only under ``force_retrain``) makes the key this run's own, so a forced run
    trains afresh while its own retries still find its job.
    """
    inputs: dict[str, Any] = {
        "backend": OPEN_WEIGHT,
        "namespace": spec.namespace,
        "data_sha256": tuple(data_sha256),
        "grader": dict(grader),
        "base_model_id": spec.base_model_id,
        "hyperparameters": spec.hyperparameters.to_request(),
    }
    if run_fingerprint:
        inputs["run"] = run_fingerprint
    return key_from_inputs(inputs)


def training_filename(key: TrainingKey, role: str) -> str:
    """``bedrock-rft-<namespace>-<key digest>-<role>.jsonl``: the upload's name is its identity.

    Files are the only objects this API lets us name, so the name carries the deployment namespace and
    the training key: a retry finds the file it uploaded, and the jobs trained on it, by this name alone.
    """
    namespace = str(key.inputs.get("namespace") or "default")
    return f"{FILENAME_PREFIX}-{namespace}-{key.digest[:40]}-{role}.jsonl"


def reusable_files(files: Iterable[Mapping[str, Any]], filename: str, size: int) -> list[Mapping[str, Any]]:
    """Uploads named ``filename`` of the expected size that did not fail processing, oldest first."""
    matching = [
        f
        for f in files
        if f.get("filename") == filename
        and f.get("purpose") == FILE_PURPOSE
        and f.get("status") != "error"
        and f.get("bytes") == size
    ]
    return sorted(matching, key=lambda f: (f.get("created_at") or 0, str(f.get("id"))))


def pick_job(jobs: Iterable[Mapping[str, Any]], training_file_ids: Iterable[str]) -> Mapping[str, Any] | None:
    """The job to reattach to: the newest live or succeeded job trained on one of these files, else None.

    Failed and cancelled jobs are never reattached: a retry after them trains again.
    """
    ids = set(training_file_ids)
    mine = [j for j in jobs if j.get("training_file") in ids and j.get("status") not in FAILURE_STATES]
    mine.sort(key=lambda j: (j.get("created_at") or 0, str(j.get("id"))), reverse=True)
    return mine[0] if mine else None
