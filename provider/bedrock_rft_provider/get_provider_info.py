"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from bedrock_rft_provider import __version__


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow's ProvidersManager loads."""
    return {
        "package-name": "airflow-provider-bedrock-rft",
        "name": "Amazon Bedrock RFT",
        "description": "Amazon Bedrock Reinforcement Fine-Tuning: datasets, reward graders, RFT jobs, "
        "evaluation, champion/challenger promotion, and an offline sandbox.",
        "versions": [__version__],
        "hooks": [
            {
                "integration-name": "Amazon Bedrock RFT",
                "python-modules": [
                    "bedrock_rft_provider.hooks.bedrock_rft",
                    "bedrock_rft_provider.hooks.champion",
                    "bedrock_rft_provider.hooks.deployment",
                    "bedrock_rft_provider.hooks.evaluation",
                    "bedrock_rft_provider.hooks.reward_lambda",
                ],
            },
        ],
        "operators": [
            {
                "integration-name": "Amazon Bedrock RFT",
                "python-modules": [
                    "bedrock_rft_provider.operators.dataset",
                    "bedrock_rft_provider.operators.deployment",
                    "bedrock_rft_provider.operators.evaluation",
                    "bedrock_rft_provider.operators.forecast",
                    "bedrock_rft_provider.operators.gate",
                    "bedrock_rft_provider.operators.grader_guard",
                    "bedrock_rft_provider.operators.judge_calibration",
                    "bedrock_rft_provider.operators.promote",
                    "bedrock_rft_provider.operators.reward",
                    "bedrock_rft_provider.operators.rft_job",
                ],
            },
        ],
        "sensors": [
            {
                "integration-name": "Amazon Bedrock RFT",
                "python-modules": ["bedrock_rft_provider.sensors.rft_job"],
            },
        ],
        "triggers": [
            {
                "integration-name": "Amazon Bedrock RFT",
                "python-modules": [
                    "bedrock_rft_provider.triggers.deployment",
                    "bedrock_rft_provider.triggers.rft_job",
                ],
            },
        ],
        "config": {
            "bedrock_rft": {
                "description": "Settings of the Amazon Bedrock RFT provider.",
                "options": {
                    "namespace": {
                        "description": "Deployment namespace hashed into every derived job, custom model "
                        "and deployment name and clientRequestToken, so two Airflow installs sharing an "
                        "AWS account never reattach to each other's jobs. Unset: the Variable "
                        "bedrock_rft_namespace, drawn at random on first use (one per metadata database).",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "prod-eu",
                        "default": None,
                    },
                },
            },
        },
        "extra-links": [
            "bedrock_rft_provider.links.bedrock.BedrockRFTJobLink",
            "bedrock_rft_provider.links.bedrock.BedrockCustomModelLink",
            "bedrock_rft_provider.links.bedrock.BedrockCustomModelDeploymentLink",
            "bedrock_rft_provider.links.evaluation.BedrockRFTEvaluationReportLink",
        ],
    }
