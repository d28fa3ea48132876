"""Judge calibration: before paying for RLAIF training, check the LLM judge agrees with human labels.

From labelled records (``reference_answer`` = the human label, e.g. ``allow | flag | remove``) we build
two grader samples per record: the right label and a wrong one, each written with
``response_template``. The deployed grader scores them; the judge's own component
(``metrics_list`` entry named ``judge_component``, e.g. ``policy_judge``) says "pass" at or above
``pass_score`` (0..1, default 0.5), else "fail". The human verdict is "pass" for the right label and
"fail" for the wrong one. ``agreement`` is the share of samples where judge and human agree; a sample
the judge gave no verdict on (the component is absent: the judge failed or abstained) counts as a
disagreement. Below ``min_agreement`` the calibration fails, before any training is paid for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bedrock_rft_provider.rewards.contract import finite_number, grader_sample, reference_text, text_of

DEFAULT_TEMPLATE = "Label: {label}\nReason: {reason}"
VERDICTS = ("pass", "fail", "no_verdict")


@dataclass(frozen=True)
class CalibrationCase:
    """One grader sample: its record, the human label, the label the response states, and the event."""

    record: int
    label: str
    stated: str
    event: dict[str, Any]

    @property
    def human_pass(self) -> bool:
        """The human verdict: the response states the record's label."""
        return self.stated == self.label


@dataclass
class CalibrationReport:
    """Agreement of the judge with the human verdicts, its confusion matrix and per-label agreement."""

    judge_component: str
    min_agreement: float
    n: int
    agreed: int
    confusion: dict[str, dict[str, int]]
    per_label: dict[str, dict[str, float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        """Share of samples where the judge's verdict equals the human one (0.0 with no sample)."""
        return self.agreed / self.n if self.n else 0.0

    @property
    def passed(self) -> bool:
        return self.n > 0 and not self.problems and self.agreement >= self.min_agreement

    def matrix_lines(self) -> list[str]:
        """The confusion matrix as text rows (human verdict x judge verdict)."""
        lines = ["human \\ judge  " + "  ".join(f"{v:>10}" for v in VERDICTS)]
        for human in ("pass", "fail"):
            row = self.confusion[human]
            lines.append(f"{human:<14} " + "  ".join(f"{row[v]:>10}" for v in VERDICTS))
        return lines

    def message(self) -> str:
        """One summary line plus the confusion matrix, for the task log and the raised error."""
        head = (
            f"judge calibration of {self.judge_component!r}: agreement {self.agreement:.2f} "
            f"({self.agreed}/{self.n}) "
            + ("meets" if self.passed else "is below")
            + f" the threshold {self.min_agreement:.2f}"
        )
        lines = [head, *self.problems, *self.matrix_lines()]
        lines += [
            f"label {label}: agreement {row['agreement']:.2f} over {int(row['n'])} samples"
            for label, row in self.per_label.items()
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready report (the operator's XCom and report file)."""
        return {
            "passed": self.passed,
            "judge_component": self.judge_component,
            "agreement": self.agreement,
            "agreed": self.agreed,
            "n": self.n,
            "min_agreement": self.min_agreement,
            "confusion": self.confusion,
            "per_label": self.per_label,
            "problems": self.problems,
        }


def record_label(record: Mapping[str, Any]) -> str | None:
    """A record's human label (its reference answer as short text), or None."""
    text = reference_text(record.get("reference_answer"))
    return text.strip() if isinstance(text, str) and text.strip() else None


def build_calibration_cases(
    records: Sequence[Mapping[str, Any]],
    *,
    max_records: int = 24,
    response_template: str = DEFAULT_TEMPLATE,
) -> list[CalibrationCase]:
    """A right-label and a wrong-label grader sample for each of the first ``max_records`` labelled records.

    The wrong label cycles through the other labels seen in the set, so every label is judged both
    ways. ``response_template`` takes ``{label}`` and ``{reason}`` (the record's ``reason`` field, or
    ""). ValueError when fewer than two distinct labels are present (nothing to tell apart).
    """
    if "{label}" not in response_template:
        raise ValueError(f"response_template {response_template!r} must contain {{label}}")
    labelled = [(i, r, label) for i, r in enumerate(records) if (label := record_label(r))][:max_records]
    labels = sorted({label for _, _, label in labelled})
    if len(labels) < 2:
        raise ValueError(
            f"judge calibration needs labelled records with at least two distinct labels; found {labels}"
        )
    cases = []
    for position, (index, record, label) in enumerate(labelled):
        others = [other for other in labels if other != label]
        wrong = others[position % len(others)]
        prompt = [
            {"role": str(m.get("role", "")), "content": text_of(m.get("content"))}
            for m in record.get("messages") or []
            if isinstance(m, Mapping)
        ]
        extra = {k: v for k, v in record.items() if k not in ("messages", "reference_answer", "id")}
        reason = str(record.get("reason") or "")
        for kind, stated in (("right", label), ("wrong", wrong)):
            response = response_template.replace("{label}", stated).replace("{reason}", reason)
            event = grader_sample(
                f"calibration-{index}-{kind}", prompt, response, record["reference_answer"], extra
            )
            cases.append(CalibrationCase(index, label, stated, event))
    return cases


def _component(result: Mapping[str, Any] | None, name: str) -> float | None:
    for metric in (result or {}).get("metrics_list") or []:
        if isinstance(metric, Mapping) and metric.get("name") == name and finite_number(metric.get("value")):
            return float(metric["value"])
    return None


def judge_agreement(
    cases: Sequence[CalibrationCase],
    results: Sequence[Mapping[str, Any] | None],
    *,
    judge_component: str,
    min_agreement: float,
    pass_score: float = 0.5,
    failed_batches: Sequence[str] = (),
) -> CalibrationReport:
    """Compare the judge's verdicts (``results``, one grader result per case, in order) with the humans'.

    A grader batch that failed (``failed_batches``) is reported as a problem and fails the calibration.
    When no result carries ``judge_component`` at all, the problem says so (a misspelt component name
    must not read as a judge that always abstains).
    """
    confusion = {human: dict.fromkeys(VERDICTS, 0) for human in ("pass", "fail")}
    per_label: dict[str, list[int]] = {}
    agreed = 0
    seen_component = False
    for case, result in zip(cases, list(results) + [None] * (len(cases) - len(results)), strict=False):
        score = _component(result, judge_component)
        seen_component = seen_component or score is not None
        verdict = "no_verdict" if score is None else ("pass" if score >= pass_score else "fail")
        human = "pass" if case.human_pass else "fail"
        confusion[human][verdict] += 1
        hit = int(verdict == human)
        agreed += hit
        per_label.setdefault(case.label, []).append(hit)
    problems = [f"grader call failed: {failure}" for failure in failed_batches]
    if cases and not seen_component:
        problems.append(
            f"no grader result has a {judge_component!r} component; check the judge's reward name"
        )
    if not cases:
        problems.append("no labelled record to calibrate on")
    return CalibrationReport(
        judge_component=judge_component,
        min_agreement=min_agreement,
        n=len(cases),
        agreed=agreed,
        confusion=confusion,
        per_label={
            label: {"n": float(len(hits)), "agreement": sum(hits) / len(hits)}
            for label, hits in sorted(per_label.items())
        },
        problems=problems,
    )
