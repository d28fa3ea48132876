"""Break wave 4: a model id that rendered to nothing ("None", "") is not promoted as a model."""

from __future__ import annotations

import pytest
from moto import mock_aws

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator


@pytest.mark.parametrize("unset", ["None", " ", ""])
def test_an_unrendered_model_is_a_config_error_before_any_aws_call(unset: str) -> None:
    operator = BedrockRFTPromoteOperator(task_id="promote", family="gsm8k", custom_model_arn=unset)
    with mock_aws(), pytest.raises(ConfigError, match=r"^custom_model_arn: is required"):
        operator.execute({"run_id": "run-1"})  # type: ignore[arg-type]
