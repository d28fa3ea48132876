"""Reward preflight: grader events built from training records, and the checks a grader must pass.

Bedrock has no ``graders/run`` or ``validate`` endpoint, so before paying for training we call the
deployed grader ourselves on each record's reference answer written as an ideal response, plus a
wrong, an empty and a malformed response, and check the answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bedrock_rft_provider.rewards.contract import (
    ERROR_METRIC,
    finite_number,
    grader_sample,
    reference_text,
    text_of,
)
from bedrock_rft_provider.rewards.jsonl import json_lines
from bedrock_rft_provider.rewards.runner import RunReport

KINDS = ("ideal", "wrong", "empty", "malformed")
BAD_KINDS = ("wrong", "empty", "malformed")
MALFORMED_RESPONSE = '```json\n{"answer": \u0000 NaN, <<<\ufffd [unterminated'
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


@dataclass(frozen=True)
class PreflightCase:
    """One grader sample of the preflight: which record it came from and which kind of response it holds."""

    record: int
    kind: str
    event: dict[str, Any]


@dataclass(frozen=True)
class PreflightCheck:
    """One named check and, when it failed, why."""

    name: str
    passed: bool
    detail: str


@dataclass
class PreflightReport:
    """The outcome of a preflight: every check, per-kind score summaries and the latency seen."""

    checks: list[PreflightCheck]
    kind_scores: dict[str, dict[str, float]] = field(default_factory=dict)
    max_batch_latency_s: float = 0.0

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(check.passed for check in self.checks)

    def failure_message(self) -> str:
        """One line per failed check, for the task log and the raised error."""
        failed = [f"  - {c.name}: {c.detail}" for c in self.checks if not c.passed]
        return "reward preflight failed {} check(s):\n{}".format(len(failed), "\n".join(failed))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready report."""
        return {
            "passed": self.passed,
            "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in self.checks],
            "kind_scores": self.kind_scores,
            "max_batch_latency_s": self.max_batch_latency_s,
        }


def _wrong_value(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value * 2 + 7
    if isinstance(value, str):
        return _wrong_text(value) if _NUMBER.search(value) else f"not {value}"
    if isinstance(value, Mapping):
        return {k: _wrong_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrong_value(v) for v in value] or ["wrong"]
    return "wrong"


def _wrong_text(text: str) -> str:
    """The text with every number changed (n -> 2n + 7), so any numeric answer in it is wrong."""

    def change(match: re.Match[str]) -> str:
        number = float(match.group(0).replace(",", ""))
        changed = number * 2 + 7
        return str(int(changed)) if changed.is_integer() and "." not in match.group(0) else f"{changed:g}"

    return _NUMBER.sub(change, text)


def ideal_response(reference: Any) -> str:
    """The reference answer written as a response (an object without an answer field becomes JSON)."""
    text = reference_text(reference)
    if text is not None:
        return text
    return json.dumps(reference) if isinstance(reference, Mapping) else ""


def wrong_response(reference: Any, others: Sequence[str]) -> str:
    """A response that must not earn the top score: numbers changed, fields changed, or another answer."""
    if isinstance(reference, Mapping) and reference_text(reference) is None:
        return json.dumps(_wrong_value(dict(reference)))
    text = ideal_response(reference)
    # A reference program (code with tests) often has its numbers only in its docstring, so changing
    # them leaves it right: another problem's program is the wrong answer there.
    if _NUMBER.search(text) and not _has_tests(reference):
        return _wrong_text(text)
    for other in others:
        if other.strip().casefold() != text.strip().casefold() and other.strip():
            return other
    return "This response is deliberately unrelated to the question."


def _has_tests(reference: Any) -> bool:
    return isinstance(reference, Mapping) and any(
        isinstance(reference.get(key), list) and reference[key] for key in ("tests", "test_cases")
    )


def build_preflight_cases(
    records: Sequence[Mapping[str, Any]], *, max_records: int = 16, response_template: str = "{reference}"
) -> list[PreflightCase]:
    """Grader events for the first ``max_records`` training records that have a reference answer.

    ``response_template`` writes an answer the way the prompt asks the model to (e.g.
    ``"Reasoning.\n#### {reference}"`` when the reward checks a ``####`` format); it is applied to the
    ideal and the wrong answer.
    """
    if "{reference}" not in response_template:
        raise ValueError(f"response_template {response_template!r} must contain {{reference}}")
    usable = [(i, r) for i, r in enumerate(records) if r.get("reference_answer") not in (None, "", {})][
        :max_records
    ]
    answers = [ideal_response(r["reference_answer"]) for _, r in usable]
    cases: list[PreflightCase] = []
    for position, (index, record) in enumerate(usable):
        reference = record["reference_answer"]
        prompt = [
            {"role": str(m.get("role", "")), "content": text_of(m.get("content"))}
            for m in record.get("messages") or []
            if isinstance(m, Mapping)
        ]
        extra = {k: v for k, v in record.items() if k not in ("messages", "reference_answer", "id")}
        others = answers[position + 1 :] + answers[:position]
        responses = {
            "ideal": response_template.replace("{reference}", ideal_response(reference)),
            "wrong": response_template.replace("{reference}", wrong_response(reference, others)),
            "empty": "",
            "malformed": MALFORMED_RESPONSE,
        }
        for kind in KINDS:
            event = grader_sample(f"preflight-{index}-{kind}", prompt, responses[kind], reference, extra)
            cases.append(PreflightCase(index, kind, event))
    return cases


def _metric(result: Mapping[str, Any], name: str) -> float:
    for metric in result.get("metrics_list") or []:
        if isinstance(metric, Mapping) and metric.get("name") == name:
            value = metric.get("value")
            return float(value) if isinstance(value, (int, float)) else 0.0
    return 0.0


def _examples(items: list[str], limit: int = 5) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f"; ... and {len(items) - limit} more" if len(items) > limit else "")


