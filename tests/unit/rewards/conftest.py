"""Helpers for reward tests: grader events shaped the way Bedrock sends them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def grader_event(
    response: Any,
    reference: Any = "18",
    *,
    sample_id: str = "s-1",
    location: str = "metadata",
    role: str = "assistant",
    prompt: str = "How much does Janet make?",
) -> dict[str, Any]:
    """One grader sample: the prompt, the model's turn and the reference in ``location``."""
    event: dict[str, Any] = {
        "id": sample_id,
        "messages": [
            {"role": "system", "content": "Answer with #### N."},
            {"role": "user", "content": prompt},
            {"role": role, "content": response},
        ],
        "metadata": {"source": "test"},
    }
    if location == "metadata":
        event["metadata"]["reference_answer"] = reference
    else:
        event["reference_answer"] = reference
    return event


@pytest.fixture
def runtime() -> Any:
    """A bedrock-runtime client and its Stubber (responses validated against the service model)."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def make_event() -> Any:
    """The :func:`grader_event` builder."""
    return grader_event


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rewards"


@pytest.fixture
def reward_fixtures(monkeypatch: pytest.MonkeyPatch) -> Path:
    """tests/fixtures/rewards, importable (the ``acme_rewards`` package lives there)."""
    monkeypatch.syspath_prepend(str(FIXTURES))
    return FIXTURES
