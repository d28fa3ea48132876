"""Break wave 4: a challenger is promoted only over the champion it was evaluated against.

An approval can wait a day; meanwhile another run (the post-training DAG, another Airflow install on the
same account, a rollback) may change the champion. Promoting then would replace a model the challenger
was never compared with. ``baseline_version`` (the champion version the evaluation used; 0 = none yet)
makes the promote task refuse, before any write; its own retry still finds its promotion.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.promotion import ChampionChangedError
from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator
from unit.breakwave4.fakes import MODEL_A, MODEL_B, MODEL_C, maker


def promote_op(model_arn: str, baseline_version: Any) -> BedrockRFTPromoteOperator:
    return BedrockRFTPromoteOperator(
        task_id="promote",
        family="gsm8k",
        custom_model_arn=model_arn,
        baseline_version=baseline_version,
        tag_model=False,
        aws_conn_id=None,
        region_name="us-east-1",
    )


@pytest.fixture
def champions() -> Iterator[BedrockRFTChampionHook]:
    with mock_aws():
        yield BedrockRFTChampionHook(aws_conn_id=None, region_name="us-east-1")


def test_a_champion_promoted_meanwhile_stops_the_stale_promotion(champions: BedrockRFTChampionHook) -> None:
    champions.promote("gsm8k", maker(MODEL_A, "run-1")(None))  # v1: what run-2 evaluated against
    champions.promote("gsm8k", maker(MODEL_B, "run-3")(None))  # v2: promoted while run-2 waited
    with pytest.raises(ChampionChangedError, match=r"version 2 .*evaluated against version 1"):
        promote_op(MODEL_C, "1").execute({"run_id": "run-2"})  # type: ignore[arg-type]
    assert [v.record["custom_model_arn"] for v in champions.history("gsm8k")] == [MODEL_A, MODEL_B]


def test_a_first_champion_appearing_meanwhile_stops_the_stale_promotion(
    champions: BedrockRFTChampionHook,
) -> None:
    champions.promote("gsm8k", maker(MODEL_B, "run-3")(None))
    with pytest.raises(ChampionChangedError, match="evaluated against no champion"):
        promote_op(MODEL_C, 0).execute({"run_id": "run-2"})  # type: ignore[arg-type]


def test_the_evaluated_champion_is_replaced_and_a_retry_finds_its_promotion(
    champions: BedrockRFTChampionHook,
) -> None:
    champions.promote("gsm8k", maker(MODEL_A, "run-1")(None))
    first = promote_op(MODEL_C, "1").execute({"run_id": "run-2"})  # type: ignore[arg-type]
    again = promote_op(MODEL_C, "1").execute({"run_id": "run-2"})  # type: ignore[arg-type]
    assert first["version"] == again["version"] == 2


@pytest.mark.parametrize("unset", [None, "", "None"])
def test_no_baseline_version_keeps_the_old_behaviour(unset: Any, champions: BedrockRFTChampionHook) -> None:
    champions.promote("gsm8k", maker(MODEL_A, "run-1")(None))
    assert promote_op(MODEL_C, unset).execute({"run_id": "run-2"})["version"] == 2  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["-1", "two", "1.5"])
def test_a_bad_baseline_version_is_a_config_error_before_any_write(
    bad: str, champions: BedrockRFTChampionHook
) -> None:
    with pytest.raises(ConfigError, match="baseline_version"):
        promote_op(MODEL_C, bad).execute({"run_id": "run-2"})  # type: ignore[arg-type]
    assert champions.history("gsm8k") == []
