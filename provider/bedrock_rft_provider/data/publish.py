"""Content-addressed upload of prepared files to S3: ``<prefix>/<sha256[:16]>/<file>``, never overwritten."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from bedrock_rft_provider.data.problems import DatasetValidationError, Problem
from bedrock_rft_provider.data.uris import default_s3_client, parse_s3_uri
from bedrock_rft_provider.errors import aws_error_code

_MISSING = {"404", "NoSuchKey", "NotFound"}


def content_prefix(output_uri: str, sha256: str) -> tuple[str, str]:
    """``(bucket, key prefix)`` for a dataset with content hash ``sha256`` under ``output_uri``."""
    bucket, prefix = parse_s3_uri(output_uri)
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/{sha256[:16]}" if prefix else sha256[:16]


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _existing_sha256(client: Any, bucket: str, key: str) -> str | None:
    """The stored sha256 metadata of ``key``, ``""`` when it has none, None when the object is absent."""
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if aws_error_code(exc) in _MISSING:
            return None
        raise
    return str(head.get("Metadata", {}).get("sha256", ""))


def publish_to_s3(
    directory: Path, names: list[str], output_uri: str, sha256: str, s3_client: Any = None
) -> tuple[dict[str, str], bool]:
    """Upload ``names`` from ``directory``; returns ``({name: s3_uri}, reused)``.

    Objects already present with the same content are left alone (a rerun is a no-op, ``reused``);
    an object at the same key with different content is an error, never overwritten. The last name
    (the report) is uploaded last, so its presence marks a complete dataset.
    """
    client = s3_client if s3_client is not None else default_s3_client()
    bucket, prefix = content_prefix(output_uri, sha256)
    uris: dict[str, str] = {}
    uploaded = 0
    for name in names:
        key = f"{prefix}/{name}"
        path = directory / name
        local_sha = _file_sha256(path)
        existing = _existing_sha256(client, bucket, key)
        if existing is None:
            client.upload_file(
                str(path),
                bucket,
                key,
                ExtraArgs={"Metadata": {"sha256": local_sha}, "ContentType": _type(name)},
            )
            uploaded += 1
        elif existing != local_sha:
            raise DatasetValidationError(
                [
                    Problem(
                        f"s3://{bucket}/{key}",
                        None,
                        "object exists with different content; content-addressed "
                        "outputs are immutable, refusing to overwrite",
                    )
                ]
            )
        uris[name] = f"s3://{bucket}/{key}"
    return uris, uploaded == 0


def _type(name: str) -> str:
    return "application/json" if name.endswith(".json") else "application/x-ndjson"
