"""The grader-change guard in the sandbox: the champion is promoted with the grader it was evaluated
with; a new grader version is re-scored against the champion's stored responses before training."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from bedrock_rft_provider.operators.grader_guard import BedrockGraderChangeGuardOperator
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator
from bedrock_rft_provider.sandbox.server import Sandbox
from tests.support.airflow_context import make_context
from unit.sandbox.sandbox_helpers import (
    GRADER_FLAT,
    GRADER_RIGHT_NUMBER,
    World,
    jsonl,
    make_world,
    numeric_records,
    unique,
    zip_module,
)

pytestmark = pytest.mark.integration

# The same scores as GRADER_RIGHT_NUMBER, from different code (a refactor): a changed hash, same meaning.
GRADER_REFACTORED = GRADER_RIGHT_NUMBER.replace("results = []", "results = []  # refactored")
# Gives credit for any number at all: the meaning of the reward changed.
GRADER_ANY_NUMBER = r"""
import re

def handler(event, context):
    found = [re.search(r"\d", s["messages"][-1]["content"]) for s in event]
    return [{"id": s["id"], "aggregate_reward_score": 1.0 if f else 0.0} for s, f in zip(event, found)]
"""


class Grader:
    """One Lambda function whose code is updated and published as new versions."""

    def __init__(self, world: World, source: str) -> None:
        self.client = world.sandbox.client("lambda")
        self.name = unique("grader")
        self.client.create_function(
            FunctionName=self.name,
            Runtime="python3.11",
            Role=world.role_arn,
            Handler="bedrock_rft_entry.handler",
            Code={"ZipFile": zip_module(source)},
            Timeout=60,
        )
        self.versions = [str(self.client.publish_version(FunctionName=self.name)["FunctionArn"])]

    def publish(self, source: str) -> str:
        self.client.update_function_code(FunctionName=self.name, ZipFile=zip_module(source))
        self.versions.append(str(self.client.publish_version(FunctionName=self.name)["FunctionArn"]))
        return self.versions[-1]


@pytest.fixture
def champion(bedrock_rft_sandbox_airflow_conn: Sandbox) -> dict[str, Any]:
    """A champion promoted with grader v1, whose stored evaluation answered 6 of 10 prompts right."""
    world = make_world(bedrock_rft_sandbox_airflow_conn)
    s3 = world.sandbox.client("s3")
    records = numeric_records(10, 500)
    s3.put_object(Bucket=world.bucket, Key="data/test.jsonl", Body=jsonl(records))
    responses = [
        {
            "id": r["id"],
            "sample": 0,
            "response": f"#### {r['reference_answer'].split('#### ')[-1]}" if i < 6 else "#### 1",
        }
        for i, r in enumerate(records)
    ]
    s3.put_object(Bucket=world.bucket, Key="eval/responses.jsonl", Body=jsonl(responses))
    s3.put_object(Bucket=world.bucket, Key="eval/summary.json", Body=json.dumps({"n": 10}).encode())
    grader = Grader(world, GRADER_RIGHT_NUMBER)
    family = unique("fam")
    BedrockRFTPromoteOperator(
        task_id="promote",
        family=family,
        custom_model_arn="arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-2-lite-v1:0:256k/abc123",
        dataset_uris={"test": f"s3://{world.bucket}/data/test.jsonl"},
        eval_summary_uri=f"s3://{world.bucket}/eval/summary.json",
        grader_lambda_arn=grader.versions[0],
        tag_model=False,
    ).execute(make_context() | {"run_id": "manual__champion"})  # type: ignore[arg-type]
    return {"world": world, "grader": grader, "family": family}


def _guard(champion: dict[str, Any], arn: str, **kwargs: Any) -> dict[str, Any]:
    operator = BedrockGraderChangeGuardOperator(
        task_id="grader_guard", family=champion["family"], reward_lambda_arn=arn, **kwargs
    )
    return operator.execute(make_context())  # type: ignore[arg-type]


def test_the_champion_record_keeps_the_graders_version_and_code_hash(champion: dict[str, Any]) -> None:
    record = BedrockRFTChampionHook().current(champion["family"])
    assert record is not None
    grader = champion["grader"]
    config = grader.client.get_function_configuration(FunctionName=grader.versions[0])
    assert record.record["grader"] == {"lambda_arn": grader.versions[0], "code_sha256": config["CodeSha256"]}


def test_an_unchanged_grader_passes_without_rescoring(champion: dict[str, Any]) -> None:
    result = _guard(champion, champion["grader"].versions[0])
    assert result["status"] == "unchanged" and "backtest" not in result


def test_a_refactored_grader_with_the_same_scores_passes(champion: dict[str, Any]) -> None:
    result = _guard(champion, champion["grader"].publish(GRADER_REFACTORED))
    assert result["old_code_sha256"] != result["new_code_sha256"]
    assert result["status"] == "consistent"
    assert result["backtest"]["n"] == 10 and result["backtest"]["changed"] == 0
    assert result["backtest"]["mean_old"] == pytest.approx(0.6)


def test_a_grader_that_flips_scores_blocks_training_with_the_examples_that_changed(
    champion: dict[str, Any],
) -> None:
    new = champion["grader"].publish(GRADER_ANY_NUMBER)
    context = make_context()
    operator = BedrockGraderChangeGuardOperator(
        task_id="grader_guard", family=champion["family"], reward_lambda_arn=new
    )
    with pytest.raises(AirflowFailException) as blocked:
        operator.execute(context)  # type: ignore[arg-type]
    message = str(blocked.value)
    # The 4 wrong answers ("#### 1") now score 1.0: 4 of 10 changed, mean 0.6 -> 1.0.
    assert "4 of 10" in message and "0.600 (old grader) vs 1.000 (new grader)" in message
    assert "id 'q506' sample 0: 0 -> 1 response '#### 1'" in message
    assert "allow_grader_change=True" in message
    assert context["ti"].xcoms["grader_change"]["backtest"]["blocked"] is True

    allowed = _guard(champion, new, allow_grader_change="true")
    assert allowed["status"] == "changed_allowed" and allowed["backtest"]["changed"] == 4


def test_a_flat_grader_is_blocked_too_and_a_loose_threshold_lets_it_through(champion: dict[str, Any]) -> None:
    new = champion["grader"].publish(GRADER_FLAT)
    with pytest.raises(AirflowFailException, match="6 of 10"):
        _guard(champion, new)
    assert _guard(champion, new, max_changed_share="0.7")["status"] == "consistent"
