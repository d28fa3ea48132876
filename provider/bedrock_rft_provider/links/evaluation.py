"""Extra link from an evaluation task to its HTML report (S3 console, or the local file)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class BedrockRFTEvaluationReportLink(BaseAwsLink):
    """``report.html`` of the evaluation: its S3 console page, or a ``file://`` URL for local output."""

    name = "Evaluation report"
    key = "bedrock_rft_evaluation_report"
    format_str = BASE_AWS_CONSOLE_LINK + "/s3/object/{bucket}?region={region_name}&prefix={key}"

    def format_link(self, **kwargs: Any) -> str:
        if kwargs.get("url"):
            return str(kwargs["url"])
        if kwargs.get("key"):
            kwargs["key"] = quote(str(kwargs["key"]), safe="/")
        return super().format_link(**kwargs)
