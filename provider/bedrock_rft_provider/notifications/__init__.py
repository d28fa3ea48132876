"""Notifiers (Airflow's ``BaseNotifier`` interface) for the retraining loop's decisions and failures."""

from bedrock_rft_provider.notifications.retraining import EVENTS, BedrockRFTNotifier

__all__ = ["EVENTS", "BedrockRFTNotifier"]