def judge_preflight(
    cases: Sequence[PreflightCase],
    run: RunReport,
    *,
    lambda_timeout_s: float,
    latency_budget: float = 0.5,
    ideal_tolerance: float = 0.0,
) -> PreflightReport:
    """Check a grader's answers to the preflight ``cases`` (``run`` from ``score_events`` on their events).

    Fails when there was nothing to check, the contract is broken, any call or sample errored, an ideal
    response is not top-scored or scores 0, a bad response scores as high as the ideal one, or a batch
    took more than ``latency_budget`` of the Lambda timeout. Every check also fails when its premise
    is missing (no answer to judge, no batch timed): a check never passes on absent evidence.
    ``ideal_tolerance`` lets an ideal response score that much below the top score (an LLM judge's
    noise); it must still score above 0 and above every bad response to its own record.
    """
    results = list(run.results) + [None] * max(0, len(cases) - len(run.results))
    answered = {
        (case.record, case.kind): result for case, result in zip(cases, results, strict=False) if result
    }
    unanswered = [case.event["id"] for case in cases if (case.record, case.kind) not in answered]
    checks = [
        PreflightCheck(
            "records",
            bool(cases),
            "ok" if cases else "no training record has a reference_answer; nothing to check the reward on",
        ),
        _contract_check(cases, run, unanswered),
        _errors_check(cases, run, answered),
    ]
    scores: dict[tuple[int, str], float] = {
        key: float(result["aggregate_reward_score"])
        for key, result in answered.items()
        if finite_number(result.get("aggregate_reward_score"))
    }
    checks.append(_ideal_check(cases, scores, ideal_tolerance))
    checks.append(_bad_below_ideal_check(cases, scores))
    checks.append(_latency_check(run, lambda_timeout_s, latency_budget))
    kind_scores = {}
    for kind in KINDS:
        values = [v for (_, k), v in scores.items() if k == kind]
        if values:
            kind_scores[kind] = {
                "n": len(values),
                "mean": sum(values) / len(values),
                "min": min(values),
                "max": max(values),
            }
    return PreflightReport(checks, kind_scores, max(run.batch_latencies_s, default=0.0))


