"""Promotion on the open-weight path (moto SSM): the model id is the champion, with no deployment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from bedrock_rft_provider.hooks.deployment import BedrockCustomModelDeploymentHook
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator

TUNED = "openai.gpt-oss-20b:ft:ftjob-abc"
CHECKPOINT = f"{TUNED}:ckpt-step-10"
NOVA = "arn:aws:bedrock:us-west-2:123456789012:custom-model/amazon.nova-2-lite-v1:0:256k/aaaaaaaaaaaa"
SUMMARY = {"n": 120, "mean_reward": 0.9, "delta": 0.3, "baseline": {"mean_reward": 0.6}}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """moto, and the ARNs anything tried to tag (open-weight promotions must tag nothing)."""
    tagged: list[str] = []
    monkeypatch.setattr(
        BedrockCustomModelDeploymentHook, "tag_resource", lambda self, arn, tags: tagged.append(arn)
    )
    with mock_aws():
        yield tagged


def promote(run_id: str, **arguments: Any) -> dict[str, Any]:
    operator = BedrockRFTPromoteOperator(
        task_id="promote", family="gptoss", aws_conn_id=None, region_name="us-west-2", **arguments
    )
    return operator.execute({"run_id": run_id})


def history() -> list[dict[str, Any]]:
    hook = BedrockRFTChampionHook(aws_conn_id=None, region_name="us-west-2")
    return [v.record for v in hook.history("gptoss")]


def test_the_fine_tuned_model_id_is_recorded_without_deployment_or_tags(aws: list[str]) -> None:
    # The job operator returns an open-weight job's fine_tuned_model as custom_model_arn too.
    result = promote("run-1", custom_model_arn=TUNED, job_arn="ftjob-abc", summary=SUMMARY)
    record = result["record"]
    assert (
        record["model_id"] == TUNED and record["backend"] == "open-weight" and record["job_id"] == "ftjob-abc"
    )
    assert (
        record["custom_model_arn"] is None and record["deployment_arn"] is None and record["job_arn"] is None
    )
    assert record["metrics"]["baseline_mean_reward"] == 0.6
    assert aws == []  # nothing to tag: open-weight models are not Bedrock custom models
    assert promote("run-1", custom_model_arn=TUNED, job_arn="ftjob-abc", summary=SUMMARY)["version"] == 1


def test_the_checkpoint_an_evaluation_chose_is_promoted_by_its_model_id(aws: list[str]) -> None:
    summary = {
        **SUMMARY,
        "checkpoint": {"step": 10, "metric": "val_score_rewards_mean", "value": 0.7, "compared": 3},
    }
    record = promote("run-1", custom_model_arn=TUNED, model_id=CHECKPOINT, summary=summary)["record"]
    assert record["model_id"] == CHECKPOINT
    assert record["checkpoint"] == {"step": 10, "metric": "val_score_rewards_mean", "value": 0.7}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {
                "custom_model_arn": TUNED,
                "deployment_arn": "arn:aws:bedrock:us-west-2:1:custom-model-deployment/x",
            },
            r"^deployment_arn: openai.gpt-oss-20b:ft:ftjob-abc answers without a deployment",
        ),
        ({"model_id": NOVA}, r"^model_id: is for open-weight models"),
        ({}, r"^custom_model_arn: is required to promote a model"),
        ({"custom_model_arn": TUNED, "backend": "native"}, r"^backend: 'native' cannot answer"),
    ],
    ids=["deployment", "native-model-id", "nothing", "contradicting-backend"],
)
def test_a_promotion_that_does_not_fit_its_backend_writes_nothing(
    aws: list[str], arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        promote("run-1", **arguments)
    assert history() == [] and aws == []


def test_rollback_moves_between_native_and_open_weight_champions(aws: list[str]) -> None:
    promote("run-1", custom_model_arn=NOVA, tag_model=False)
    promote("run-2", custom_model_arn=TUNED)
    hook = BedrockRFTChampionHook(aws_conn_id=None, region_name="us-west-2")
    back = hook.rollback("gptoss", 1)
    assert back.record["model_id"] == NOVA and "backend" not in back.record
    forward = hook.rollback("gptoss", 2)
    assert forward.record["model_id"] == TUNED and forward.record["deployment_arn"] is None
    assert [r["run_id"] for r in history()] == ["run-1", "run-2", "run-1", "run-2"]
