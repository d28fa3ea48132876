"""Tests of the Bedrock RFT sandbox."""
