"""Builders for tests of the sandbox's OpenAI-compatible API, driven by the official ``openai`` client."""

from __future__ import annotations

import time
from typing import Any

from openai import OpenAI

from unit.sandbox.sandbox_helpers import jsonl

FINAL = ("succeeded", "failed", "cancelled")
MODEL = "openai.gpt-oss-20b"


def openai_client(sandbox: Any, api_key: str | None = None, **kwargs: Any) -> OpenAI:
    """The official client, unchanged but for ``base_url`` and the key; no retries unless asked."""
    kwargs.setdefault("max_retries", 0)
    return OpenAI(base_url=sandbox.openai_base_url, api_key=api_key or sandbox.api_key, **kwargs)


def upload(client: OpenAI, records: list[dict[str, Any]], filename: str = "train.jsonl") -> str:
    return client.files.create(file=(filename, jsonl(records)), purpose="fine-tune").id


def rft_method(lambda_arn: str, **hyperparameters: Any) -> dict[str, Any]:
    """``method`` as Bedrock documents it (UG fine-tuning-openai-job-create)."""
    hyper = {"n_epochs": 2, "batch_size": 16, "learning_rate_multiplier": 10.0, **hyperparameters}
    return {
        "type": "reinforcement",
        "reinforcement": {
            "grader": {"type": "lambda", "lambda": {"function": lambda_arn}},
            "hyperparameters": hyper,
        },
    }


def wait_for(client: OpenAI, job_id: str, until: tuple[str, ...] = FINAL, timeout: float = 60) -> Any:
    """Poll ``fine_tuning.jobs.retrieve`` until the status is in ``until`` (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if job.status in until:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.status} after {timeout}s")
        time.sleep(0.05)
