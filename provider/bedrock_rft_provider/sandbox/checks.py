"""Service-side request checks that botocore skips (patterns, maxima, unions), in Bedrock's wording.

AWS services report these as one ValidationException listing every violation:
``2 validation errors detected: Value 'a_b' at 'jobName' failed to satisfy constraint: Member must
satisfy regular expression pattern: ...; Value '1024' at '...batchSize' failed to satisfy constraint:
Member must have value less than or equal to 512``. The constraints come from the botocore model
(via ``bedrock_rft_provider.jobs``).
"""

from __future__ import annotations

from typing import Any

from bedrock_rft_provider.jobs import validation as rules
from bedrock_rft_provider.jobs.hyperparameters import BOUNDS
from bedrock_rft_provider.jobs.validation import (
    CLIENT_TOKEN,
    CUSTOM_MODEL_NAME,
    JOB_NAME,
    LAMBDA_ARN,
    ROLE_ARN,
    S3_URI,
    FieldRule,
)
from bedrock_rft_provider.sandbox.protocol import ServiceError, validation_error

# The patterns and bounds are the ones the provider checks client-side (one place for each rule); only
# the wording here is the service's.
HYPERPARAMETER_RANGES: dict[str, tuple[float | None, float | None]] = {
    bound.api_name: (bound.minimum, bound.maximum) for bound in BOUNDS.values() if not bound.choices
}
REASONING_EFFORT = BOUNDS["reasoning_effort"].choices
MAX_VALIDATORS = rules.MAX_VALIDATORS
MAX_TAGS = rules.MAX_TAGS


