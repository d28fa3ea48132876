"""The RFT job, pure: hyperparameters, request spec, deterministic naming, training metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bedrock_rft_provider.lazy import lazy_exports

if TYPE_CHECKING:
    from bedrock_rft_provider.jobs.hyperparameters import RFTHyperParameters
    from bedrock_rft_provider.jobs.metrics import TrainingMetrics, parse_metrics_files
    from bedrock_rft_provider.jobs.naming import (
        client_request_token,
        custom_model_name_for_run,
        job_name_for_run,
    )
    from bedrock_rft_provider.jobs.spec import CUSTOMIZATION_TYPE, RFTJobSpec

__getattr__ = lazy_exports(
    __name__,
    {
        "RFTHyperParameters": "hyperparameters",
        "TrainingMetrics": "metrics",
        "parse_metrics_files": "metrics",
        "client_request_token": "naming",
        "custom_model_name_for_run": "naming",
        "job_name_for_run": "naming",
        "CUSTOMIZATION_TYPE": "spec",
        "RFTJobSpec": "spec",
    },
)

__all__ = [
    "CUSTOMIZATION_TYPE",
    "RFTHyperParameters",
    "RFTJobSpec",
    "TrainingMetrics",
    "client_request_token",
    "custom_model_name_for_run",
    "job_name_for_run",
    "parse_metrics_files",
]
