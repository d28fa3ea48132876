"""Apache Airflow provider for Amazon Bedrock Reinforcement Fine-Tuning (RFT)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