class Violations:
    """Collects constraint violations and raises them as one Bedrock-style ValidationException."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, value: object, where: str, constraint: str) -> None:
        self.items.append(
            f"Value '{value}' at '{where}' failed to satisfy constraint: Member must {constraint}"
        )

    def pattern(self, value: object, where: str, rule: FieldRule) -> None:
        if not isinstance(value, str):
            return
        if not 1 <= len(value) <= rule.max_length:
            self.add(value, where, f"have length less than or equal to {rule.max_length}")
        elif not rule.regex.fullmatch(value):
            self.add(value, where, f"satisfy regular expression pattern: {rule.pattern}")

    def one_of_union(self, value: object, where: str) -> None:
        if isinstance(value, dict) and len([v for v in value.values() if v is not None]) != 1:
            members = ", ".join(sorted(value)) or "none"
            self.items.append(f"'{where}' must set exactly one member of the union (got: {members})")

    def raise_if_any(self) -> None:
        if self.items:
            count = len(self.items)
            noun = "error" if count == 1 else "errors"
            raise validation_error(f"{count} validation {noun} detected: " + "; ".join(self.items))


def check_hyperparameters(params: dict[str, Any], where: str, violations: Violations) -> None:
    """Bounds and enum of ``rftConfig.hyperParameters`` (botocore checks only the minimums)."""
    for name, (low, high) in HYPERPARAMETER_RANGES.items():
        value = params.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if low is not None and value < low:
            violations.add(value, f"{where}.{name}", f"have value greater than or equal to {low:g}")
        if high is not None and value > high:
            violations.add(value, f"{where}.{name}", f"have value less than or equal to {high:g}")
    effort = params.get("reasoningEffort")
    if effort is not None and effort not in REASONING_EFFORT:
        violations.add(
            effort, f"{where}.reasoningEffort", f"satisfy enum value set: [{', '.join(REASONING_EFFORT)}]"
        )


def check_create_job(body: dict[str, Any]) -> None:
    """Every request-level check of CreateModelCustomizationJob; raises ServiceError on the first kind."""
    customization_type = body.get("customizationType", "FINE_TUNING")
    if customization_type != "REINFORCEMENT_FINE_TUNING":
        raise ServiceError(
            "NotImplementedException",
            f"The bedrock-rft sandbox emulates CreateModelCustomizationJob only for customizationType "
            f"REINFORCEMENT_FINE_TUNING, not {customization_type}.",
            501,
        )
    violations = Violations()
    for name in (
        "jobName",
        "customModelName",
        "roleArn",
        "baseModelIdentifier",
        "trainingDataConfig",
        "outputDataConfig",
    ):
        if body.get(name) in (None, "", {}):
            violations.items.append(f"'{name}' is required")
    violations.pattern(body.get("jobName"), "jobName", JOB_NAME)
    violations.pattern(body.get("customModelName"), "customModelName", CUSTOM_MODEL_NAME)
    violations.pattern(body.get("clientRequestToken"), "clientRequestToken", CLIENT_TOKEN)
    violations.pattern(body.get("roleArn"), "roleArn", ROLE_ARN)

    training = body.get("trainingDataConfig") or {}
    logs = training.get("invocationLogsConfig")
    if logs is not None:
        _check_invocation_logs(logs, violations)
    violations.pattern(training.get("s3Uri"), "trainingDataConfig.s3Uri", S3_URI)
    if body.get("trainingDataConfig") and bool(training.get("s3Uri")) == (logs is not None):
        violations.items.append("'trainingDataConfig' must set exactly one of s3Uri or invocationLogsConfig")
    validators = (body.get("validationDataConfig") or {}).get("validators") or []
    if len(validators) > MAX_VALIDATORS:
        violations.add(
            len(validators),
            "validationDataConfig.validators",
            f"have length less than or equal to {MAX_VALIDATORS}",
        )
    for index, validator in enumerate(validators):
        violations.pattern(
            validator.get("s3Uri"), f"validationDataConfig.validators.{index + 1}.member.s3Uri", S3_URI
        )
    violations.pattern((body.get("outputDataConfig") or {}).get("s3Uri"), "outputDataConfig.s3Uri", S3_URI)
    for tags in ("jobTags", "customModelTags"):
        if len(body.get(tags) or []) > MAX_TAGS:
            violations.add(len(body[tags]), tags, f"have length less than or equal to {MAX_TAGS}")

    if body.get("hyperParameters"):
        violations.items.append(
            "'hyperParameters' (the string map) applies to FINE_TUNING and CONTINUED_PRE_TRAINING; "
            "for REINFORCEMENT_FINE_TUNING set customizationConfig.rftConfig.hyperParameters"
        )
    config = body.get("customizationConfig")
    if not config:
        violations.items.append("'customizationConfig.rftConfig' is required for REINFORCEMENT_FINE_TUNING")
    else:
        violations.one_of_union(config, "customizationConfig")
        rft = config.get("rftConfig")
        if rft is None:
            violations.items.append(
                "'customizationConfig.rftConfig' is required for REINFORCEMENT_FINE_TUNING"
            )
        else:
            grader = rft.get("graderConfig")
            if not grader:
                violations.items.append("'customizationConfig.rftConfig.graderConfig' is required")
            else:
                violations.one_of_union(grader, "customizationConfig.rftConfig.graderConfig")
                lambda_arn = (grader.get("lambdaGrader") or {}).get("lambdaArn")
                if grader.get("lambdaGrader") is not None and not lambda_arn:
                    violations.items.append(
                        "'customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn' is required"
                    )
                violations.pattern(
                    lambda_arn,
                    "customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn",
                    LAMBDA_ARN,
                )
            check_hyperparameters(
                rft.get("hyperParameters") or {}, "customizationConfig.rftConfig.hyperParameters", violations
            )
    violations.raise_if_any()


def _check_invocation_logs(config: Any, violations: Violations) -> None:
    """What the service checks late on ``invocationLogsConfig``: the source URI and filter patterns."""
    from bedrock_rft_provider.errors import ConfigError, ConfigErrors
    from bedrock_rft_provider.jobs.invocation_logs import InvocationLogSource

    try:
        InvocationLogSource.from_request(config if isinstance(config, dict) else {})
    except ConfigError as exc:
        for error in exc.errors if isinstance(exc, ConfigErrors) else [exc]:
            name = error.field
            for ours, theirs in _LOG_FIELDS:
                name = name.replace(ours, theirs)
            violations.items.append(f"trainingDataConfig.invocationLogsConfig.{name}: {error.message}")


# Our field names (the operator's) -> the request's, so the sandbox answers in the service's words.
_LOG_FIELDS = (
    ("invocation_logs.request_metadata_filters", "requestMetadataFilters"),
    ("invocation_logs.s3_uri", "invocationLogSource.s3Uri"),
    ("invocation_logs.use_prompt_response", "usePromptResponse"),
)
