"""Console links for Bedrock RFT resources, shown as extra links on the task."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class BedrockRFTJobLink(BaseAwsLink):
    """The RFT job's page in the Bedrock console (custom-model jobs list, filtered to this job)."""

    name = "Bedrock RFT job"
    key = "bedrock_rft_job"
    # The console's deep-link format for customization jobs is not documented; this is the form the
    # console uses today for job details ("#/custom-models/item?arn=<job ARN>").
    format_str = (
        BASE_AWS_CONSOLE_LINK + "/bedrock/home?region={region_name}#/custom-models/item?arn={job_arn}"
    )

    def format_link(self, **kwargs: Any) -> str:
        """No link (rather than a broken one) while the try has not started a job yet."""
        return super().format_link(**kwargs) if kwargs.get("job_arn") else ""
