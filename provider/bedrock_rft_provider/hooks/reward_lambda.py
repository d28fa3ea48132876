"""RewardLambdaHook: deploy the grader Lambda idempotently and invoke it the way Bedrock does."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.lambda_function import LambdaHook
from botocore.exceptions import ClientError

from bedrock_rft_provider.errors import BedrockRFTError, aws_error_code

if TYPE_CHECKING:
    from bedrock_rft_provider.rewards.packaging import RewardPackage

WAITER_CONFIG = {"Delay": 2, "MaxAttempts": 300}


# A create that lost a race to another run (two DAG runs deploying the same grader): Lambda's model names
# ResourceConflictException; moto, behind the sandbox, answers CreateAlias with ConflictException.
ALREADY_EXISTS = frozenset({"ResourceConflictException", "ConflictException"})


class GraderInvocationError(BedrockRFTError):
    """The grader Lambda answered with a ``FunctionError`` (it raised, timed out or ran out of memory)."""


@dataclass(frozen=True)
class GraderSettings:
    """The grader function's configuration, as compared with what is deployed."""

    role_arn: str
    runtime: str
    architecture: str
    timeout: int
    memory_size: int
    environment: Mapping[str, str]
    handler: str
    description: str = ""

    def request(self) -> dict[str, Any]:
        """The configuration fields of a create/update request."""
        return {
            "Role": self.role_arn,
            "Runtime": self.runtime,
            "Handler": self.handler,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "Environment": {"Variables": dict(self.environment)},
            "Description": self.description,
        }

    def differences(self, configuration: Mapping[str, Any]) -> list[str]:
        """Names of the settings that differ from a ``FunctionConfiguration`` (architecture excluded)."""
        current = {
            "Role": configuration.get("Role"),
            "Runtime": configuration.get("Runtime"),
            "Handler": configuration.get("Handler"),
            "Timeout": configuration.get("Timeout"),
            "MemorySize": configuration.get("MemorySize"),
            "Environment": {"Variables": (configuration.get("Environment") or {}).get("Variables") or {}},
            "Description": configuration.get("Description") or "",
        }
        return [key for key, value in self.request().items() if current[key] != value]


@dataclass(frozen=True)
class GraderDeployment:
    """Where the grader now lives; ``changed`` lists what this call had to do."""

    function_arn: str
    version: str
    alias_arn: str
    code_sha256: str
    changed: tuple[str, ...]

    def to_dict(self) -> dict[str, str]:
        """The operator's return value."""
        return {
            "function_arn": self.function_arn,
            "version": self.version,
            "alias_arn": self.alias_arn,
            "code_sha256": self.code_sha256,
        }


