"""Exceptions shared by the pure core (not by ``rewards/``, which must stand alone inside Lambda)."""

from __future__ import annotations

from typing import Any


class BedrockRFTError(Exception):
    """Base class for every error this provider raises on purpose."""


class ConfigError(BedrockRFTError, ValueError):
    """A configuration value is invalid; ``field`` names it the way the user wrote it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        separator = " " if message.startswith("=") else ": "
        super().__init__(f"{field}{separator}{message}" if field else message)


class ConfigErrors(ConfigError):
    """Several invalid configuration values, reported together so one run shows every problem."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__("", f"{len(errors)} invalid configuration value(s):\n{lines}")


def aws_error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``"ResourceNotFoundException"``), else ``""``.

    Read from ``exc.response["Error"]["Code"]`` without importing botocore, so the pure core can use it.
    ``rewards/judge.py`` keeps a copy (it runs inside Lambda and may import nothing from here, DESIGN
    rule 2); ``tests/unit/test_aws_error_code.py`` holds the two equal.
    """
    response: Any = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    return str(error.get("Code", "")) if isinstance(error, dict) else ""


def raise_config_errors(errors: list[ConfigError]) -> None:
    """Raise nothing for no errors, the error itself for one, and ConfigErrors listing all for several."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)


class JobConflictError(BedrockRFTError):
    """A job with the requested name exists but was started with a different request."""


class JobFailedError(BedrockRFTError):
    """A Bedrock job ended in Failed or Stopped; the message carries Bedrock's ``failureMessage``."""
