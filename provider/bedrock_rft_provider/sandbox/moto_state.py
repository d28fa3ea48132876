"""The only module that reads moto's in-process backends (pinned: moto >= 5.2.5, < 5.3).

The sandbox serves moto in the same process, so what a client wrote through the endpoint (roles,
functions, objects) is visible here without a network round trip.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bedrock_rft_provider.data.uris import parse_s3_uri
from bedrock_rft_provider.sandbox.protocol import ACCOUNT_ID

LAMBDA_ARN = re.compile(r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:.+")


def _s3():  # type: ignore[no-untyped-def]
    from moto.s3.models import s3_backends

    return s3_backends[ACCOUNT_ID]["aws"]


def bucket_exists(bucket: str) -> bool:
    from moto.s3.exceptions import MissingBucket

    try:
        _s3().get_bucket(bucket)
    except MissingBucket:
        return False
    return True


def read_object(uri: str) -> bytes | None:
    """The bytes of an S3 object, or None when the bucket or key does not exist."""
    from moto.s3.exceptions import MissingBucket

    bucket, key = parse_s3_uri(uri)
    try:
        obj = _s3().get_object(bucket, key)
    except MissingBucket:
        return None
    return None if obj is None else bytes(obj.value)


def write_object(uri: str, body: bytes) -> None:
    """Write an S3 object (the bucket must exist)."""
    bucket, key = parse_s3_uri(uri)
    _s3().put_object(bucket, key, body)


def has_objects(uri: str) -> bool:
    """Whether any S3 object's key starts with the prefix of ``uri``."""
    bucket, prefix = parse_s3_uri(uri)
    return any(True for _ in list_objects(bucket, prefix))


def list_objects(bucket: str, prefix: str) -> Iterator[tuple[str, Callable[[], bytes]]]:
    """``(uri, read)`` of each object of ``bucket`` under ``prefix``, in key order (none: no bucket)."""
    from moto.s3.exceptions import MissingBucket

    try:
        keys = _s3().get_bucket(bucket).keys
    except MissingBucket:
        return
    for key_name in sorted(k for k in list(keys.keys()) if k.startswith(prefix)):
        obj = keys.get(key_name)
        if obj is not None:
            yield f"s3://{bucket}/{key_name}", _reader(obj)


def iter_objects(suffix: str, max_bytes: int) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
    """(uri, etag, read) of every S3 object whose key ends with ``suffix`` and is at most ``max_bytes``."""
    backend = _s3()
    for bucket_name, bucket in list(backend.buckets.items()):
        for key_name in list(bucket.keys.keys()):
            if not key_name.endswith(suffix):
                continue
            obj = bucket.keys.get(key_name)
            if obj is None or getattr(obj, "size", 0) > max_bytes:
                continue
            yield f"s3://{bucket_name}/{key_name}", str(obj.etag), _reader(obj)


def _reader(obj: Any) -> Callable[[], bytes]:
    return lambda: bytes(obj.value)


def role_exists(role_arn: str) -> bool:
    from moto.iam.models import iam_backends

    try:
        iam_backends[ACCOUNT_ID]["aws"].get_role_by_arn(role_arn)
    except Exception:  # moto raises IAMNotFoundException
        return False
    return True


@dataclass(frozen=True)
class LambdaCode:
    """What is needed to run one version of a Lambda function locally."""

    function_name: str
    function_arn: str
    version: str
    handler: str
    runtime: str
    timeout: float
    memory_size: int
    code_sha256: str
    zip_bytes: bytes = field(repr=False)
    environment: dict[str, str] = field(default_factory=dict)
    layers: tuple[bytes, ...] = field(default=(), repr=False)


def get_lambda(
    name_or_arn: str, qualifier: str | None = None, region: str = "us-east-1"
) -> LambdaCode | None:
    """The code of a function (name or ARN, optional version/alias qualifier) held by moto, or None."""
    from moto.awslambda.models import lambda_backends

    found = LAMBDA_ARN.fullmatch(name_or_arn)
    if found:
        region = found["region"]
    backend = lambda_backends[ACCOUNT_ID][region]
    try:
        fn = backend.get_function(name_or_arn, qualifier)
    except Exception:  # moto raises UnknownFunctionException
        return None
    if fn is None:
        return None
    layers = []
    for layer in fn.layers or []:
        version = backend.layers_versions_by_arn(layer["Arn"])
        if version is not None:
            layers.append(bytes(version.code_bytes or b""))
    # moto's function_arn is qualified for a published version and unqualified for $LATEST.
    return LambdaCode(
        function_name=fn.function_name,
        function_arn=fn.function_arn,
        version=str(fn.version),
        handler=str(fn.handler or ""),
        runtime=str(fn.run_time or ""),
        timeout=float(fn.timeout or 3),
        memory_size=int(fn.memory_size or 128),
        code_sha256=str(fn.code_sha_256),
        zip_bytes=bytes(fn.code_bytes or b""),
        environment=dict(getattr(fn, "environment_vars", None) or {}),
        layers=tuple(layers),
    )


def reset_moto() -> None:
    """Reset every moto backend (what ``POST /moto-api/reset`` does)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def backdate_parameter_versions(
    name: str, when: Callable[[int], Any], region: str = "us-east-1"
) -> list[int]:
    """Set ``LastModifiedDate`` of every version of SSM parameter ``name`` to ``when(version)`` (aware).

    Sandbox-only, for demos of history: real SSM stamps each version when it is written and offers no
    way to change it. Returns the versions changed; a ``when`` returning None leaves that version alone.
    """
    from moto.ssm.models import ssm_backends

    changed = []
    # ``_parameters`` is a defaultdict: indexing a missing name would store an empty version list, and
    # moto then answers GetParameter with a 500 instead of ParameterNotFound. Look, never create.
    for parameter in ssm_backends[ACCOUNT_ID][region]._parameters.get(name, []):
        stamp = when(int(parameter.version))
        if stamp is not None:
            parameter.last_modified_date = stamp.timestamp()  # what moto stores
            changed.append(int(parameter.version))
    return changed


@dataclass(frozen=True)
class QueueTarget:
    """One SQS target of an EventBridge rule that matched an event (moto's state)."""

    rule_arn: str
    queue_name: str
    queue_arn: str
    policy: str | None  # the queue's resource policy JSON, None when it has none


def matching_queue_targets(event: dict[str, Any], region: str) -> list[QueueTarget]:
    """The SQS targets of the default bus's enabled rules whose pattern matches ``event``."""
    from moto.events.models import events_backends
    from moto.sqs.models import sqs_backends

    bus = events_backends[ACCOUNT_ID][region].describe_event_bus("default")
    sqs = sqs_backends[ACCOUNT_ID][region]
    found = []
    for rule in list(bus.rules.values()):
        matches = rule.event_pattern.matches_event(event)  # type: ignore[arg-type]
        if rule.state != "ENABLED" or not matches:
            continue
        for target in rule.targets:
            arn = str(target.get("Arn", ""))
            parts = arn.split(":")
            if len(parts) != 6 or parts[2] != "sqs" or parts[3] != region:
                continue
            queue = sqs.queues.get(parts[5])
            if queue is not None:
                found.append(QueueTarget(rule.arn, parts[5], arn, queue.policy))
    return found


def send_to_queue(queue_name: str, body: str, region: str) -> None:
    from moto.sqs.models import sqs_backends

    sqs_backends[ACCOUNT_ID][region].send_message(queue_name=queue_name, message_body=body)
