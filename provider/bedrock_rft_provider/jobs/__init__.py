"""The RFT job, pure: hyperparameters, request spec, deterministic naming, training metrics."""

from __future__ import annotations

from bedrock_rft_provider.jobs.hyperparameters import RFTHyperParameters
from bedrock_rft_provider.jobs.metrics import TrainingMetrics, parse_metrics_files
from bedrock_rft_provider.jobs.naming import client_request_token, custom_model_name_for_run, job_name_for_run
from bedrock_rft_provider.jobs.spec import CUSTOMIZATION_TYPE, RFTJobSpec

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
