"""Bedrock model invocation logs as an RFT data source: the source, its request-metadata filters, and
how a log's request metadata is matched against them (``trainingDataConfig.invocationLogsConfig``).

Shapes are botocore's (``InvocationLogsConfig``, ``RequestMetadataFilters``): the filter is a union of
exactly one of ``equals`` / ``notEquals`` (a map of exactly one key to a value) or ``andAll`` /
``orAll`` (1-16 base filters, each with ``equals`` and/or ``notEquals``); keys are 1-256 and values
0-256 characters of ``[a-zA-Z0-9\\s._:/=+$@-]``. The service checks those patterns late; we check them
before any AWS write. How Bedrock treats a key a log does not carry is undocumented: here ``equals``
does not match it and ``notEquals`` does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.errors import ConfigError, ConfigErrors
from bedrock_rft_provider.jobs.validation import check_s3_uri

FILTER_KINDS = ("equals", "notEquals", "andAll", "orAll")
BASE_KINDS = ("equals", "notEquals")
MAX_BASE_FILTERS = 16
_KEY = re.compile(r"[a-zA-Z0-9\s._:/=+$@-]{1,256}")
_VALUE = re.compile(r"[a-zA-Z0-9\s._:/=+$@-]{0,256}")


@dataclass(frozen=True)
class InvocationLogSource:
    """Where the invocation logs are, which of them to train on, and whether responses are used.

    :param s3_uri: the S3 prefix (or object) holding the logs, e.g.
        ``s3://bucket/prefix/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/``.
    :param request_metadata_filters: the ``RequestMetadataFilters`` union (see the module docstring);
        None trains on every log under ``s3_uri``.
    :param use_prompt_response: Bedrock's ``usePromptResponse`` (default False: prompts only).
    """

    s3_uri: str
    request_metadata_filters: Mapping[str, Any] | None = None
    use_prompt_response: bool = False

    @classmethod
    def build(
        cls, s3_uri: Any, request_metadata_filters: Any = None, use_prompt_response: Any = False
    ) -> InvocationLogSource:
        """Validate and return the source; a ConfigError names every bad field."""
        errors: list[ConfigError] = []
        try:
            uri = check_s3_uri("invocation_logs.s3_uri", s3_uri)
        except ConfigError as exc:
            errors.append(exc)
            uri = ""
        filters = request_metadata_filters or None
        if filters is not None:
            errors.extend(
                ConfigError(f"invocation_logs.request_metadata_filters{where}", message)
                for where, message in filter_problems(filters)
            )
        if not isinstance(use_prompt_response, bool):
            errors.append(
                ConfigError(
                    "invocation_logs.use_prompt_response",
                    f"is {use_prompt_response!r}; expected true or false",
                )
            )
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ConfigErrors(errors)
        return cls(uri, filters, bool(use_prompt_response))

    @classmethod
    def from_mapping(cls, value: Any) -> InvocationLogSource:
        """From ``{"s3_uri", "request_metadata_filters"?, "use_prompt_response"?}`` (a DAG param)."""
        if isinstance(value, InvocationLogSource):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError("invocation_logs", f"is {type(value).__name__}; expected an object")
        unknown = sorted(set(value) - {"s3_uri", "request_metadata_filters", "use_prompt_response"})
        if unknown:
            raise ConfigError(
                "invocation_logs",
                f"unknown key(s) {', '.join(unknown)}; "
                "expected s3_uri, request_metadata_filters, use_prompt_response",
            )
        return cls.build(
            value.get("s3_uri"),
            value.get("request_metadata_filters"),
            value.get("use_prompt_response", False),
        )

    def to_request(self) -> dict[str, Any]:
        """``trainingDataConfig.invocationLogsConfig`` as CreateModelCustomizationJob takes it."""
        config: dict[str, Any] = {
            "usePromptResponse": self.use_prompt_response,
            "invocationLogSource": {"s3Uri": self.s3_uri},
        }
        if self.request_metadata_filters:
            config["requestMetadataFilters"] = dict(self.request_metadata_filters)
        return config

    @classmethod
    def from_request(cls, config: Mapping[str, Any]) -> InvocationLogSource:
        """The source of an ``invocationLogsConfig`` (the sandbox reads what a job was created with)."""
        source = config.get("invocationLogSource") or {}
        return cls.build(
            source.get("s3Uri"), config.get("requestMetadataFilters"), config.get("usePromptResponse", False)
        )

    def matches(self, request_metadata: Any) -> bool:
        """Whether a log with this ``requestMetadata`` is selected by the filters."""
        metadata = request_metadata if isinstance(request_metadata, Mapping) else {}
        filters = self.request_metadata_filters
        if not filters:
            return True
        if "andAll" in filters:
            return all(_base_matches(base, metadata) for base in filters["andAll"])
        if "orAll" in filters:
            return any(_base_matches(base, metadata) for base in filters["orAll"])
        return _base_matches(filters, metadata)


def filter_problems(filters: Any) -> list[tuple[str, str]]:
    """``(where, message)`` for each problem of a ``RequestMetadataFilters`` value; empty when valid."""
    if not isinstance(filters, Mapping):
        return [
            ("", f"is {type(filters).__name__}; expected an object with one of {', '.join(FILTER_KINDS)}")
        ]
    kinds = [k for k in filters if k in FILTER_KINDS]
    unknown = sorted(str(k) for k in filters if k not in FILTER_KINDS)
    problems = [(f".{k}", f"is not a filter; expected one of {', '.join(FILTER_KINDS)}") for k in unknown]
    if len(kinds) != 1:
        problems.append(("", f"sets {len(kinds)} of {', '.join(FILTER_KINDS)}; exactly one is allowed"))
        return problems
    kind = kinds[0]
    if kind in BASE_KINDS:
        return problems + _map_problems(f".{kind}", filters[kind])
    bases = filters[kind]
    if not isinstance(bases, list) or not 1 <= len(bases) <= MAX_BASE_FILTERS:
        count = len(bases) if isinstance(bases, list) else type(bases).__name__
        return [*problems, (f".{kind}", f"has {count} filters; expected a list of 1 to {MAX_BASE_FILTERS}")]
    for i, base in enumerate(bases):
        where = f".{kind}[{i}]"
        if not isinstance(base, Mapping) or not base or set(base) - set(BASE_KINDS):
            problems.append((where, "expected an object with equals and/or notEquals"))
            continue
        for name in BASE_KINDS:
            if name in base:
                problems.extend(_map_problems(f"{where}.{name}", base[name]))
    return problems


def _map_problems(where: str, value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, Mapping) or len(value) != 1:
        size = len(value) if isinstance(value, Mapping) else type(value).__name__
        return [(where, f"has {size} entries; expected exactly one key: value")]
    ((key, item),) = value.items()
    problems = []
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        problems.append(
            (where, f"key {key!r} must be 1-256 characters of letters, digits, spaces and ._:/=+$@-")
        )
    if not isinstance(item, str) or not _VALUE.fullmatch(item):
        problems.append(
            (f"{where}.{key}", f"{item!r} must be 0-256 characters of letters, digits, spaces and ._:/=+$@-")
        )
    return problems


def _base_matches(base: Mapping[str, Any], metadata: Mapping[str, Any]) -> bool:
    for key, value in (base.get("equals") or {}).items():
        if metadata.get(key) != value:
            return False
    return all(metadata.get(key) != value for key, value in (base.get("notEquals") or {}).items())
