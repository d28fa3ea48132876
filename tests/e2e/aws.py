"""The sandbox as AWS for the stack: started in this process, prepared like an admin would.

The sandbox runs in the e2e driver's process, so the driver can hold training jobs in their
validation stage (:class:`HoldableConfig`) while a scenario acts on the deferred task, and count
resources directly at the end. Airflow's components reach it over HTTP like real AWS.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bedrock_rft_provider.demo import BUCKET, write_daily_prompts
from bedrock_rft_provider.sandbox.bootstrap import bootstrap_sandbox
from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.server import Sandbox

ACCOUNT = "123456789012"
REGION = "us-east-1"
HOLD_LIMIT_SECONDS = 600.0  # a held job is released after this even if a scenario forgot to


class JobHold:
    """While set, new and running jobs wait at their validation stage (they stay ``InProgress``)."""

    def __init__(self) -> None:
        self._held = threading.Event()

    def hold(self) -> None:
        self._held.set()

    def release(self) -> None:
        self._held.clear()

    def wait_while_held(self) -> None:
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while self._held.is_set() and time.monotonic() < deadline:
            time.sleep(0.2)


HOLD = JobHold()


@dataclasses.dataclass(frozen=True)
class HoldableConfig(SandboxConfig):
    """The sandbox's knobs, plus the e2e's hold on the validation stage (see :data:`HOLD`)."""

    def seconds(self, what: str) -> float:
        if what == "validation":
            HOLD.wait_while_held()
        return super().seconds(what)


def start_sandbox(time_scale: float) -> Sandbox:
    """The sandbox on a free port, bootstrapped: the demo's bucket and the two IAM roles."""
    sandbox = Sandbox(config=HoldableConfig(time_scale=time_scale)).start()
    bootstrap_sandbox(sandbox.endpoint_url, [BUCKET], session=sandbox.session())
    return sandbox


def airflow_connection(sandbox: Sandbox) -> str:
    """``AIRFLOW_CONN_AWS_DEFAULT`` for the sandbox, with its test credentials so no task needs a profile.

    The open-weight tasks mint a short-term Bedrock API key from them, and the sandbox verifies such keys
    only when they are signed with its test credentials (``testing``), as ``bedrock-rft sandbox`` prints.
    """
    return json.dumps(
        {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"endpoint_url": sandbox.endpoint_url, "region_name": REGION},
        }
    )


def rft_jobs(sandbox: Sandbox) -> list[dict[str, Any]]:
    pages = sandbox.client("bedrock").get_paginator("list_model_customization_jobs").paginate()
    return [job for page in pages for job in page.get("modelCustomizationJobSummaries", [])]


def job_status(sandbox: Sandbox, name: str) -> str:
    return str(sandbox.client("bedrock").get_model_customization_job(jobIdentifier=name)["status"])


def seed_backfill(sandbox: Sandbox, family: str, record: dict[str, Any], days: list[date]) -> None:
    """Daily test prompts for ``days``, and a champion history whose promotions fall inside them.

    Version 1 is promoted at noon of the second day and version 2 at noon of the third, so the
    three daily intervals (each ending at the next midnight) see the base model, v1 and v2. SSM stamps
    a version with the time it is written; the sandbox's state is in this process, so the history is
    dated back the way a real account's would be after two past promotions.
    """
    from moto.ssm.models import ssm_backends

    write_daily_prompts(sandbox.session(), sandbox.endpoint_url, days)
    ssm = sandbox.client("ssm")
    name = f"/bedrock-rft/champion/{family}"
    for version, day in enumerate(days[1:], start=1):
        promoted = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=12)
        value = dict(record, family=family, promoted_at=promoted.isoformat(), e2e_version=version)
        ssm.put_parameter(Name=name, Value=json.dumps(value), Type="String", Overwrite=True)
        stored = ssm_backends[ACCOUNT][REGION]._parameters[name][-1]
        stored.last_modified_date = promoted


