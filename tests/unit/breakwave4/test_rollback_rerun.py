"""Break wave 4: a cleared rollback task is a rerun, not a second rollback.

A rollback only checked whether the *current* champion was already its rollback; once a newer promotion
followed, clearing the old rollback run (or its task) rolled back again and demoted the newer champion.
The rollback record now names the run that wrote it, so its rerun finds it anywhere in the history, and
the rollback notification is not sent again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from bedrock_rft_provider.hooks.champion_serving import ChampionServing
from bedrock_rft_provider.notifications import BedrockRFTNotifier
from bedrock_rft_provider.operators.promote import BedrockRFTRollbackOperator
from unit.breakwave4.fakes import MODEL_A, MODEL_B, MODEL_C, FakeBedrock, maker, serving_world


@pytest.fixture
def world() -> Iterator[tuple[ChampionServing, FakeBedrock, str]]:
    """Champion v1 (model A), v2 (model B), both served by one champion deployment."""
    with serving_world() as (serving, bedrock):
        champion = bedrock.add("champion", MODEL_A)
        serving.promote("gsm8k", MODEL_A, champion, maker(MODEL_A, "run-1"))
        serving.promote("gsm8k", MODEL_B, None, maker(MODEL_B, "run-2"))
        yield serving, bedrock, champion


def test_a_rerun_rollback_after_a_newer_promotion_changes_nothing(world: Any) -> None:
    serving, bedrock, champion = world
    rolled = serving.rollback("gsm8k", 1, run_id="rollback-run")
    assert (rolled.version, bedrock.deployments[champion]["modelArn"]) == (3, MODEL_A)
    serving.promote("gsm8k", MODEL_C, None, maker(MODEL_C, "run-4"))  # v4, a newer champion
    again = serving.rollback("gsm8k", 1, run_id="rollback-run")  # the rollback task cleared
    assert again.version == 3
    assert serving.champions.current("gsm8k").record["custom_model_arn"] == MODEL_C
    assert bedrock.deployments[champion]["modelArn"] == MODEL_C


def test_another_run_may_roll_back_to_the_same_version_again(world: Any) -> None:
    serving, _bedrock, _champion = world
    serving.rollback("gsm8k", 1, run_id="rollback-run")
    serving.promote("gsm8k", MODEL_C, None, maker(MODEL_C, "run-4"))
    assert serving.rollback("gsm8k", 1, run_id="another-rollback").version == 5


class TI:
    dag_id, run_id, task_id = "ops", "rollback-run", "rollback"

    def __init__(self) -> None:
        self.result: Any = None

    def xcom_pull(self, task_ids: str, key: str = "return_value") -> Any:
        return self.result if (task_ids, key) == ("rollback", "return_value") else None


def test_the_operator_announces_a_rollback_once(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    serving, _bedrock, _champion = world
    topic = boto3.client("sns", "us-east-1").create_topic(Name="rft")["TopicArn"]
    monkeypatch.setattr("bedrock_rft_provider.operators.promote.champion_serving", lambda *a: serving)
    for _try in range(2):
        operator = BedrockRFTRollbackOperator(task_id="rollback", family="gsm8k", version=1, aws_conn_id=None)
        ti = TI()
        context: Any = {"run_id": "rollback-run", "ti": ti, "task": operator}
        ti.result = operator.execute(context)
        BedrockRFTNotifier(event="rollback", topic_arn=topic, family="gsm8k", aws_conn_id=None).notify(
            context
        )
    sent = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[topic].sent_notifications
    assert [n[2] for n in sent] == ["Bedrock RFT gsm8k: rollback - back to version 1"]
