"""Put a botocore Stubber-backed client under a hook, so every AWS call is checked against the model."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber


def stubbed_client(service: str) -> tuple[Any, Stubber]:
    """A real botocore client for ``service`` with a Stubber attached (not yet activated)."""
    client = boto3.client(service, region_name="us-east-1")
    return client, Stubber(client)


def install_client(hook: Any, client: Any) -> None:
    """Make ``hook.conn`` return ``client`` (``conn`` is a cached property on amazon hooks)."""
    hook.__dict__["conn"] = client
