"""Sandbox knobs: one frozen dataclass, filled from keyword arguments, env vars or CLI flags.

Each knob has an env var ``BEDROCK_RFT_SANDBOX_<NAME>`` and a CLI flag ``--<name>`` (dashes):

- ``time_scale`` (default 0.01): multiplies the nominal durations (validation 60 s, data processing
  60 s, 30 s per training step, deployment 300 s, deployment update 120 s); 0 = as fast as possible.
- ``latency_ms``: injected response time per API, ``Converse=200,GetModelCustomizationJob=50`` or
  ``*=20``, counted from the request's arrival (when the kernel received it, on Linux): the sandbox's own
  work on it, and its wait for a thread, count towards it.
- ``throttle_rate``: share of calls answered with ThrottlingException (HTTP 429), e.g. ``Converse=0.3``.
- ``fail_jobs``: force jobs whose name matches a glob to fail, ``GLOB[@STAGE]`` with STAGE one of
  validation, dataProcessing, training (default training).
- ``seed`` (default 0): seed of the simulated policies and of throttling.
- ``max_training_steps`` (default 30): cap on emulated steps (the service runs
  epochCount x ceil(records / batchSize)).
- ``max_validation_records`` (default 64): validation prompts scored at each evalInterval.
- ``grader_batch_size`` (default 64): samples per reward Lambda invocation (the service's is undocumented).
- ``base_models`` (default: the Nova 2 Lite ids): comma-separated model ids accepted as RFT base models
  and by Converse.
- ``api_keys`` (default ``bedrock-rft-sandbox-key``): comma-separated bearer keys the OpenAI-compatible
  API under ``/v1/`` accepts, besides short-term Bedrock API keys made from the sandbox's test
  credentials (``sandbox/mantle/auth.py``). Its API names are ``CreateFile``, ``ListFiles``,
  ``RetrieveFile``, ``DeleteFile``, ``RetrieveFileContent``, ``CreateFineTuningJob``,
  ``ListFineTuningJobs``, ``RetrieveFineTuningJob``, ``CancelFineTuningJob``, ``ListFineTuningEvents``,
  ``ListFineTuningJobCheckpoints`` and ``CreateChatCompletion`` (for ``latency_ms``/``throttle_rate``).
- ``allowed_origins`` (default: none): comma-separated browser origins (``http://localhost:8080``, or
  ``*``) allowed to call the sandbox; any other cross-origin browser request is refused with HTTP 403.
- ``max_request_mb`` (default 128): cap on one request body in MiB; operations with a documented
  smaller limit (Lambda Invoke 6 MB, inline code uploads) keep theirs. Larger bodies get HTTP 413 unread.
- ``judge_accuracy`` (default 0.95): how often the simulated LLM judge (``sandbox/judge.py``) agrees
  with the reference it grades against; lower it to see a judge calibration fail.
- ``read_timeout_s`` (default 60): a connection that sends nothing for this long is closed, so a
  half-open client cannot hold a server thread.

API names are botocore operation names (``CreateModelCustomizationJob``, ``Converse``, ``InvokeModel``,
``Invoke`` for Lambda, ...); ``*`` applies to every API the sandbox emulates.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
from collections.abc import Mapping

ENV_PREFIX = "BEDROCK_RFT_SANDBOX_"

# Nominal (unscaled) durations in seconds; ``time_scale`` multiplies them.
NOMINAL_SECONDS = {
    "validation": 60.0,
    "dataProcessing": 60.0,
    "training_step": 30.0,
    "deployment": 300.0,
    "deployment_update": 120.0,
    "stopping": 10.0,
}

DEFAULT_BASE_MODELS = (
    "amazon.nova-2-lite-v1:0:256k",
    "amazon.nova-2-lite-v1:0",
    "us.amazon.nova-2-lite-v1:0",
    "global.amazon.nova-2-lite-v1:0",
)

JOB_STAGES = ("validation", "dataProcessing", "training")
DEFAULT_API_KEYS = ("bedrock-rft-sandbox-key",)


def parse_per_api(text: str, field: str) -> dict[str, float]:
    """Parse ``API=value,API2=value`` (or a bare number, meaning ``*=value``) into a dict."""
    result: dict[str, float] = {}
    text = text.strip()
    if not text:
        return result
    for part in text.split(","):
        name, sep, value = part.strip().rpartition("=")
        if not sep:
            name, value = "*", part.strip()
        try:
            result[name.strip() or "*"] = float(value)
        except ValueError:
            raise ValueError(f"{field}: {part!r} is not API=NUMBER (e.g. Converse=0.2 or *=50)") from None
    return result


def _split(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


@dataclasses.dataclass(frozen=True)
class SandboxConfig:
    """The sandbox's knobs; see the module docstring for the env vars and CLI flags."""

    time_scale: float = 0.01
    latency_ms: Mapping[str, float] = dataclasses.field(default_factory=dict)
    throttle_rate: Mapping[str, float] = dataclasses.field(default_factory=dict)
    fail_jobs: str | None = None
    seed: int = 0
    max_training_steps: int = 30
    max_validation_records: int = 64
    grader_batch_size: int = 64
    base_models: tuple[str, ...] = DEFAULT_BASE_MODELS
    allowed_origins: tuple[str, ...] = ()
    api_keys: tuple[str, ...] = DEFAULT_API_KEYS
    max_request_mb: float = 128.0
    read_timeout_s: float = 60.0
    judge_accuracy: float = 0.95

    def __post_init__(self) -> None:
        if self.time_scale < 0:
            raise ValueError(f"time_scale = {self.time_scale} must be >= 0")
        if not 0.0 <= self.judge_accuracy <= 1.0:
            raise ValueError(f"judge_accuracy = {self.judge_accuracy} must be between 0 and 1")
        for name, value in (("max_request_mb", self.max_request_mb), ("read_timeout_s", self.read_timeout_s)):
            if not value > 0 or value == float("inf"):
                raise ValueError(f"{name} = {value} must be a positive number")
        for name, rate in self.throttle_rate.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"throttle_rate[{name}] = {rate} must be between 0 and 1")
        for name, value in (
            ("max_training_steps", self.max_training_steps),
            ("max_validation_records", self.max_validation_records),
            ("grader_batch_size", self.grader_batch_size),
        ):
            if value < 1:
                raise ValueError(f"{name} = {value} must be >= 1")
        if self.fail_jobs and "@" in self.fail_jobs:
            stage = self.fail_jobs.rsplit("@", 1)[1]
            if stage not in JOB_STAGES:
                raise ValueError(f"fail_jobs stage {stage!r} must be one of {', '.join(JOB_STAGES)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> SandboxConfig:
        """Build from ``BEDROCK_RFT_SANDBOX_*`` env vars; keyword overrides (not None) win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        converters = {
            "time_scale": float,
            "latency_ms": lambda s: parse_per_api(s, "latency_ms"),
            "throttle_rate": lambda s: parse_per_api(s, "throttle_rate"),
            "fail_jobs": str,
            "seed": int,
            "max_training_steps": int,
            "max_validation_records": int,
            "grader_batch_size": int,
            "base_models": _split,
            "allowed_origins": _split,
            "api_keys": _split,
            "max_request_mb": float,
            "read_timeout_s": float,
            "judge_accuracy": float,
        }
        for name, convert in converters.items():
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                try:
                    values[name] = convert(raw)  # type: ignore[operator]
                except ValueError as exc:
                    raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r}: {exc}") from None
        for name, given in overrides.items():
            if given is None:
                continue
            if name in ("latency_ms", "throttle_rate") and isinstance(given, str):
                given = parse_per_api(given, name)  # noqa: PLW2901
            elif name in ("base_models", "allowed_origins", "api_keys") and isinstance(given, str):
                given = _split(given)  # noqa: PLW2901
            values[name] = given
        return cls(**values)  # type: ignore[arg-type]

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_mb * 1024 * 1024)

    def seconds(self, what: str) -> float:
        """Scaled duration of a nominal phase (``validation``, ``training_step``, ``deployment``, ...)."""
        return NOMINAL_SECONDS[what] * self.time_scale

    def per_api(self, table: Mapping[str, float], api: str) -> float:
        """The value for ``api`` in a per-API table, falling back to ``*``, else 0."""
        return float(table.get(api, table.get("*", 0.0)))

    def forced_failure_stage(self, job_name: str) -> str | None:
        """The stage at which ``job_name`` is forced to fail, or None."""
        if not self.fail_jobs:
            return None
        pattern, _, stage = self.fail_jobs.partition("@")
        if fnmatch.fnmatchcase(job_name, pattern):
            return stage or "training"
        return None
