"""Break wave 4: the challenger's deployment is adopted as the champion deployment only while it serves
the promoted model. A challenger torn down (a clear after Reject, then Approve), Failed, or serving
another model must stop the promotion before anything changes, not leave the family without service."""

from __future__ import annotations

import re

import pytest

from bedrock_rft_provider.hooks.deployment import DeploymentUpdateImpossibleError
from unit.breakwave4.fakes import MODEL_A, MODEL_B, OTHER_BASE_MODEL, maker, serving_world


def test_first_champion_is_not_adopted_from_a_torn_down_deployment() -> None:
    with serving_world() as (serving, bedrock):
        gone = bedrock.add("challenger-a", MODEL_A)
        del bedrock.deployments[gone]  # tear_down ran after a Reject; then the approval was cleared
        with pytest.raises(DeploymentUpdateImpossibleError, match=r"challenger-a.*(gone|does not exist)"):
            serving.promote("gsm8k", MODEL_A, gone, maker(MODEL_A, "run-1"))
        assert serving.champions.history("gsm8k") == []  # no record points at a dead deployment


@pytest.mark.parametrize("status", ["Failed", "Creating"])
def test_first_champion_is_not_adopted_from_a_deployment_that_is_not_active(status: str) -> None:
    with serving_world() as (serving, bedrock):
        arn = bedrock.add("challenger-a", MODEL_A, status=status)
        with pytest.raises(DeploymentUpdateImpossibleError, match=status):
            serving.promote("gsm8k", MODEL_A, arn, maker(MODEL_A, "run-1"))
        assert serving.champions.history("gsm8k") == []


def test_a_deployment_of_another_model_is_not_recorded_as_serving_the_promoted_one() -> None:
    with serving_world() as (serving, bedrock):
        arn = bedrock.add("challenger-b", MODEL_B)
        with pytest.raises(DeploymentUpdateImpossibleError, match=re.escape(f"serves {MODEL_B}")):
            serving.promote("gsm8k", MODEL_A, arn, maker(MODEL_A, "run-1"))
        assert serving.champions.history("gsm8k") == []


def test_fallback_keeps_the_champion_deployment_when_the_challenger_is_gone() -> None:
    with serving_world() as (serving, bedrock):
        champion = bedrock.add("champion", MODEL_A)
        serving.promote("gsm8k", MODEL_A, champion, maker(MODEL_A, "run-1"))
        gone = bedrock.add("challenger-other-base", OTHER_BASE_MODEL)
        del bedrock.deployments[gone]
        # The in-place update is refused (another base model) and the fallback's challenger is gone:
        # the champion deployment must survive and the record must not move.
        with pytest.raises(DeploymentUpdateImpossibleError, match=r"gone|does not exist"):
            serving.promote("gsm8k", OTHER_BASE_MODEL, gone, maker(OTHER_BASE_MODEL, "run-2"))
        assert champion in bedrock.deployments
        assert ("delete", champion) not in bedrock.calls
        assert [v.record["deployment_arn"] for v in serving.champions.history("gsm8k")] == [champion]


def test_fallback_still_adopts_a_live_challenger() -> None:
    with serving_world() as (serving, bedrock):
        champion = bedrock.add("champion", MODEL_A)
        serving.promote("gsm8k", MODEL_A, champion, maker(MODEL_A, "run-1"))
        challenger = bedrock.add("challenger-other-base", OTHER_BASE_MODEL)
        version = serving.promote("gsm8k", OTHER_BASE_MODEL, challenger, maker(OTHER_BASE_MODEL, "run-2"))
        assert version.record["deployment_arn"] == challenger
        assert version.record["replaced_deployment_arn"] == champion
        assert champion not in bedrock.deployments


def test_an_impossible_update_without_a_challenger_deployment_keeps_the_champion_deployment() -> None:
    """Nothing to fall back to: the old code deleted the champion deployment and recorded none."""
    with serving_world() as (serving, bedrock):
        champion = bedrock.add("champion", MODEL_A)
        serving.promote("gsm8k", MODEL_A, champion, maker(MODEL_A, "run-1"))
        with pytest.raises(DeploymentUpdateImpossibleError, match="no challenger deployment"):
            serving.promote("gsm8k", OTHER_BASE_MODEL, None, maker(OTHER_BASE_MODEL, "run-2"))
        assert champion in bedrock.deployments
        assert [v.record["deployment_arn"] for v in serving.champions.history("gsm8k")] == [champion]
