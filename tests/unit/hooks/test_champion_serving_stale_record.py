"""A deployment re-pointed at the new champion, then a failed SSM write: the task says the record is
stale in one line, and a retry (or clear) writes it without updating the deployment a second time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_rft_provider.evaluation.promotion import StaleChampionRecordError
from bedrock_rft_provider.hooks.champion_serving import ChampionServing
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator
from unit.breakwave4.fakes import MODEL_A, MODEL_B, FakeBedrock, maker, serving_world


def fail_next_put(serving: ChampionServing) -> list[str]:
    """Make the SSM client's next PutParameter fail (throttled) before it reaches SSM; the failures seen."""
    failures: list[str] = []

    def throttle(**kwargs: Any) -> None:
        if not failures:
            failures.append(kwargs["params"]["Name"])
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded\nslow down"}},
                "PutParameter",
            )

    serving.champions.conn.meta.events.register("before-parameter-build.ssm.PutParameter", throttle)
    return failures


@pytest.fixture
def world() -> Iterator[tuple[ChampionServing, FakeBedrock, str]]:
    """Model A is champion (version 1), served by the family's champion deployment."""
    with serving_world() as (serving, bedrock):
        champion = bedrock.add("champion", MODEL_A)
        serving.promote("gsm8k", MODEL_A, champion, maker(MODEL_A, "run-1"))
        yield serving, bedrock, champion


def test_a_failed_record_write_after_the_update_says_what_serves_and_that_the_record_is_stale(
    world: Any,
) -> None:
    serving, bedrock, champion = world
    failures = fail_next_put(serving)
    with pytest.raises(StaleChampionRecordError) as raised:
        serving.promote("gsm8k", MODEL_B, None, maker(MODEL_B, "run-2"))
    message = str(raised.value)
    assert failures == ["/bedrock-rft/champion/gsm8k"]
    assert "\n" not in message
    assert message.startswith(f"deployment {champion} now serves {MODEL_B}, but writing the champion record")
    assert f"the record is stale, it still names {MODEL_A} (version 1); retry or clear this task" in message
    assert "ThrottlingException" in message and "Rate exceeded slow down" in message
    assert bedrock.deployments[champion]["modelArn"] == MODEL_B  # what the message says is true
    assert serving.champions.current("gsm8k").record["custom_model_arn"] == MODEL_A


def test_a_retry_after_the_failed_write_converges_without_a_second_update(world: Any) -> None:
    serving, bedrock, champion = world
    fail_next_put(serving)
    with pytest.raises(StaleChampionRecordError):
        serving.promote("gsm8k", MODEL_B, None, maker(MODEL_B, "run-2"))
    version = serving.promote("gsm8k", MODEL_B, None, maker(MODEL_B, "run-2"))  # the task's retry
    assert bedrock.calls == [("update", champion)]  # one paid update, not two
    assert version.version == 2
    assert version.record["custom_model_arn"] == MODEL_B and version.record["deployment_arn"] == champion
    assert version.record["previous_model_arn"] == MODEL_A
    assert serving.promote("gsm8k", MODEL_B, None, maker(MODEL_B, "run-2")).version == 2  # and stays


def test_a_rollback_whose_record_write_fails_is_stale_then_converges(world: Any) -> None:
    serving, bedrock, champion = world
    serving.promote("gsm8k", MODEL_B, None, maker(MODEL_B, "run-2"))
    fail_next_put(serving)
    with pytest.raises(
        StaleChampionRecordError, match=f"now serves {MODEL_A}.*still names {MODEL_B} \\(version 2\\)"
    ):
        serving.rollback("gsm8k", 1, run_id="rollback-run")
    assert bedrock.deployments[champion]["modelArn"] == MODEL_A
    rolled = serving.rollback("gsm8k", 1, run_id="rollback-run")
    assert (rolled.version, rolled.record["custom_model_arn"], rolled.record["rollback_of_version"]) == (
        3,
        MODEL_A,
        1,
    )
    assert bedrock.calls == [("update", champion), ("update", champion)]  # B, then A once


