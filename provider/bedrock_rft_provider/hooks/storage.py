"""StorageHook: the one place the Airflow layer reads and writes "an ``s3://`` URI or a local path".

Every operator and hook that touches files goes through it: read text/bytes, write atomically, list
and read a prefix, fetch to / put from local files, sha256. S3 goes through the amazon provider's
``S3Hook`` (this class is one), so the AWS connection's credentials, region, ``endpoint_url`` (the
sandbox, LocalStack) and botocore config apply; anything that is not ``s3://...`` is a local path.

``airflow.sdk.ObjectStoragePath`` was considered: it would add a second way to build the S3 client
(fsspec/s3fs, another dependency) beside the hooks the operators already use, for the same five calls.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from botocore.exceptions import ClientError

from bedrock_rft_provider.data.uris import is_s3_uri, join_uri, parse_s3_uri
from bedrock_rft_provider.errors import aws_error_code

if TYPE_CHECKING:
    from bedrock_rft_provider.jobs.metrics import TrainingMetrics

CHUNK_BYTES = 1 << 20  # sha256 and copies stream in 1 MiB chunks


def write_local_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it.

    A reader never sees half a file, and a failed write leaves the old file (or none) in place.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _key_or_path(uri: str) -> str:
    return parse_s3_uri(uri)[1] if is_s3_uri(uri) else uri


class StorageHook(S3Hook):
    """S3-or-local file access for operators (an ``S3Hook`` of the task's AWS connection).

    Errors: S3 calls raise botocore's ``ClientError``; local calls raise ``OSError``.
    """

    def exists(self, uri: str) -> bool:
        if is_s3_uri(uri):
            bucket, key = parse_s3_uri(uri)
            return bool(self.check_for_key(key, bucket_name=bucket))
        return Path(uri).exists()

    def read_bytes(self, uri: str) -> bytes:
        if is_s3_uri(uri):
            bucket, key = parse_s3_uri(uri)
            return bytes(self.get_conn().get_object(Bucket=bucket, Key=key)["Body"].read())
        return Path(uri).read_bytes()

    def read_text(self, uri: str) -> str:
        """The object or file as UTF-8 text."""
        return self.read_bytes(uri).decode("utf-8")

    def write_bytes(self, uri: str, data: bytes) -> None:
        """Replace the object or file; atomic on both (an S3 PUT is, locally a rename is)."""
        if is_s3_uri(uri):
            bucket, key = parse_s3_uri(uri)
            self.get_conn().put_object(Bucket=bucket, Key=key, Body=data)
        else:
            write_local_atomically(Path(uri), data)

    def write_text(self, uri: str, text: str) -> None:
        self.write_bytes(uri, text.encode("utf-8"))

    def create_once(self, uri: str, data: bytes) -> bytes:
        """Write ``data`` only if nothing is at ``uri`` yet; return what is there now (``data`` when this
        call wrote it, else the earlier writer's bytes). Atomic: of two racing callers exactly one writes
        (S3 conditional write ``If-None-Match: *``, locally an exclusive create)."""
        if is_s3_uri(uri):
            bucket, key = parse_s3_uri(uri)
            try:
                self.get_conn().put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
                return data
            except ClientError as exc:
                if aws_error_code(exc) != "PreconditionFailed":
                    raise
            return self.read_bytes(uri)
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("xb") as handle:
                handle.write(data)
            return data
        except FileExistsError:
            return path.read_bytes()

    def _chunks(self, uri: str) -> Iterator[bytes]:
        if is_s3_uri(uri):
            bucket, key = parse_s3_uri(uri)
            yield from self.get_conn().get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(CHUNK_BYTES)
            return
        with Path(uri).open("rb") as handle:
            yield from iter(lambda: handle.read(CHUNK_BYTES), b"")

    def sha256(self, uri: str) -> str:
        """sha256 (hex) of the content, streamed (a 20,000-record file is never held in memory)."""
        digest = hashlib.sha256()
        for chunk in self._chunks(uri):
            digest.update(chunk)
        return digest.hexdigest()

    def list_uris(self, prefix: str, wanted: Callable[[str], bool] = lambda _: True) -> list[str]:
        """URIs of the objects under an S3 prefix (or files under a local folder) whose key or path
        ``wanted`` accepts, sorted; a missing local folder lists nothing."""
        if is_s3_uri(prefix):
            bucket, key_prefix = parse_s3_uri(prefix)
            keys = self.list_keys(bucket_name=bucket, prefix=key_prefix) or []
            return sorted(f"s3://{bucket}/{k}" for k in keys if wanted(k))
        root = Path(prefix)
        if not root.is_dir():
            return []
        return [str(p) for p in sorted(root.rglob("*")) if p.is_file() and wanted(str(p))]

    def read_texts_under(self, prefix: str, wanted: Callable[[str], bool]) -> dict[str, str]:
        """``{uri: text}`` of the files :meth:`list_uris` finds."""
        return {uri: self.read_text(uri) for uri in self.list_uris(prefix, wanted)}

    def read_training_metrics(self, uri: str, job_markers: Sequence[str] = ()) -> TrainingMetrics:
        """The training metrics at ``uri``: one metrics CSV (``*.csv``), or every metrics file under a
        prefix, preferring those under a folder named after one of ``job_markers`` (the job's name or
        id) when the prefix holds several jobs' outputs. Empty when there are none.

        The one reader of training metrics (the job operator's log and the evaluation report's curve).
        Sources are named by object key (S3) or path (local).
        """
        from bedrock_rft_provider.jobs.metrics import (
            TrainingMetrics,
            is_metrics_key,
            own_job_files,
            parse_metrics_files,
        )

        if uri.endswith(".csv"):
            metrics = TrainingMetrics()
            if self.exists(uri):
                metrics.add_csv(_key_or_path(uri), self.read_text(uri))
            return metrics
        found = {_key_or_path(u): u for u in self.list_uris(uri, is_metrics_key)}
        return parse_metrics_files(
            {name: self.read_text(found[name]) for name in own_job_files(found, job_markers)}
        )

    def fetch(self, uri: str, local_path: Path) -> Path:
        """Copy an S3 object or local file to ``local_path``."""
        local_path.parent.mkdir(parents=True, exist_ok=True)
        if is_s3_uri(uri):
            bucket, key = parse_s3_uri(uri)
            self.get_conn().download_file(bucket, key, str(local_path))
        elif Path(uri).resolve() != local_path.resolve():
            shutil.copyfile(uri, local_path)
        return local_path

    def fetch_if_exists(self, uri: str, local_path: Path) -> Path | None:
        return self.fetch(uri, local_path) if self.exists(uri) else None

    def put_file(self, local_path: Path, uri: str) -> None:
        """Upload (overwrite) one file to an S3 URI or copy it to a local path."""
        if is_s3_uri(uri):
            bucket, key = parse_s3_uri(uri)
            self.load_file(str(local_path), key, bucket_name=bucket, replace=True)
        elif Path(uri).resolve() != local_path.resolve():
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local_path, uri)

    def put_dir(self, local_dir: Path, uri: str, names: list[str]) -> None:
        """Upload the named files of ``local_dir`` under ``uri`` (missing ones are skipped)."""
        for name in names:
            path = local_dir / name
            if path.exists():
                self.put_file(path, join_uri(uri, name))
