"""BedrockRFTEvaluationHook: the clients an evaluation needs (runtime, Lambda) and its S3-or-local files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow.providers.amazon.aws.hooks.bedrock import BedrockRuntimeHook
from airflow.providers.amazon.aws.hooks.lambda_function import LambdaHook
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from botocore.config import Config

from bedrock_rft_provider.data.uris import is_s3_uri, parse_s3_uri


def join_uri(base: str, name: str) -> str:
    """``base/name`` for an S3 URI or a local directory."""
    return f"{base.rstrip('/')}/{name}" if is_s3_uri(base) else str(Path(base) / name)


class BedrockRFTEvaluationHook(BedrockRuntimeHook):
    """Bedrock Runtime for inference, plus the Lambda and S3 access of the same AWS connection."""

    def _sibling_kwargs(self) -> dict[str, Any]:
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "config": self.config,
        }

    def runtime_client(self, *, read_timeout: float, max_pool_connections: int) -> Any:
        """A ``bedrock-runtime`` client for the runner: per-request timeout, no botocore retries.

        The runner retries itself, so throttling reaches its adaptive limiter instead of being hidden
        (and multiplied) by botocore's own retry loop.
        """
        own = Config(
            read_timeout=read_timeout,
            connect_timeout=min(read_timeout, 10),
            retries={"total_max_attempts": 1},
            max_pool_connections=max_pool_connections,
        )
        config = self.config.merge(own) if self.config else own
        return BedrockRuntimeHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify, config=config
        ).conn

    def lambda_client(self) -> Any:
        """A Lambda client for invoking the deployed grader."""
        return LambdaHook(**self._sibling_kwargs()).conn

    @property
    def s3(self) -> S3Hook:
        return S3Hook(**self._sibling_kwargs())

    def exists(self, uri: str) -> bool:
        if is_s3_uri(uri):
            bucket, key = parse_s3_uri(uri)
            return bool(self.s3.check_for_key(key, bucket_name=bucket))
        return Path(uri).exists()

    def fetch(self, uri: str, local_path: Path) -> Path:
        """Copy an S3 object or local file to ``local_path``."""
        local_path.parent.mkdir(parents=True, exist_ok=True)
        if is_s3_uri(uri):
            bucket, key = parse_s3_uri(uri)
            self.s3.get_conn().download_file(bucket, key, str(local_path))
        elif Path(uri).resolve() != local_path.resolve():
            shutil.copyfile(uri, local_path)
        return local_path

    def fetch_if_exists(self, uri: str, local_path: Path) -> Path | None:
        return self.fetch(uri, local_path) if self.exists(uri) else None

    def read_texts_under(self, prefix: str, wanted: Callable[[str], bool]) -> dict[str, str]:
        """``{uri: text}`` of files under an S3 prefix or local directory whose key ``wanted`` accepts."""
        if is_s3_uri(prefix):
            bucket, key_prefix = parse_s3_uri(prefix)
            keys = [k for k in self.s3.list_keys(bucket_name=bucket, prefix=key_prefix) or [] if wanted(k)]
            return {f"s3://{bucket}/{k}": self.s3.read_key(k, bucket_name=bucket) for k in keys}
        root = Path(prefix)
        if not root.is_dir():
            return {}
        return {
            str(path): path.read_text(encoding="utf-8")
            for path in sorted(root.rglob("*"))
            if path.is_file() and wanted(str(path))
        }

    def put_file(self, local_path: Path, uri: str) -> None:
        """Upload (overwrite) one file to an S3 URI or copy it to a local path."""
        if is_s3_uri(uri):
            bucket, key = parse_s3_uri(uri)
            self.s3.load_file(str(local_path), key, bucket_name=bucket, replace=True)
        elif Path(uri).resolve() != local_path.resolve():
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local_path, uri)

    def put_dir(self, local_dir: Path, uri: str, names: list[str]) -> None:
        """Upload the named files of ``local_dir`` under ``uri``, replacing what is there."""
        for name in names:
            path = local_dir / name
            if path.exists():
                self.put_file(path, join_uri(uri, name))
