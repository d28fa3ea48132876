"""Break wave 4: two promotions of one family at once (the retraining and post-training DAGs, or two
Airflow installs on one account) must not take the champion deployment down.

Bedrock refuses an update while another runs (ValidationException, as for an impossible update); the
promotion used to take that for "update not possible", fall back to its challenger's deployment and
delete the champion deployment the other promotion was re-pointing: the stable ARN applications call
was gone. Now a busy or superseded deployment fails the task and changes nothing (a retry then meets
``baseline_version``'s check or re-points normally).
"""

from __future__ import annotations

import pytest

from bedrock_rft_provider.hooks.deployment import DeploymentBusyError
from unit.breakwave4.fakes import MODEL_A, MODEL_B, MODEL_C, maker, serving_world


def test_a_champion_deployment_being_updated_by_another_promotion_is_left_alone() -> None:
    with serving_world() as (serving, bedrock):
        champion = bedrock.add("champion", MODEL_A)
        serving.promote("gsm8k", MODEL_A, champion, maker(MODEL_A, "run-1"))
        bedrock.deployments[champion]["updateDetails"] = {"modelArn": MODEL_B, "updateStatus": "Updating"}
        challenger = bedrock.add("challenger-c", MODEL_C)
        with pytest.raises(DeploymentBusyError, match=f"being updated to {MODEL_B}"):
            serving.promote("gsm8k", MODEL_C, challenger, maker(MODEL_C, "run-3"))
        assert champion in bedrock.deployments and ("delete", champion) not in bedrock.calls
        assert [v.version for v in serving.champions.history("gsm8k")] == [1]


def test_an_update_superseded_while_waiting_fails_without_writing() -> None:
    with serving_world() as (serving, bedrock):
        champion = bedrock.add("champion", MODEL_A)
        serving.promote("gsm8k", MODEL_A, champion, maker(MODEL_A, "run-1"))

        def another_promotion_wins(deployment: dict) -> None:
            deployment.update(
                modelArn=MODEL_A, updateDetails={"modelArn": MODEL_B, "updateStatus": "Updating"}
            )

        bedrock.after_update = another_promotion_wins
        challenger = bedrock.add("challenger-c", MODEL_C)
        with pytest.raises(DeploymentBusyError, match=MODEL_B):
            serving.promote("gsm8k", MODEL_C, challenger, maker(MODEL_C, "run-3"))
        assert champion in bedrock.deployments
        assert [v.version for v in serving.champions.history("gsm8k")] == [1]