class RewardLambdaHook(LambdaHook):
    """Lambda calls for the reward grader: create-or-update, publish, alias, invoke."""

    def get_configuration(self, function_name: str) -> dict[str, Any] | None:
        """The function's ``$LATEST`` configuration, or None when it does not exist."""
        try:
            return dict(self.conn.get_function_configuration(FunctionName=function_name))
        except ClientError as exc:
            if aws_error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    def grader_version(self, lambda_arn: str) -> dict[str, str]:
        """``{lambda_arn, code_sha256}`` of the version ``lambda_arn`` runs now (an alias resolves to the
        version it points at; ``lambda_arn`` is then that version's ARN)."""
        from bedrock_rft_provider.evaluation.grader_change import grader_identity, version_arn

        config = self.conn.get_function_configuration(FunctionName=lambda_arn)
        return grader_identity(version_arn(config), str(config.get("CodeSha256")))

    def wait_until_ready(self, function_name: str) -> None:
        """Block until the function is Active and its last update Successful."""
        self.conn.get_waiter("function_active_v2").wait(
            FunctionName=function_name, WaiterConfig=WAITER_CONFIG
        )
        self.conn.get_waiter("function_updated_v2").wait(
            FunctionName=function_name, WaiterConfig=WAITER_CONFIG
        )

    def deploy_grader(
        self, function_name: str, package: RewardPackage, settings: GraderSettings, *, alias: str
    ) -> GraderDeployment:
        """Create or update the function, publish a version and point ``alias`` at it.

        Idempotent: nothing is updated when the CodeSha256 and configuration already match, no new
        version is published when one with this code and configuration exists, and a retry after a
        partial run picks up where it stopped.
        """
        changed: list[str] = []
        configuration = self.get_configuration(function_name)
        if configuration is None:
            configuration = self._create(function_name, package, settings)
            changed.append("created")
        if configuration.get("State") != "Active" or configuration.get("LastUpdateStatus") == "InProgress":
            self.wait_until_ready(function_name)
        code_is_current = configuration.get("CodeSha256") == package.code_sha256 and (
            configuration.get("Architectures") or ["x86_64"]
        ) == [settings.architecture]
        if not code_is_current:
            self.log.info("Updating the code of %s to %s", function_name, package.code_sha256)
            self.conn.update_function_code(
                FunctionName=function_name, ZipFile=package.zip_bytes, Architectures=[settings.architecture]
            )
            self.wait_until_ready(function_name)
            changed.append("code")
        differences = settings.differences(configuration)
        if differences:
            self.log.info("Updating the configuration of %s: %s", function_name, ", ".join(differences))
            self.conn.update_function_configuration(FunctionName=function_name, **settings.request())
            self.wait_until_ready(function_name)
            changed.append("configuration")
        version, function_arn = self._version(function_name, package.code_sha256, settings)
        if version is None:
            published = self.conn.publish_version(FunctionName=function_name, CodeSha256=package.code_sha256)
            version = str(published["Version"])
            function_arn = str(published["FunctionArn"]).rsplit(":", 1)[0]
            changed.append("version")
            self.log.info("Published %s version %s", function_name, version)
        alias_arn = self._point_alias(function_name, alias, version, changed)
        self.log.info(
            "Grader %s:%s -> version %s (%s)",
            function_name,
            alias,
            version,
            ", ".join(changed) or "no change",
        )
        return GraderDeployment(str(function_arn), version, alias_arn, package.code_sha256, tuple(changed))

    def _create(self, function_name: str, package: RewardPackage, settings: GraderSettings) -> dict[str, Any]:
        self.log.info("Creating grader function %s (%s)", function_name, package.code_sha256)
        try:
            created = self.conn.create_function(
                FunctionName=function_name,
                Code={"ZipFile": package.zip_bytes},
                Architectures=[settings.architecture],
                PackageType="Zip",
                Publish=False,
                **settings.request(),
            )
        except ClientError as exc:
            if aws_error_code(exc) not in ALREADY_EXISTS:
                raise
            existing = self.get_configuration(function_name)  # created by a concurrent or earlier try
            if existing is None:
                raise
            return existing
        return dict(created)

    def _version(
        self, function_name: str, code_sha256: str, settings: GraderSettings
    ) -> tuple[str | None, str | None]:
        """The newest published version with this code and configuration, if any."""
        best: tuple[int, str] | None = None
        for page in self.conn.get_paginator("list_versions_by_function").paginate(FunctionName=function_name):
            for version in page.get("Versions", []):
                number = version.get("Version")
                if (
                    number != "$LATEST"
                    and version.get("CodeSha256") == code_sha256
                    and version.get("Architectures", ["x86_64"]) == [settings.architecture]
                    and not settings.differences(version)
                    and (best is None or int(number) > best[0])
                ):
                    best = (int(number), str(version["FunctionArn"]))
        if best is None:
            return None, None
        return str(best[0]), best[1].rsplit(":", 1)[0]

    def _point_alias(self, function_name: str, alias: str, version: str, changed: list[str]) -> str:
        try:
            current = self.conn.get_alias(FunctionName=function_name, Name=alias)
        except ClientError as exc:
            if aws_error_code(exc) != "ResourceNotFoundException":
                raise
            try:
                created = self.conn.create_alias(
                    FunctionName=function_name, Name=alias, FunctionVersion=version
                )
            except ClientError as conflict:
                if aws_error_code(conflict) not in ALREADY_EXISTS:
                    raise
                current = self.conn.get_alias(FunctionName=function_name, Name=alias)
            else:
                changed.append("alias")
                return str(created["AliasArn"])
        if current["FunctionVersion"] != version:
            updated = self.conn.update_alias(FunctionName=function_name, Name=alias, FunctionVersion=version)
            changed.append("alias")
            return str(updated["AliasArn"])
        return str(current["AliasArn"])

    def invoke_grader(self, function_name: str, batch: list[Any], qualifier: str | None = None) -> Any:
        """Invoke the grader synchronously with a batch, as Bedrock does; returns the decoded answer."""
        kwargs: dict[str, Any] = {"FunctionName": function_name, "Payload": json.dumps(batch).encode()}
        if qualifier:
            kwargs["Qualifier"] = qualifier
        response = self.conn.invoke(InvocationType="RequestResponse", **kwargs)
        payload = response["Payload"].read().decode("utf-8", "replace")
        if response.get("FunctionError"):
            raise GraderInvocationError(f"{response['FunctionError']} function error: {payload[:1000]}")
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise GraderInvocationError(f"grader answered with invalid JSON: {payload[:200]!r}") from exc
