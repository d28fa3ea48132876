"""BedrockRFTEvaluationHook: the clients an evaluation needs (inference, Lambda, storage)."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.bedrock import BedrockRuntimeHook
from airflow.providers.amazon.aws.hooks.lambda_function import LambdaHook

from bedrock_rft_provider.hooks.storage import StorageHook, join_uri

if TYPE_CHECKING:
    from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook

__all__ = ["BedrockRFTEvaluationHook", "join_uri"]


class BedrockRFTEvaluationHook(BedrockRuntimeHook):
    """Bedrock Runtime for inference, plus the Lambda and storage access of the same AWS connection."""

    def _sibling_kwargs(self) -> dict[str, Any]:
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "config": self.config,
        }

    def runtime_client(self, *, read_timeout: float, max_pool_connections: int) -> Any:
        """A ``bedrock-runtime`` client for ``ConverseRunner``, made once per run and shared by its workers:
        per-request timeout, no botocore retries, a connection per worker
        (:func:`~bedrock_rft_provider.evaluation.inference.converse_client_config` says why), and its
        ``User-Agent`` header built once per feature set
        (:func:`~bedrock_rft_provider.evaluation.inference.reuse_user_agent`)."""
        from bedrock_rft_provider.evaluation.inference import converse_client_config, reuse_user_agent

        own = converse_client_config(read_timeout=read_timeout, max_pool_connections=max_pool_connections)
        config = self.config.merge(own) if self.config else own
        return reuse_user_agent(
            BedrockRuntimeHook(
                aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify, config=config
            ).conn
        )

    @cached_property
    def openweight(self) -> BedrockOpenWeightHook:
        """Bedrock's OpenAI-compatible API on the same connection (bearer token, endpoint override)."""
        from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook  # openai: only when used

        return BedrockOpenWeightHook(**self._sibling_kwargs())

    def chat_client(self, *, timeout: float) -> Any:
        """An ``openai`` client for Chat Completions: per-request ``timeout`` (s), no automatic retries.

        As with :meth:`runtime_client`, the runner retries itself so throttling reaches its limiter.
        The HTTP library's per-request INFO line is silenced: the runner logs progress instead, and a
        test set would otherwise write one task-log line per answer.
        """
        logging.getLogger("httpx2").setLevel(max(logging.WARNING, logging.getLogger("httpx2").level))
        return self.openweight.client.with_options(timeout=timeout, max_retries=0)

    def checkpoints(self, job_id: str) -> list[dict[str, Any]]:
        """An open-weight fine-tuning job's checkpoints, oldest step first."""
        return self.openweight.checkpoints(job_id)

    def lambda_client(self) -> Any:
        """A Lambda client for invoking the deployed grader."""
        return LambdaHook(**self._sibling_kwargs()).conn

    @cached_property
    def storage(self) -> StorageHook:
        """The S3-or-local file access of the same AWS connection."""
        return StorageHook(**self._sibling_kwargs())
