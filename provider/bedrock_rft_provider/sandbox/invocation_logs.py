"""Synthetic Bedrock model invocation logs (as model invocation logging delivers them to S3), so RFT
from production traffic runs end to end on the sandbox: prompts of the offline GSM8K-style generator,
answered through Converse, logged with request metadata an application would attach."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from bedrock_rft_provider.data import synthetic
from bedrock_rft_provider.data.gsm8k import to_rft_record
from bedrock_rft_provider.sandbox.protocol import ACCOUNT_ID

LOGS_PER_OBJECT = 50
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def synthetic_invocation_logs(
    n: int,
    *,
    seed: int = 0,
    model_id: str = "amazon.nova-2-lite-v1:0",
    request_metadata: Mapping[str, str] | None = None,
    with_reference_answer: bool = True,
    region: str = "us-east-1",
) -> list[dict[str, Any]]:
    """``n`` ModelInvocationLog records of Converse calls on synthetic math prompts.

    ``request_metadata`` is attached to every log; with ``with_reference_answer`` the application also
    logs the known answer as request metadata ``reference_answer`` (how a verifiable grader gets it).
    """
    logs = []
    for i, raw in enumerate(synthetic.generate(n, seed=seed)):
        record = to_rft_record(raw, id_prefix="traffic")
        metadata = dict(request_metadata or {})
        if with_reference_answer:
            metadata["reference_answer"] = str(record["reference_answer"])
        user = record["messages"][-1]["content"]
        logs.append(
            {
                "schemaType": "ModelInvocationLog",
                "schemaVersion": "1.0",
                "timestamp": (START + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "accountId": ACCOUNT_ID,
                "region": region,
                "requestId": f"req-{seed}-{i:06d}",
                "operation": "Converse",
                "modelId": model_id,
                "input": {
                    "inputContentType": "application/json",
                    "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": user}]}]},
                    "inputTokenCount": len(user.split()),
                },
                "output": {
                    "outputContentType": "application/json",
                    "outputBodyJson": {
                        "output": {"message": {"role": "assistant", "content": [{"text": "..."}]}},
                        "stopReason": "end_turn",
                    },
                },
                "requestMetadata": metadata,
            }
        )
    return logs


def write_invocation_logs(
    s3_client: Any, prefix_uri: str, logs: Iterable[Mapping[str, Any]], per_object: int = LOGS_PER_OBJECT
) -> str:
    """Write ``logs`` under ``prefix_uri`` as gzipped JSON Lines objects laid out like Bedrock's
    (``AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/<n>.json.gz``); returns the
    prefix a job's ``invocationLogSource.s3Uri`` should name (``.../BedrockModelInvocationLogs/``)."""
    bucket, _, key_prefix = prefix_uri[len("s3://") :].partition("/")
    base = f"{key_prefix.strip('/') + '/' if key_prefix.strip('/') else ''}AWSLogs/{ACCOUNT_ID}/"
    base += "BedrockModelInvocationLogs/"
    batch: list[Mapping[str, Any]] = []
    written: list[str] = []

    def flush() -> None:
        first = batch[0]
        hour = str(first.get("timestamp", "2026-11-01T00"))[:13].replace("-", "/").replace("T", "/")
        # Named after the first log's request id: a later batch never overwrites an earlier one.
        key = (
            f"{base}{first.get('region', 'us-east-1')}/{hour}/{first.get('requestId', len(written))}.json.gz"
        )
        body = gzip.compress("".join(json.dumps(log) + "\n" for log in batch).encode())
        s3_client.put_object(Bucket=bucket, Key=key, Body=body)
        written.append(key)
        batch.clear()

    for log in logs:
        batch.append(log)
        if len(batch) >= per_object:
            flush()
    if batch:
        flush()
    return f"s3://{bucket}/{base}"
