"""Extra links: the job links to its own page; the deployment and promoted model have links too
(issue 10, fault 9). The console formats are unverified (links/bedrock.py says so); these tests pin
that each link is well-formed, names its own resource, and is persisted by the task that made it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from moto import mock_aws

from bedrock_rft_provider.links.bedrock import (
    BedrockCustomModelDeploymentLink,
    BedrockCustomModelLink,
    BedrockRFTJobLink,
)
from bedrock_rft_provider.operators.deployment import BedrockCustomModelDeploymentOperator
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator
from bedrock_rft_provider.operators.rft_job import BedrockRFTJobOperator
from support.airflow_context import make_context

JOB_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-2-lite-v1:0:256k/abc123"
MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-2-lite-v1:0:256k/m0d3l"
DEPLOYMENT_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/a1b2c3d4e5f6"


@pytest.mark.parametrize(
    ("link", "stored", "arn", "page"),
    [
        (BedrockRFTJobLink(), {"job_arn": JOB_ARN}, JOB_ARN, "/custom-models/jobs/item"),
        (BedrockCustomModelLink(), {"model_arn": MODEL_ARN}, MODEL_ARN, "/custom-models/item"),
        (
            BedrockCustomModelDeploymentLink(),
            {"deployment_arn": DEPLOYMENT_ARN},
            DEPLOYMENT_ARN,
            "/custom-model-deployments/item",
        ),
    ],
    ids=["job", "model", "deployment"],
)
def test_each_link_opens_its_own_resource_page(
    link: Any, stored: dict[str, str], arn: str, page: str
) -> None:
    url = link.format_link(region_name="us-east-1", aws_domain="aws.amazon.com", **stored)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "console.aws.amazon.com", "/bedrock/home")
    assert parse_qs(parts.query) == {"region": ["us-east-1"]}
    fragment = urlsplit(parts.fragment)
    assert fragment.path == page
    assert parse_qs(fragment.query) == {"arn": [arn]}  # the ARN round-trips through URL encoding


def test_the_job_link_is_not_the_custom_model_page() -> None:
    url = BedrockRFTJobLink().format_link(
        region_name="us-east-1", aws_domain="aws.amazon.com", job_arn=JOB_ARN
    )
    assert "#/custom-models/item" not in url


def test_operators_declare_their_links() -> None:
    def names(operator: type) -> set[str]:
        return {link.name for link in operator.operator_extra_links}

    assert names(BedrockRFTJobOperator) == {"Bedrock RFT job"}
    assert names(BedrockCustomModelDeploymentOperator) == {"Bedrock deployment"}
    assert names(BedrockRFTPromoteOperator) == {"Bedrock custom model", "Bedrock deployment"}


def test_promote_persists_the_model_and_deployment_links() -> None:
    context = make_context(task_id="promote")
    context["run_id"] = "manual__links"
    with mock_aws():
        BedrockRFTPromoteOperator(
            task_id="promote",
            family="gsm8k",
            custom_model_arn=MODEL_ARN,
            deployment_arn=DEPLOYMENT_ARN,
            tag_model=False,
            aws_conn_id=None,
            region_name="us-east-1",
        ).execute(context)  # type: ignore[arg-type]
    xcoms = context["ti"].xcoms
    assert xcoms["bedrock_rft_custom_model"]["model_arn"] == MODEL_ARN
    assert xcoms["bedrock_rft_deployment"]["deployment_arn"] == DEPLOYMENT_ARN
    assert xcoms["bedrock_rft_deployment"]["region_name"] == "us-east-1"


def test_no_link_before_the_task_has_a_resource() -> None:
    link = BedrockRFTJobLink().format_link(region_name="us-east-1", aws_domain="aws.amazon.com", job_arn="")
    assert link == ""
