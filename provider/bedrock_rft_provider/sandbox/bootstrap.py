"""Prepare a running sandbox for your own DAGs: bucket, Bedrock service role, grader role, connection.

A fresh sandbox is as empty as a fresh AWS account: no bucket (``NoSuchBucket``), no roles ("role
cannot be assumed"). :func:`bootstrap_sandbox` creates what an AWS admin sets up once — idempotent, so
running it again changes nothing — and returns the Airflow connection (with the dummy credentials the
sandbox accepts; without any, every task fails with ``NoCredentialsError``).

From the shell: ``bedrock-rft sandbox-bootstrap --endpoint-url http://127.0.0.1:5000`` (a running
sandbox) or ``bedrock-rft sandbox --bootstrap`` (start one and prepare it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

DEFAULT_BUCKET = "bedrock-rft-demo"
SERVICE_ROLE = "bedrock-rft-service"
GRADER_ROLE = "bedrock-rft-grader"
REGION = "us-east-1"
# The sandbox accepts any credentials; botocore needs some to sign requests.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"


def connection_uri(endpoint_url: str, region_name: str = REGION) -> str:
    """The ``AIRFLOW_CONN_AWS_DEFAULT`` URI form: ``aws://KEY:SECRET@/?endpoint_url=...&region_name=...``.

    The amazon provider reads login/password as the access key id/secret and every query parameter as
    a connection extra.
    """
    query = urlencode({"endpoint_url": endpoint_url, "region_name": region_name})
    return f"aws://{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}@/?{query}"


def connection_json(endpoint_url: str, region_name: str = REGION) -> str:
    """The same connection in Airflow's JSON form (``{"conn_type": "aws", "login": ..., "extra": ...}``)."""
    return json.dumps(
        {
            "conn_type": "aws",
            "login": ACCESS_KEY_ID,
            "password": SECRET_ACCESS_KEY,
            "extra": {"endpoint_url": endpoint_url, "region_name": region_name},
        }
    )


@dataclass(frozen=True)
class SandboxResources:
    """What :func:`bootstrap_sandbox` prepared, and how Airflow reaches it."""

    endpoint_url: str
    buckets: tuple[str, ...]
    service_role_arn: str
    grader_role_arn: str
    created: tuple[str, ...]

    @property
    def connection_uri(self) -> str:
        return connection_uri(self.endpoint_url)

    def shell_lines(self) -> list[str]:
        """What the CLI prints: the export line, then the ARNs a DAG's params need."""
        return [
            f"export AIRFLOW_CONN_AWS_DEFAULT='{self.connection_uri}'",
            f"# bucket(s):        {', '.join(self.buckets)}",
            f"# role_arn:         {self.service_role_arn}",
            f"# grader_role_arn:  {self.grader_role_arn}",
            f"# created now:      {', '.join(self.created) or 'nothing (already prepared)'}",
        ]


def _trust(principal: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def bootstrap_sandbox(
    endpoint_url: str, buckets: Sequence[str] = (DEFAULT_BUCKET,), *, session: Any = None
) -> SandboxResources:
    """Create the buckets, the Bedrock service role and the grader role in the sandbox (idempotent)."""
    import boto3

    session = session or boto3.session.Session(
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY, region_name=REGION
    )
    s3 = session.client("s3", endpoint_url=endpoint_url)
    iam = session.client("iam", endpoint_url=endpoint_url)
    created: list[str] = []
    existing_buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in buckets:
        if bucket not in existing_buckets:
            s3.create_bucket(Bucket=bucket)
            created.append(f"s3://{bucket}")
    arns: dict[str, str] = {}
    existing_roles = {r["RoleName"]: r["Arn"] for r in iam.list_roles()["Roles"]}
    for role, principal in ((SERVICE_ROLE, "bedrock.amazonaws.com"), (GRADER_ROLE, "lambda.amazonaws.com")):
        if role in existing_roles:
            arns[role] = existing_roles[role]
        else:
            arns[role] = iam.create_role(RoleName=role, AssumeRolePolicyDocument=_trust(principal))["Role"][
                "Arn"
            ]
            created.append(f"role {role}")
    return SandboxResources(
        endpoint_url, tuple(buckets), arns[SERVICE_ROLE], arns[GRADER_ROLE], tuple(created)
    )
