"""Console links for Bedrock RFT resources, shown as extra links on the tasks that made them.

UNVERIFIED: AWS does not document the Bedrock console's deep-link formats, and without an AWS account
they cannot be checked here. Each link below points at the resource's own detail page in the form the
console's single-page app uses for its "item" pages (``#/<section>/item?arn=<URL-encoded ARN>``); if
AWS changes that routing, the link lands on the section's list page, where the resource can be found
by name. Links are formatted from what the task stored in XCom, so a changed format needs only this
module to change.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink

_BEDROCK_CONSOLE = BASE_AWS_CONSOLE_LINK + "/bedrock/home?region={region_name}#/"


class _ArnLink(BaseAwsLink):
    """A console link whose ``{..._arn}`` placeholders are URL-encoded (ARNs hold ``:`` and ``/``)."""

    def format_link(self, **kwargs: Any) -> str:
        arns = {k: v for k, v in kwargs.items() if k.endswith("arn")}
        if not all(arns.values()):
            return ""  # no link, rather than a broken one, while the task has no resource yet
        encoded = {k: quote(str(v), safe="") if k in arns else v for k, v in kwargs.items()}
        return super().format_link(**encoded)


class BedrockRFTJobLink(_ArnLink):
    """The RFT job's own detail page (model customization job), not the custom-models list."""

    name = "Bedrock RFT job"
    key = "bedrock_rft_job"
    format_str = _BEDROCK_CONSOLE + "custom-models/jobs/item?arn={job_arn}"


class BedrockCustomModelLink(_ArnLink):
    """The custom model's detail page (the tuned, e.g. promoted, model)."""

    name = "Bedrock custom model"
    key = "bedrock_rft_custom_model"
    format_str = _BEDROCK_CONSOLE + "custom-models/item?arn={model_arn}"


class BedrockCustomModelDeploymentLink(_ArnLink):
    """The on-demand custom model deployment's detail page."""

    name = "Bedrock deployment"
    key = "bedrock_rft_deployment"
    format_str = _BEDROCK_CONSOLE + "custom-model-deployments/item?arn={deployment_arn}"
