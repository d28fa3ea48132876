"""Break wave 4: lineage events never carry credentials from a dataset location.

A presigned HTTPS URL (signature, access key id, session token in its query) or a URL with a user and
password, given where a URI is expected, used to become a ``file`` dataset named after the whole string.
Lineage backends are read by many more people than the Airflow connection store.
"""

from __future__ import annotations

import pytest

from bedrock_rft_provider.lineage import champion_task, dataset_for, to_operator_lineage

PRESIGNED = (
    "https://bucket.s3.us-east-1.amazonaws.com/data/train.jsonl?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLETOKEN&X-Amz-Signature=deadbeef#frag"
)
WITH_PASSWORD = "https://alice:hunter2@example.com:8443/d/test.jsonl?token=hunter2"
SECRETS = ("AKIAIOSFODNN7EXAMPLE", "IQoJb3JpZ2luX2VjEXAMPLETOKEN", "deadbeef", "hunter2", "X-Amz", "frag")


@pytest.mark.parametrize(
    ("location", "namespace", "name"),
    [
        (PRESIGNED, "https://bucket.s3.us-east-1.amazonaws.com", "/data/train.jsonl"),
        (WITH_PASSWORD, "https://example.com:8443", "/d/test.jsonl"),
        ("s3://bucket/data/train.jsonl", "s3://bucket", "data/train.jsonl"),
        ("https://u:hunter2@host:99999/x?sig=deadbeef", "https://host", "/x"),  # no such port
        ("https://host:abc", "https://host", "/"),
    ],
)  # fmt: skip
def test_urls_are_named_without_credentials(location: str, namespace: str, name: str) -> None:
    dataset = dataset_for(location)
    assert (dataset.namespace, dataset.name) == (namespace, name)


def test_a_champion_event_with_a_presigned_dataset_uri_leaks_nothing() -> None:
    result = {
        "parameter": "/bedrock-rft/champion/gsm8k",
        "version": 1,
        "record": {
            "family": "gsm8k",
            "dataset_uris": {"train": PRESIGNED},
            "dataset_sha256": {"train": "ab"},
        },
    }
    lineage = champion_task(result, eval_summary_uri=PRESIGNED, region="us-east-1")
    event = to_operator_lineage(lineage, None)
    text = repr(event)
    assert not [secret for secret in SECRETS if secret in text]
