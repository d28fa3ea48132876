"""Champion records in (moto) SSM: promote, resolve the champion at a past time, roll back."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.champion import build_record, parameter_name
from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from bedrock_rft_provider.hooks.deployment import BedrockCustomModelDeploymentHook
from bedrock_rft_provider.operators.promote import BedrockRFTPromoteOperator

MODEL_A = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-2-lite-v1:0:256k/aaaaaaaaaaaa"
MODEL_B = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-2-lite-v1:0:256k/bbbbbbbbbbbb"


@pytest.fixture
def hook() -> Iterator[BedrockRFTChampionHook]:
    with mock_aws():
        yield BedrockRFTChampionHook(aws_conn_id=None, region_name="us-east-1")


def record(model_arn: str, run_id: str) -> dict[str, Any]:
    return build_record(
        family="gsm8k",
        custom_model_arn=model_arn,
        run_id=run_id,
        promoted_at=datetime.now(timezone.utc),
        dataset_uris={"test": "s3://data/test.jsonl"},
        dataset_sha256={"test": "ab" * 32},
        summary={
            "n": 500,
            "mean_reward": 0.8,
            "accuracy": 0.8,
            "baseline": {"mean_reward": 0.7},
            "slices": {},
        },
    )


@pytest.mark.slow
def test_promote_twice_resolve_the_past_and_roll_back(hook: BedrockRFTChampionHook) -> None:
    first = hook.promote("gsm8k", record(MODEL_A, "run-1"))
    time.sleep(0.05)
    between = datetime.now(timezone.utc)
    time.sleep(0.05)
    second = hook.promote("gsm8k", record(MODEL_B, "run-2"))

    assert (first.version, second.version) == (1, 2)
    assert hook.current("gsm8k").record["custom_model_arn"] == MODEL_B  # type: ignore[union-attr]
    at_between = hook.champion_at("gsm8k", between)
    assert at_between is not None and at_between.version == 1
    assert at_between.record["custom_model_arn"] == MODEL_A
    assert hook.champion_at("gsm8k", datetime(2000, 1, 1, tzinfo=timezone.utc)) is None

    rolled = hook.rollback("gsm8k", 1)
    assert rolled.version == 3
    assert rolled.record["custom_model_arn"] == MODEL_A and rolled.record["rollback_of_version"] == 1
    assert hook.current("gsm8k").record["custom_model_arn"] == MODEL_A  # type: ignore[union-attr]
    assert [v.version for v in hook.history("gsm8k")] == [1, 2, 3]
    # History is append-only: the past still answers with the models in force then.
    assert hook.champion_at("gsm8k", between).record["custom_model_arn"] == MODEL_A  # type: ignore[union-attr]
    assert hook.champion_at("gsm8k", second.since).record["custom_model_arn"] == MODEL_B  # type: ignore[union-attr]


def test_retrying_the_same_promotion_adds_no_version(hook: BedrockRFTChampionHook) -> None:
    hook.promote("gsm8k", record(MODEL_A, "run-1"))
    again = hook.promote("gsm8k", record(MODEL_A, "run-1"))
    assert again.version == 1


MODEL_C = MODEL_B.replace("bbbbbbbbbbbb", "cccccccccccc")


@pytest.mark.parametrize(
    ("promotions", "history", "champion"),
    [
        # run A, run B, A's retry: A's earlier version is found below the current one.
        ([(MODEL_A, "run-a"), (MODEL_B, "run-b"), (MODEL_A, "run-a")], ["run-a", "run-b"], MODEL_B),
        # The retry comes two promotions later.
        (
            [(MODEL_A, "run-a"), (MODEL_B, "run-b"), (MODEL_C, "run-c"), (MODEL_A, "run-a")],
            ["run-a", "run-b", "run-c"],
            MODEL_C,
        ),
        # B retries twice after C: still nothing added.
        (
            [(MODEL_A, "run-a"), (MODEL_B, "run-b"), (MODEL_C, "run-c")] + [(MODEL_B, "run-b")] * 2,
            ["run-a", "run-b", "run-c"],
            MODEL_C,
        ),
        # The same model promoted again by a NEW run is a new promotion, not a retry.
        ([(MODEL_A, "run-a"), (MODEL_B, "run-b"), (MODEL_A, "run-d")], ["run-a", "run-b", "run-d"], MODEL_A),
    ],
    ids=["A-B-retryA", "A-B-C-retryA", "A-B-C-retryB-twice", "A-B-newRunWithA"],
)
def test_retried_promotion_finds_itself_anywhere_in_history(
    hook: BedrockRFTChampionHook, promotions: list[tuple[str, str]], history: list[str], champion: str
) -> None:
    returned = [hook.promote("gsm8k", record(model, run)) for model, run in promotions]
    assert [v.record["run_id"] for v in hook.history("gsm8k")] == history
    assert hook.current("gsm8k").record["custom_model_arn"] == champion  # type: ignore[union-attr]
    # A retry answers with its own earlier version (same run id), never with someone else's.
    assert [v.record["run_id"] for v in returned] == [run for _, run in promotions]


def test_retry_after_a_rollback_keeps_the_rollback(hook: BedrockRFTChampionHook) -> None:
    hook.promote("gsm8k", record(MODEL_A, "run-a"))
    hook.promote("gsm8k", record(MODEL_B, "run-b"))
    hook.rollback("gsm8k", 1)  # an operator put A back on purpose
    again = hook.promote("gsm8k", record(MODEL_B, "run-b"))
    assert again.version == 2
    assert [v.version for v in hook.history("gsm8k")] == [1, 2, 3]
    assert hook.current("gsm8k").record["custom_model_arn"] == MODEL_A  # type: ignore[union-attr]


def test_rollback_to_an_unknown_version_names_the_versions(hook: BedrockRFTChampionHook) -> None:
    hook.promote("gsm8k", record(MODEL_A, "run-1"))
    with pytest.raises(ValueError, match=r"has no version 7; it has \[1\]"):
        hook.rollback("gsm8k", 7)


def test_record_keeps_key_metrics_only() -> None:
    rec = record(MODEL_A, "run-1")
    assert rec["metrics"] == {"n": 500, "mean_reward": 0.8, "accuracy": 0.8, "baseline_mean_reward": 0.7}
    assert rec["model_id"] == MODEL_A and rec["promoted_at"].endswith("+00:00")


def test_family_name_is_validated() -> None:
    assert parameter_name("gsm8k-math") == "/bedrock-rft/champion/gsm8k-math"
    with pytest.raises(ConfigError, match="family"):
        parameter_name("bad/family")


def test_promote_operator_records_hashes_and_is_retry_safe(tmp_path: Any) -> None:
    dataset = tmp_path / "test.jsonl"
    dataset.write_bytes(b'{"id": "1"}\n')
    with mock_aws():
        op = BedrockRFTPromoteOperator(
            task_id="promote",
            family="gsm8k",
            custom_model_arn=MODEL_A,
            job_arn="arn:aws:bedrock:us-east-1:123456789012:model-customization-job/x/abc",
            dataset_uris={"test": str(dataset)},
            eval_summary_uri="s3://bucket/eval/summary.json",
            summary='{"n": 200, "mean_reward": 0.9, "delta": 0.1}',
            tag_model=False,
            aws_conn_id=None,
            region_name="us-east-1",
        )
        context: Any = {"run_id": "manual__1"}
        first = op.execute(context)
        second = op.execute(context)
    assert first["version"] == second["version"] == 1
    stored = first["record"]
    assert stored["dataset_sha256"] == {"test": hashlib.sha256(b'{"id": "1"}\n').hexdigest()}
    assert stored["metrics"] == {"n": 200, "mean_reward": 0.9, "delta": 0.1}
    assert stored["run_id"] == "manual__1" and stored["eval_summary_uri"] == "s3://bucket/eval/summary.json"


def test_an_empty_dataset_uri_is_left_out_of_the_record(tmp_path: Any) -> None:
    """A model trained on invocation logs has no training file: the DAG renders its URI empty."""
    dataset = tmp_path / "test.jsonl"
    dataset.write_bytes(b'{"id": "1"}\n')
    with mock_aws():
        op = BedrockRFTPromoteOperator(
            task_id="promote",
            family="traffic",
            custom_model_arn=MODEL_A,
            dataset_uris={"train": "", "test": str(dataset)},
            tag_model=False,
            aws_conn_id=None,
            region_name="us-east-1",
        )
        stored = op.execute({"run_id": "manual__3"})["record"]  # type: ignore[arg-type]
    assert stored["dataset_uris"] == {"test": str(dataset)}
    assert set(stored["dataset_sha256"]) == {"test"}


def test_promote_operator_tags_the_custom_model(monkeypatch: pytest.MonkeyPatch) -> None:
    tagged: list[str] = []
    original = BedrockCustomModelDeploymentHook.tag_resource

    def stubbed(self: BedrockCustomModelDeploymentHook, arn: str, tags: dict[str, str]) -> None:
        expected = {"resourceARN": arn, "tags": [{"key": "bedrock-rft-champion", "value": "gsm8k"}]}
        with Stubber(self.conn) as stub:
            stub.add_response("tag_resource", {}, expected)
            original(self, arn, tags)
            stub.assert_no_pending_responses()
        tagged.append(arn)

    monkeypatch.setattr(BedrockCustomModelDeploymentHook, "tag_resource", stubbed)
    with mock_aws():
        op = BedrockRFTPromoteOperator(
            task_id="promote",
            family="gsm8k",
            custom_model_arn=MODEL_A,
            aws_conn_id=None,
            region_name="us-east-1",
        )
        op.execute({"run_id": "manual__2"})  # type: ignore[arg-type]
    assert tagged == [MODEL_A]