def bucket_keys(sandbox: Sandbox, prefix: str) -> list[str]:
    pages = sandbox.client("s3").get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def read_json(sandbox: Sandbox, key: str) -> dict[str, Any]:
    return dict(json.loads(sandbox.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()))


def read_champion(sandbox: Sandbox, family: str) -> dict[str, Any] | None:
    ssm = sandbox.client("ssm")
    try:
        return dict(
            json.loads(ssm.get_parameter(Name=f"/bedrock-rft/champion/{family}")["Parameter"]["Value"])
        )
    except ssm.exceptions.ParameterNotFound:
        return None


def champion_deployments(sandbox: Sandbox) -> set[str]:
    """The deployment ARN of every family's current champion (SSM ``/bedrock-rft/champion/*``)."""
    pages = (
        sandbox.client("ssm").get_paginator("get_parameters_by_path").paginate(Path="/bedrock-rft/champion")
    )
    records = [json.loads(p["Value"]) for page in pages for p in page["Parameters"]]
    return {r["deployment_arn"] for r in records if r.get("deployment_arn")}


def setup_job_events(sandbox: Sandbox, logs: Path) -> str:
    """Run ``bedrock-rft events-setup`` against the sandbox, as the README says; returns the queue URL.

    The command runs with its own AIRFLOW_HOME (it only reads the connection from the environment),
    before any component starts: the dag-processor and the triggerer need the URL in their environment.
    """
    home = logs / "events-setup-home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(AIRFLOW_HOME=str(home), AIRFLOW_CONN_AWS_DEFAULT=airflow_connection(sandbox))
    command = [
        str(Path(sys.executable).with_name("bedrock-rft")),
        "events-setup",
        "--job-name-prefix",
        "rft-",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    (logs / "events-setup.log").write_text(result.stdout + result.stderr)
    found = re.search(r"^export BEDROCK_RFT_EVENTS_QUEUE_URL=(\S+)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or found is None:
        raise RuntimeError(f"bedrock-rft events-setup exited {result.returncode}: {result.stderr[-500:]}")
    return found[1]


NOTIFY_NAME = "bedrock-rft-e2e-notifications"


def notification_topic(sandbox: Sandbox) -> tuple[str, str]:
    """An SNS topic with an SQS queue subscribed to it (how a user would read the messages back);
    returns ``(topic_arn, queue_url)``. Idempotent: SNS and SQS return the existing ones."""
    topic_arn = sandbox.client("sns").create_topic(Name=NOTIFY_NAME)["TopicArn"]
    sqs = sandbox.client("sqs")
    queue_url = sqs.create_queue(QueueName=NOTIFY_NAME)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sandbox.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return str(topic_arn), str(queue_url)


def notifications(sandbox: Sandbox, queue_url: str) -> list[dict[str, Any]]:
    """Every SNS notification waiting in ``queue_url`` (the SNS envelope: ``Subject``, ``Message``)."""
    sqs = sandbox.client("sqs")
    found: list[dict[str, Any]] = []
    for _ in range(100):  # bounded: a queue of this run holds a handful
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = batch.get("Messages", [])
        if not messages:
            break
        found += [json.loads(m["Body"]) for m in messages]
        for m in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return found


def write_traffic_logs(sandbox: Sandbox, selected: int, other: int) -> str:
    """Synthetic invocation logs in the demo bucket: ``selected`` calls tagged ``app=e2e-tutor`` and
    ``other`` tagged ``app=e2e-chat``; returns the prefix a job's ``invocationLogSource`` names."""
    from bedrock_rft_provider.sandbox.invocation_logs import synthetic_invocation_logs, write_invocation_logs

    logs = synthetic_invocation_logs(selected, seed=11, request_metadata={"app": "e2e-tutor"})
    logs += synthetic_invocation_logs(other, seed=12, request_metadata={"app": "e2e-chat"})
    return write_invocation_logs(sandbox.client("s3"), f"s3://{BUCKET}/e2e-invocation-logs", logs)
