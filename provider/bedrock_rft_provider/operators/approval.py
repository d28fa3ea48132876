"""BedrockRFTPromotionApprovalOperator: an optional human approval between the quality gate and promotion.

Airflow >= 3.1 has human-in-the-loop operators; this is the standard provider's ``ApprovalOperator``
with the evaluation brief as body, "Reject" as the answer on timeout, and a templated ``required``
switch (a DAG param) that lets the run pass straight through when no approval is wanted, unless the
workers' environment sets ``BEDROCK_RFT_REQUIRE_APPROVAL`` (a run's params must not be able to skip a
review the install requires). On Airflow 3.0 (no HITL) the same name is a plain operator that passes
when approval is not required and fails when it is: without a reviewer the run never promotes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

from bedrock_rft_provider.templated import as_bool

if TYPE_CHECKING:
    from airflow.sdk import Context

try:
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    HITL_AVAILABLE = True
except Exception:  # Airflow < 3.1 raises AirflowOptionalProviderFeatureException on import
    HITL_AVAILABLE = False

DEFAULT_SUBJECT = "Promote the retrained model?"
NO_HITL = (
    "require_approval is set but this Airflow has no human-in-the-loop operators (they need "
    "Airflow >= 3.1): not promoting without a reviewer; upgrade Airflow or set require_approval to false"
)


REQUIRE_ENV = "BEDROCK_RFT_REQUIRE_APPROVAL"


def approvers_from(text: str | None) -> list[dict[str, str]] | None:
    """``assigned_users`` from a comma-separated list of Airflow user ids (e.g. ``BEDROCK_RFT_APPROVERS``);
    None when it names nobody (then any user with access to the DAG may answer)."""
    users = [user.strip() for user in (text or "").split(",") if user.strip()]
    return [{"id": user, "name": user} for user in users] or None


def _approved_without_asking(operator: Any) -> dict[str, Any] | None:
    """The task's result when approval is switched off (``required`` false and not required by the
    environment's ``BEDROCK_RFT_REQUIRE_APPROVAL``), else None."""
    if as_bool(REQUIRE_ENV, os.environ.get(REQUIRE_ENV), default=False):
        operator.log.info("%s is set: asking a reviewer whatever require_approval says", REQUIRE_ENV)
        return None
    if as_bool("required", operator.required, default=True):
        if not operator.assigned_users:
            operator.log.warning(
                "No assigned_users: any user with access to this DAG can approve the promotion, "
                "including the one who triggered the run"
            )
        return None
    operator.log.info("require_approval is off: promoting without asking a reviewer")
    return {"chosen_options": ["Approve"], "required": False}


if HITL_AVAILABLE:

    class BedrockRFTPromotionApprovalOperator(ApprovalOperator):
        """Ask a reviewer to approve the promotion; Approve runs the downstream promote task, Reject
        or the timeout skips it (the champion stays as it is).

        :param required: wait for a reviewer (templated, e.g. ``"{{ params.require_approval }}"``);
            false = approve at once without asking (logged).
        :param subject: the headline of the request.
        :param body: the Markdown the reviewer reads (templated): the evaluation brief.
        :param response_timeout: how long to wait for an answer (a timedelta, e.g. 24 hours); then
            "Reject" is taken. None = wait until someone answers.
        :param assigned_users: who may answer, e.g. ``[{"id": "alice", "name": "Alice"}]`` (Airflow
            user ids; see ``approvers_from``). None (default) = any user with access to the DAG (logged
            as a warning).
        :return: the HITL payload ``{chosen_options, params_input, responded_at, responded_by_user}``,
            or ``{"chosen_options": ["Approve"], "required": False}`` when not required.
        """

        template_fields: Sequence[str] = (*ApprovalOperator.template_fields, "required")

        def __init__(
            self,
            *,
            required: bool | str = True,
            subject: str = DEFAULT_SUBJECT,
            body: str | None = None,
            response_timeout: timedelta | None = None,
            assigned_users: Any = None,
            **kwargs: Any,
        ) -> None:
            super().__init__(
                subject=subject,
                body=body,
                defaults="Reject",
                response_timeout=response_timeout,
                assigned_users=assigned_users or None,
                **kwargs,
            )
            self.required = required

        def execute(self, context: Context) -> Any:
            return _approved_without_asking(self) or super().execute(context)

else:

    class BedrockRFTPromotionApprovalOperator(BaseOperator):  # type: ignore[no-redef]
        """Airflow < 3.1: passes when approval is not required, fails (no promotion) when it is."""

        template_fields: Sequence[str] = ("subject", "body", "required")

        def __init__(
            self,
            *,
            required: bool | str = True,
            subject: str = DEFAULT_SUBJECT,
            body: str | None = None,
            response_timeout: timedelta | None = None,
            assigned_users: Any = None,
            **kwargs: Any,
        ) -> None:
            super().__init__(**kwargs)
            self.required, self.subject, self.body = required, subject, body
            self.response_timeout, self.assigned_users = response_timeout, assigned_users

        def execute(self, context: Context) -> Any:
            approved = _approved_without_asking(self)
            if approved is None:
                raise AirflowException(NO_HITL)
            return approved
