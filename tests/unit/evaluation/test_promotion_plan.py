"""Zero-downtime promotion planning: update in place, adopt, fall back; reading an update's progress."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from bedrock_rft_provider.evaluation.champion import ChampionVersion
from bedrock_rft_provider.evaluation.promotion import (
    ADOPT,
    UPDATE,
    ServingPlan,
    fallback,
    plan_serving,
    promotion_by_run,
    update_state,
)

A = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-2-lite-v1:0:256k/aaaaaaaaaaaa"
B = A.replace("aaaaaaaaaaaa", "bbbbbbbbbbbb")
STABLE = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/stable000001"
CHALLENGER = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/challenger01"


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (None, ServingPlan(ADOPT, CHALLENGER)),
        ({"custom_model_arn": A, "deployment_arn": None}, ServingPlan(ADOPT, CHALLENGER)),
        ({"custom_model_arn": A, "deployment_arn": STABLE}, ServingPlan(UPDATE, STABLE)),
        ({"backend": "open-weight", "model_id": "openai.gpt-oss-20b:ft:x"}, ServingPlan(ADOPT, CHALLENGER)),
        ({"custom_model_arn": A, "deployment_arn": CHALLENGER}, ServingPlan(ADOPT, CHALLENGER)),
    ],
)
def test_plan_updates_the_champion_deployment_when_there_is_one(
    current: dict[str, Any] | None, expected: ServingPlan
) -> None:
    assert plan_serving(current, CHALLENGER) == expected


def test_fallback_serves_from_the_challenger_and_replaces_the_old_deployment() -> None:
    assert fallback(ServingPlan(UPDATE, STABLE), CHALLENGER) == ServingPlan(ADOPT, CHALLENGER, STABLE)


def described(model: str, status: str = "Active", update: tuple[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"modelArn": model, "status": status}
    if update:
        out["updateDetails"] = {"modelArn": update[0], "updateStatus": update[1]}
    return out


@pytest.mark.parametrize(
    ("found", "state"),
    [
        (None, "gone"),
        (described(A), "other"),
        (described(B), "serving"),
        (described(B, "Creating"), "updating"),
        (described(A, update=(B, "Updating")), "updating"),
        (described(B, update=(B, "UpdateCompleted")), "serving"),
        (described(A, update=(B, "UpdateCompleted")), "serving"),
        (described(A, update=(B, "UpdateFailed")), "failed"),
        (described(B, update=(A, "Updating")), "busy"),  # another promotion re-points it (wave 4)
        (described(A.replace("a" * 12, "c" * 12), update=(A, "Updating")), "busy"),
        (described(A, update=(A, "UpdateCompleted")), "other"),
        (described(A, "Failed"), "failed"),
    ],
)
def test_update_state_reads_update_details(found: dict[str, Any] | None, state: str) -> None:
    assert update_state(found, B) == state


def version(n: int, **record: Any) -> ChampionVersion:
    return ChampionVersion(n, datetime(2026, 1, n, tzinfo=timezone.utc), record)


def test_a_runs_promotion_is_found_by_run_and_model_not_by_deployment() -> None:
    history = [
        version(1, run_id="run-a", custom_model_arn=A, deployment_arn=STABLE),
        version(2, run_id="run-b", custom_model_arn=B, deployment_arn=CHALLENGER),
        version(3, run_id="run-a", custom_model_arn=A, deployment_arn=CHALLENGER, rollback_of_version=1),
    ]
    assert promotion_by_run(history, "run-a", A) is history[0]
    assert promotion_by_run(history, "run-a", B) is None
    assert promotion_by_run(history[1:], "run-a", A) is None  # a rollback is not the run's promotion


def test_a_past_champion_behind_a_repointed_deployment_is_warned_about() -> None:
    from bedrock_rft_provider.evaluation.promotion import repointed_warning

    record = {"custom_model_arn": A, "deployment_arn": STABLE}
    assert repointed_warning(record, {"modelArn": A}) is None
    assert repointed_warning(record, None) is None
    assert repointed_warning({"model_id": "openai.gpt-oss-20b"}, {"modelArn": B}) is None
    warning = repointed_warning(record, {"modelArn": B})
    assert warning is not None and f"now serves {B}" in warning and f"not {A}" in warning
