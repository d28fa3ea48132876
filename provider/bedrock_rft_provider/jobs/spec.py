"""The RFT job request: validated locally, rendered exactly as ``create_model_customization_job`` takes it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bedrock_rft_provider.errors import ConfigError, ConfigErrors, raise_config_errors
from bedrock_rft_provider.jobs.backends import NATIVE
from bedrock_rft_provider.jobs.hyperparameters import RFTHyperParameters
from bedrock_rft_provider.jobs.invocation_logs import InvocationLogSource
from bedrock_rft_provider.jobs.naming import attempt_name, client_request_token
from bedrock_rft_provider.jobs.validation import (
    MAX_VALIDATORS,
    check_base_model,
    check_custom_model_name,
    check_job_name,
    check_kms_key_id,
    check_lambda_arn,
    check_role_arn,
    check_s3_uri,
    check_tags,
    check_vpc_config,
)

CUSTOMIZATION_TYPE = "REINFORCEMENT_FINE_TUNING"


@dataclass(frozen=True)
class RFTJobSpec:
    """Everything one RFT job needs. Build it with :meth:`build`, which validates every field."""

    # The open-weight backend's counterpart is jobs.openweight.OpenWeightJobSpec.
    backend: ClassVar[str] = NATIVE

    job_name: str
    custom_model_name: str
    base_model_id: str
    role_arn: str
    training_data_uri: str
    output_data_uri: str
    reward_lambda_arn: str
    hyperparameters: RFTHyperParameters = field(default_factory=RFTHyperParameters)
    validation_data_uris: tuple[str, ...] = ()
    vpc_config: Mapping[str, list[str]] | None = None
    kms_key_id: str | None = None
    job_tags: tuple[tuple[str, str], ...] = ()
    custom_model_tags: tuple[tuple[str, str], ...] = ()
    # Hashed into the clientRequestToken (operators pass the Airflow deployment namespace).
    namespace: str = ""
    # Train on model invocation logs instead of a JSONL file (training_data_uri is then "").
    invocation_logs: InvocationLogSource | None = None

    @classmethod
    def build(
        cls,
        *,
        job_name: Any,
        custom_model_name: Any,
        base_model_id: Any,
        role_arn: Any,
        training_data_uri: Any = None,
        output_data_uri: Any,
        reward_lambda_arn: Any,
        hyperparameters: RFTHyperParameters | Mapping[str, Any] | None = None,
        validation_data_uri: str | list[str] | tuple[str, ...] | None = None,
        vpc_config: Mapping[str, Any] | None = None,
        kms_key_id: str | None = None,
        job_tags: Any = None,
        custom_model_tags: Any = None,
        namespace: str = "",
        invocation_logs: Any = None,
    ) -> RFTJobSpec:
        """Validate every field and return the spec; raise ConfigErrors listing every bad field."""
        errors: list[ConfigError] = []

        def checked(check: Callable[[], Any]) -> Any:
            try:
                return check()
            except ConfigErrors as exc:
                errors.extend(exc.errors)
            except ConfigError as exc:
                errors.append(exc)
            return None

        values = {
            "job_name": checked(lambda: check_job_name("job_name", job_name)),
            "custom_model_name": checked(
                lambda: check_custom_model_name("custom_model_name", custom_model_name)
            ),
            "base_model_id": checked(lambda: check_base_model("base_model_id", base_model_id)),
            "role_arn": checked(lambda: check_role_arn("role_arn", role_arn)),
            "training_data_uri": checked(lambda: _training_data_uri(training_data_uri, invocation_logs)),
            "invocation_logs": checked(
                lambda: InvocationLogSource.from_mapping(invocation_logs) if invocation_logs else None
            ),
            "output_data_uri": checked(lambda: check_s3_uri("output_data_uri", output_data_uri)),
            "reward_lambda_arn": checked(lambda: check_lambda_arn("reward_lambda_arn", reward_lambda_arn)),
            "hyperparameters": checked(lambda: _hyperparameters(hyperparameters)),
            "validation_data_uris": checked(lambda: _validation_uris(validation_data_uri)),
            "vpc_config": checked(lambda: check_vpc_config("vpc_config", vpc_config)),
            "kms_key_id": checked(
                lambda: None if kms_key_id is None else check_kms_key_id("kms_key_id", kms_key_id)
            ),
            "job_tags": checked(lambda: _tag_pairs("job_tags", job_tags)),
            "custom_model_tags": checked(lambda: _tag_pairs("custom_model_tags", custom_model_tags)),
        }
        raise_config_errors(errors)
        return cls(**values, namespace=namespace)

    def to_request(self) -> dict[str, Any]:
        """The keyword arguments of ``create_model_customization_job`` (without the client token)."""
        request: dict[str, Any] = {
            "jobName": self.job_name,
            "customModelName": self.custom_model_name,
            "roleArn": self.role_arn,
            "baseModelIdentifier": self.base_model_id,
            "customizationType": CUSTOMIZATION_TYPE,
            "trainingDataConfig": (
                {"invocationLogsConfig": self.invocation_logs.to_request()}
                if self.invocation_logs
                else {"s3Uri": self.training_data_uri}
            ),
            "outputDataConfig": {"s3Uri": self.output_data_uri},
            "customizationConfig": {
                "rftConfig": {
                    "graderConfig": {"lambdaGrader": {"lambdaArn": self.reward_lambda_arn}},
                    "hyperParameters": self.hyperparameters.to_request(),
                }
            },
        }
        # The top-level SFT ``hyperParameters`` string map is never sent: RFT's knobs live in rftConfig.
        if self.validation_data_uris:
            request["validationDataConfig"] = {
                "validators": [{"s3Uri": u} for u in self.validation_data_uris]
            }
        if self.vpc_config:
            request["vpcConfig"] = dict(self.vpc_config)
        if self.kms_key_id:
            request["customModelKmsKeyId"] = self.kms_key_id
        if self.job_tags:
            request["jobTags"] = [{"key": k, "value": v} for k, v in self.job_tags]
        if self.custom_model_tags:
            request["customModelTags"] = [{"key": k, "value": v} for k, v in self.custom_model_tags]
        return request

    def request_fingerprint(self) -> str:
        """A digest of the whole request: equal for equal requests, different for any change."""
        canonical = json.dumps(self.to_request(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def client_request_token(self) -> str:
        """Deterministic idempotency token: the same namespace and request always carry the same token."""
        return client_request_token(self.request_fingerprint(), namespace=self.namespace)

    def for_attempt(self, attempt: int) -> RFTJobSpec:
        """The same request under the names retry ``attempt`` uses when it must start a fresh job."""
        return dataclasses.replace(
            self,
            job_name=attempt_name(self.job_name, attempt),
            custom_model_name=attempt_name(self.custom_model_name, attempt),
        )

    def differences_from(self, job: Mapping[str, Any]) -> list[str]:
        """What differs between this spec and an existing job (a GetModelCustomizationJob response).

        Fields the service does not echo back are not compared. An empty list means "same request".
        """
        if job.get("clientRequestToken") == self.client_request_token():
            return []
        request = self.to_request()
        diffs: list[str] = []

        def compare(label: str, ours: Any, theirs: Any) -> None:
            if theirs is not None and ours != theirs:
                diffs.append(f"{label}: requested {ours!r}, existing job has {theirs!r}")

        compare("custom_model_name", self.custom_model_name, job.get("outputModelName"))
        compare("role_arn", self.role_arn, job.get("roleArn"))
        compare(
            "training_data_uri", self.training_data_uri, (job.get("trainingDataConfig") or {}).get("s3Uri")
        )
        compare("output_data_uri", self.output_data_uri, (job.get("outputDataConfig") or {}).get("s3Uri"))
        compare("customization_type", CUSTOMIZATION_TYPE, job.get("customizationType"))
        base_arn = job.get("baseModelArn")
        if base_arn and not _same_base_model(self.base_model_id, base_arn):
            diffs.append(f"base_model_id: requested {self.base_model_id!r}, existing job has {base_arn!r}")
        existing_validators = (job.get("validationDataConfig") or {}).get("validators")
        if existing_validators is not None:
            theirs = tuple(v.get("s3Uri") for v in existing_validators)
            compare("validation_data_uri", self.validation_data_uris, theirs)
        if "customizationConfig" in job:
            compare("rft_config", request["customizationConfig"], job["customizationConfig"])
        return diffs


def _same_base_model(requested: str, base_model_arn: str) -> bool:
    # The service answers with the foundation-model ARN even when the request named the model id.
    return base_model_arn == requested or base_model_arn.endswith(f"/{requested}")


def _hyperparameters(value: RFTHyperParameters | Mapping[str, Any] | None) -> RFTHyperParameters:
    if isinstance(value, RFTHyperParameters):
        return value
    return RFTHyperParameters.from_dict(value)


def _validation_uris(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    uris = [value] if isinstance(value, str) else list(value)
    if len(uris) > MAX_VALIDATORS:
        raise ConfigError("validation_data_uri", f"has {len(uris)} entries; the maximum is {MAX_VALIDATORS}")
    return tuple(
        check_s3_uri(f"validation_data_uri[{i}]" if len(uris) > 1 else "validation_data_uri", u)
        for i, u in enumerate(uris)
    )


def _tag_pairs(field_name: str, tags: Any) -> tuple[tuple[str, str], ...]:
    return tuple((t["key"], t["value"]) for t in check_tags(field_name, tags))


def _training_data_uri(uri: Any, invocation_logs: Any) -> str:
    """The training file's URI; "" when the job trains on invocation logs (exactly one is given)."""
    if invocation_logs and uri:
        raise ConfigError("training_data_uri", "give training_data_uri or invocation_logs, not both")
    if invocation_logs:
        return ""
    if not uri:
        raise ConfigError("training_data_uri", "is required (or give invocation_logs)")
    return str(check_s3_uri("training_data_uri", uri))
