"""Break wave 4: promote only the model the evaluation (and so the gate) was about.

The promote task takes the model and the evaluation summary separately; mis-wired (another task's
output, a best checkpoint evaluated but the job's final model promoted) it used to record a model the
gate never saw. The summary's ``model_id`` must name the promoted model or its deployment.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator
from unit.breakwave4.fakes import MODEL_A, MODEL_B

DEPLOYMENT_A = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/challenger-a"
FINE_TUNED = "ft:openai.gpt-oss-20b:my-org:run-1"
CHECKPOINT = "ft:openai.gpt-oss-20b:my-org:run-1:ckpt-step-40"


@pytest.fixture
def champions() -> Iterator[BedrockRFTChampionHook]:
    with mock_aws():
        yield BedrockRFTChampionHook(aws_conn_id=None, region_name="us-east-1")


def promote(evaluated: str, **model: Any) -> dict[str, Any]:
    operator = BedrockRFTPromoteOperator(
        task_id="promote", family="gsm8k", summary={"model_id": evaluated, "n": 100, "mean_reward": 0.8},
        tag_model=False, aws_conn_id=None, region_name="us-east-1", **model,
    )  # fmt: skip
    return operator.execute({"run_id": "run-1"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("evaluated", "model"),
    [
        (MODEL_B, {"custom_model_arn": MODEL_A}),
        (DEPLOYMENT_A, {"custom_model_arn": MODEL_A, "deployment_arn": DEPLOYMENT_A.replace("-a", "-b")}),
        (CHECKPOINT, {"custom_model_arn": FINE_TUNED}),  # the best checkpoint won, not the final model
    ],
)
def test_a_model_the_evaluation_was_not_about_is_not_promoted(
    champions: BedrockRFTChampionHook, evaluated: str, model: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError, match=r"^summary: .*evaluat"):
        promote(evaluated, **model)
    assert champions.history("gsm8k") == []


@pytest.mark.parametrize(
    ("evaluated", "model"),
    [
        (
            DEPLOYMENT_A,
            {"custom_model_arn": MODEL_A, "deployment_arn": DEPLOYMENT_A},
        ),  # native: its deployment
        (MODEL_A, {"custom_model_arn": MODEL_A}),
        (FINE_TUNED, {"custom_model_arn": FINE_TUNED}),  # open-weight: the job operator's output
        (CHECKPOINT, {"custom_model_arn": FINE_TUNED, "model_id": CHECKPOINT}),
        ("my-precomputed-responses", {"custom_model_arn": MODEL_A}),  # a label, not a model id: unchecked
    ],
)
def test_the_evaluated_model_is_promoted(
    champions: BedrockRFTChampionHook, evaluated: str, model: dict[str, Any]
) -> None:
    assert promote(evaluated, **model)["version"] == 1
