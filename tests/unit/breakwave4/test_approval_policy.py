"""Break wave 4: who may skip or answer the human approval.

``require_approval`` is a DAG param, so whoever triggers a run could switch the approval off; an
operator of the Airflow install can now require it regardless (``BEDROCK_RFT_REQUIRE_APPROVAL`` in the
workers' environment). Without ``assigned_users`` any user with access to the DAG may approve, including
the one who triggered the run: the operator takes ``assigned_users`` (the example DAG reads
``BEDROCK_RFT_APPROVERS``) and warns when nobody is named.
"""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.operators import approval

pytestmark = pytest.mark.skipif(not approval.HITL_AVAILABLE, reason="needs Airflow >= 3.1 (HITL)")


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Stand-in for the HITL request (which needs a running task): records that a reviewer was asked."""
    calls: list[Any] = []

    def ask(self: Any, context: Any) -> str:
        calls.append(self.assigned_users)
        return "asked"

    monkeypatch.setattr(approval.ApprovalOperator, "execute", ask)
    return calls


@pytest.mark.parametrize("forced", ["true", "1", "yes"])
def test_the_environment_can_require_approval_whatever_the_run_param_says(
    monkeypatch: pytest.MonkeyPatch, asked: list[Any], forced: str
) -> None:
    monkeypatch.setenv("BEDROCK_RFT_REQUIRE_APPROVAL", forced)
    operator = approval.BedrockRFTPromotionApprovalOperator(task_id="ask", required="False", body="b")
    assert operator.execute({}) == "asked"  # type: ignore[arg-type]


def test_without_the_environment_setting_the_param_still_decides(
    monkeypatch: pytest.MonkeyPatch, asked: list[Any]
) -> None:
    monkeypatch.delenv("BEDROCK_RFT_REQUIRE_APPROVAL", raising=False)
    operator = approval.BedrockRFTPromotionApprovalOperator(task_id="ask", required="False", body="b")
    assert operator.execute({}) == {"chosen_options": ["Approve"], "required": False}  # type: ignore[arg-type]
    assert asked == []


def test_a_typo_in_the_environment_setting_fails_closed(
    monkeypatch: pytest.MonkeyPatch, asked: list[Any]
) -> None:
    monkeypatch.setenv("BEDROCK_RFT_REQUIRE_APPROVAL", "ture")
    operator = approval.BedrockRFTPromotionApprovalOperator(task_id="ask", required="False", body="b")
    with pytest.raises(ValueError, match="BEDROCK_RFT_REQUIRE_APPROVAL"):
        operator.execute({})  # type: ignore[arg-type]


def test_named_approvers_reach_the_request_and_nobody_named_is_warned_about(
    asked: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    named = approval.BedrockRFTPromotionApprovalOperator(
        task_id="ask", required=True, body="b", assigned_users=[{"id": "alice", "name": "Alice"}]
    )
    anyone = approval.BedrockRFTPromotionApprovalOperator(task_id="ask2", required=True, body="b")
    named.execute({})  # type: ignore[arg-type]
    assert "any user" not in capsys.readouterr().out
    anyone.execute({})  # type: ignore[arg-type]
    assert asked == [[{"id": "alice", "name": "Alice"}], None]
    out = capsys.readouterr().out
    assert "any user" in out and "assigned_users" in out


@pytest.mark.parametrize(
    ("text", "users"),
    [
        ("", None),
        (" alice , bob ,", [{"id": "alice", "name": "alice"}, {"id": "bob", "name": "bob"}]),
    ],
)
def test_approvers_from_the_environment(text: str, users: Any) -> None:
    assert approval.approvers_from(text) == users