def test_the_promote_task_fails_loudly_then_its_retry_records_and_announces_the_promotion(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving, bedrock, champion = world
    monkeypatch.setattr("bedrock_rft_provider.operators.promote.champion_serving", lambda *a: serving)
    fail_next_put(serving)
    results = []
    for _try in range(2):
        operator = BedrockRFTPromoteOperator(
            task_id="promote", family="gsm8k", custom_model_arn=MODEL_B, stable_deployment=True,
            baseline_version=1, tag_model=False, aws_conn_id=None, region_name="us-east-1",
        )  # fmt: skip
        try:
            results.append(operator.execute({"run_id": "run-2"}))  # type: ignore[arg-type]
        except StaleChampionRecordError as exc:
            results.append(type(exc).__name__)
    assert results[0] == "StaleChampionRecordError"
    assert results[1]["version"] == 2 and results[1]["record"]["deployment_arn"] == champion
    assert operator.already_written is None  # the first try announced nothing: the retry's notice goes out
    assert bedrock.calls == [("update", champion)]


def test_another_promotion_is_refused_while_a_repoint_is_unrecorded_and_the_retry_still_converges(
    world: Any,
) -> None:
    """Run 2 re-pointed the champion deployment at B and could not record it; run 3 (C, evaluated
    against the record's A) used to re-point it at C over B, which B's retry then re-pointed back:
    two extra paid updates and a champion C never compared with B, then B never compared with C."""
    from bedrock_rft_provider.hooks.deployment import DeploymentBusyError
    from unit.breakwave4.fakes import MODEL_C

    serving, bedrock, champion = world
    fail_next_put(serving)
    with pytest.raises(StaleChampionRecordError):
        serving.promote("gsm8k", MODEL_B, None, maker(MODEL_B, "run-2"))
    challenger = bedrock.add("challenger-c", MODEL_C)
    with pytest.raises(DeploymentBusyError) as raised:
        serving.promote("gsm8k", MODEL_C, challenger, maker(MODEL_C, "run-3"))
    assert str(raised.value) == (
        f"champion deployment {champion} serves {MODEL_B}, but the champion record names {MODEL_A}: another "
        "promotion or rollback re-pointed it and has not recorded it; nothing changed; retry that run's task "
        f"first (it records {MODEL_B}), then this one"
    )
    assert bedrock.calls == [("update", champion)]  # nothing more: no update to C, nothing deleted
    assert challenger in bedrock.deployments
    assert serving.promote("gsm8k", MODEL_B, None, maker(MODEL_B, "run-2")).version == 2  # B's retry
    assert serving.promote("gsm8k", MODEL_C, challenger, maker(MODEL_C, "run-3")).version == 3
    assert bedrock.calls == [("update", champion), ("update", champion)]
    assert bedrock.deployments[champion]["modelArn"] == MODEL_C


def test_a_rollback_is_refused_while_a_repoint_is_unrecorded(world: Any) -> None:
    from bedrock_rft_provider.hooks.deployment import DeploymentBusyError

    serving, bedrock, champion = world
    serving.promote("gsm8k", MODEL_B, None, maker(MODEL_B, "run-2"))  # version 2
    bedrock.deployments[champion]["modelArn"] = MODEL_A  # a rollback to 1 that failed to record...
    bedrock.deployments[champion]["updateDetails"] = {"modelArn": MODEL_A, "updateStatus": "UpdateCompleted"}
    with pytest.raises(
        DeploymentBusyError, match=f"serves {MODEL_A}, but the champion record names {MODEL_B}"
    ):
        serving.rollback("gsm8k", 2, run_id="another-rollback")  # ...and another one, to 2, meanwhile
    assert bedrock.calls == [("update", champion)]


def fail_read_back(serving: ChampionServing) -> list[str]:
    """Make GetParameter of a ``name:version`` (the read-back after PutParameter) fail; the names refused."""
    failures: list[str] = []

    def throttle(**kwargs: Any) -> None:
        if ":" in kwargs["params"]["Name"]:
            failures.append(kwargs["params"]["Name"])
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetParameter"
            )

    serving.champions.conn.meta.events.register("before-parameter-build.ssm.GetParameter", throttle)
    return failures


def test_a_failed_read_back_after_a_successful_write_is_not_called_a_stale_record(
    world: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """PutParameter succeeded: the record names the new champion, so the task succeeds with SSM's version
    instead of StaleChampionRecordError saying the record still names the old one."""
    serving, bedrock, champion = world
    monkeypatch.setattr("bedrock_rft_provider.operators.promote.champion_serving", lambda *a: serving)
    failures = fail_read_back(serving)
    operator = BedrockRFTPromoteOperator(
        task_id="promote", family="gsm8k", custom_model_arn=MODEL_B, stable_deployment=True,
        baseline_version=1, tag_model=False, aws_conn_id=None, region_name="us-east-1",
    )  # fmt: skip
    result = operator.execute({"run_id": "run-2"})  # type: ignore[arg-type]
    assert failures == ["/bedrock-rft/champion/gsm8k:2"]
    assert result["version"] == 2 and result["record"]["custom_model_arn"] == MODEL_B
    assert operator.already_written is None  # this try wrote it: its notice goes out
    assert "wrote /bedrock-rft/champion/gsm8k version 2 but reading it back failed" in capsys.readouterr().out
    stored = serving.champions.history("gsm8k")[-1]
    assert (stored.version, stored.record) == (
        2,
        result["record"],
    )  # what the task returned is what SSM holds
    assert bedrock.calls == [("update", champion)]
