"""BedrockRFTQualityGateOperator: branch to promotion or rejection on the champion/challenger gate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseBranchOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_rft_provider.evaluation.gate import Guard

POLICY_FIELDS = (
    "min_improvement",
    "require_ci_excludes_zero",
    "max_p_value",
    "min_samples",
    "min_accuracy",
    "guards",
)


def _is_plain(value: Any) -> bool:
    """A value known at parse time: not a template to render and not an XComArg."""
    if isinstance(value, str):
        return "{{" not in value and "{%" not in value
    if isinstance(value, (list, tuple)):
        from bedrock_rft_provider.evaluation.gate import Guard

        return all(isinstance(v, (Guard, Mapping)) for v in value)
    return value is None or isinstance(value, (bool, int, float))


class BedrockRFTQualityGateOperator(BaseBranchOperator):
    """Follow ``promote_task_ids`` only if the challenger passes the gate, else ``reject_task_ids``.

    Every check is logged with its outcome; the decision is pushed to XCom under ``gate_decision``.
    The policy fields are templated; when none is a template the policy is validated at parse time.

    :param summary: the evaluation summary, e.g. ``evaluate.output`` (XComArg) or a template.
    :param promote_task_ids: task id(s) to follow when the challenger passes.
    :param reject_task_ids: task id(s) to follow when it does not.
    :param min_improvement: least mean-reward delta over the baseline.
    :param require_ci_excludes_zero: the delta's paired-bootstrap 95% CI must lie above zero.
    :param max_p_value: optional ceiling on the paired test's p-value.
    :param min_samples: least number of scored samples.
    :param min_accuracy: optional floor on the challenger's accuracy.
    :param guards: metrics that must not regress, e.g. ``[{"metric": "response_length.mean",
        "tolerance": 0.25, "relative": True}]`` (default: response length +25%, error rate +0.01).
    :return: the task ids to follow (the branch); the decision ``{promote, reasons, ...}`` is the XCom
        ``gate_decision``.
    """

    template_fields: Sequence[str] = ("summary", *POLICY_FIELDS)
    ui_color = "#fff5e0"

    def __init__(
        self,
        *,
        summary: Any,
        promote_task_ids: str | Iterable[str],
        reject_task_ids: str | Iterable[str],
        min_improvement: float | str = 0.0,
        require_ci_excludes_zero: bool | str = True,
        max_p_value: float | str | None = None,
        min_samples: int | str = 100,
        min_accuracy: float | str | None = None,
        guards: Sequence[Guard | Mapping[str, Any]] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.summary = summary
        self.promote_task_ids = promote_task_ids
        self.reject_task_ids = reject_task_ids
        self.min_improvement = min_improvement
        self.require_ci_excludes_zero = require_ci_excludes_zero
        self.max_p_value = max_p_value
        self.min_samples = min_samples
        self.min_accuracy = min_accuracy
        self.guards = guards
        values = self._policy_values()
        if all(_is_plain(v) for v in values.values()):
            # A bad literal policy fails at DAG parse time; a templated one when the gate runs (the
            # gate module loads only then, so parsing a DAG with a templated policy skips it).
            from bedrock_rft_provider.evaluation.gate import GatePolicy

            GatePolicy.from_dict(values)

    def _policy_values(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in POLICY_FIELDS}
        if values["guards"] is None:
            del values["guards"]
        return values

    def choose_branch(self, context: Context) -> str | Iterable[str]:
        from bedrock_rft_provider.evaluation.gate import GatePolicy, coerce_summary, decide

        policy = GatePolicy.from_dict(self._policy_values())
        decision = decide(coerce_summary(self.summary), policy)
        self.log.info("Quality gate: %s", "PROMOTE" if decision.promote else "REJECT")
        for reason in decision.reasons:
            self.log.info("  %s", reason)
        context["ti"].xcom_push(key="gate_decision", value=decision.as_dict())
        return self.promote_task_ids if decision.promote else self.reject_task_ids