def _contract_check(cases: Sequence[PreflightCase], run: RunReport, unanswered: list[str]) -> PreflightCheck:
    if run.contract_problems:
        return PreflightCheck("contract", False, _examples(run.contract_problems))
    if not cases:
        return PreflightCheck("contract", False, "no sample was sent to the grader; nothing to check")
    if unanswered:
        return PreflightCheck("contract", False, "no result for " + _examples(unanswered))
    return PreflightCheck("contract", True, "ok")


def _errors_check(
    cases: Sequence[PreflightCase], run: RunReport, answered: Mapping[tuple[int, str], Mapping[str, Any]]
) -> PreflightCheck:
    errored = list(run.failed_batches)
    errored += [
        f"{case.event['id']} reported {ERROR_METRIC}"
        for case in cases
        if (case.record, case.kind) in answered and _metric(answered[(case.record, case.kind)], ERROR_METRIC)
    ]
    if errored:
        return PreflightCheck("errors", False, _examples(errored))
    if not answered:
        return PreflightCheck("errors", False, "the grader answered no sample; nothing to check")
    return PreflightCheck("errors", True, "ok")


def _ideal_check(
    cases: Sequence[PreflightCase], scores: Mapping[tuple[int, str], float], tolerance: float = 0.0
) -> PreflightCheck:
    ideals = [case for case in cases if case.kind == "ideal"]
    if not ideals:
        return PreflightCheck("ideal_top_score", False, "no ideal response was built; nothing to check")
    top = max(scores.values(), default=0.0)
    problems = []
    for case in ideals:
        score = scores.get((case.record, "ideal"))
        if score is None:
            problems.append(f"{case.event['id']} got no valid score")
        elif score <= 0:
            # A reward that gives the right answer nothing cannot teach, whatever the others score.
            problems.append(f"{case.event['id']} scored {score:g}; the ideal response must score above 0")
        elif score < top - tolerance:
            allowed = f", {tolerance:g} below it allowed" if tolerance else ""
            problems.append(f"{case.event['id']} scored {score:g} (top score {top:g}{allowed})")
    return PreflightCheck("ideal_top_score", not problems, "ok" if not problems else _examples(problems))


def _bad_below_ideal_check(
    cases: Sequence[PreflightCase], scores: Mapping[tuple[int, str], float]
) -> PreflightCheck:
    bad = [case for case in cases if case.kind in BAD_KINDS]
    if not bad:
        return PreflightCheck("bad_below_ideal", False, "no bad response was built; nothing to check")
    problems = []
    for case in bad:
        ideal = scores.get((case.record, "ideal"))
        score = scores.get((case.record, case.kind))
        if ideal is None or score is None:
            problems.append(f"{case.event['id']} cannot be compared: it or its ideal got no valid score")
        elif score >= ideal:
            problems.append(f"{case.event['id']} scored {score:g}, as high as the ideal response's {ideal:g}")
    return PreflightCheck("bad_below_ideal", not problems, "ok" if not problems else _examples(problems))


def _latency_check(run: RunReport, lambda_timeout_s: float, latency_budget: float) -> PreflightCheck:
    if not run.batch_latencies_s:
        return PreflightCheck("latency", False, "no grader batch was timed; nothing to check")
    slowest = max(run.batch_latencies_s)
    budget = latency_budget * lambda_timeout_s
    return PreflightCheck(
        "latency",
        slowest <= budget,
        f"slowest batch took {slowest:.2f} s; budget {budget:.2f} s "
        f"({latency_budget:.0%} of the {lambda_timeout_s:g} s Lambda timeout)",
    )


def parse_training_records(text: str, source: str) -> list[dict[str, Any]]:
    """Training records from JSONL text; a bad line raises ValueError naming ``source:line``."""
    records = []
    for number, record in json_lines(text, source):
        if not isinstance(record, dict):
            raise ValueError(f"{source}:{number}: expected a JSON object, got {type(record).__name__}")
        records.append(record)
    return records
