"""The champion/challenger gate: a pure decision on an evaluation summary, with its reasons."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_rft_provider.errors import ConfigError, raise_config_errors
from bedrock_rft_provider.templated import as_bool, as_float, as_int, as_mapping, as_optional_float


@dataclass(frozen=True)
class Guard:
    """A metric that must not get worse than the baseline's by more than ``tolerance``.

    :param metric: dotted path into the summary, e.g. ``response_length.mean``, ``error_rate``,
        ``metrics.format_ok``.
    :param tolerance: allowed regression; a fraction of the baseline value when ``relative``.
    :param higher_is_better: direction of "worse".
    """

    metric: str
    tolerance: float
    relative: bool = False
    higher_is_better: bool = False

    @classmethod
    def from_value(cls, value: Guard | Mapping[str, Any], where: str) -> Guard:
        if isinstance(value, Guard):
            return value
        if not isinstance(value, Mapping) or "metric" not in value or "tolerance" not in value:
            raise ConfigError(where, "a guard needs 'metric' and 'tolerance'")
        unknown = set(value) - {"metric", "tolerance", "relative", "higher_is_better"}
        if unknown:
            raise ConfigError(where, f"unknown guard field(s) {sorted(unknown)}")
        metric = value["metric"]
        if not isinstance(metric, str) or not metric.strip():
            raise ConfigError(f"{where}.metric", f"must be a metric path such as error_rate, got {metric!r}")
        return cls(
            metric=metric,
            tolerance=as_float(f"{where}.tolerance", value["tolerance"]),
            relative=as_bool(f"{where}.relative", value.get("relative"), default=False),
            higher_is_better=as_bool(
                f"{where}.higher_is_better", value.get("higher_is_better"), default=False
            ),
        )


DEFAULT_GUARDS = (
    # Verbosity hacking shows up as response length growth (facts §4): allow +25%.
    Guard("response_length.mean", 0.25, relative=True),
    Guard("error_rate", 0.01),
)


@dataclass(frozen=True)
class GatePolicy:
    """When a challenger may replace the baseline (champion or base model)."""

    min_improvement: float = 0.0
    require_ci_excludes_zero: bool = True
    max_p_value: float | None = None
    min_samples: int = 100
    min_accuracy: float | None = None
    guards: tuple[Guard, ...] = DEFAULT_GUARDS

    def __post_init__(self) -> None:
        errors: list[ConfigError] = []
        if self.min_samples < 1:
            errors.append(ConfigError("min_samples", f"must be at least 1, got {self.min_samples}"))
        if self.max_p_value is not None and not 0 < self.max_p_value <= 1:
            errors.append(ConfigError("max_p_value", f"must be in (0, 1], got {self.max_p_value}"))
        if self.min_accuracy is not None and not 0 <= self.min_accuracy <= 1:
            errors.append(ConfigError("min_accuracy", f"must be in [0, 1], got {self.min_accuracy}"))
        for i, guard in enumerate(self.guards):
            if guard.tolerance < 0:
                errors.append(ConfigError(f"guards[{i}].tolerance", f"must be >= 0, got {guard.tolerance}"))
        raise_config_errors(errors)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> GatePolicy:
        """Build a policy from plain values (operator arguments, JSON, rendered templates).

        Numbers and booleans may arrive as strings (a rendered Jinja template); unknown keys are errors.
        """
        allowed = {f for f in cls.__dataclass_fields__}
        unknown = set(values) - allowed
        if unknown:
            raise ConfigError("policy", f"unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        kwargs = {name: _COERCE[name](name, value) for name, value in values.items() if name != "guards"}
        if "guards" in values:
            guards = values["guards"]
            if isinstance(guards, str):
                try:
                    guards = json.loads(guards)
                except ValueError as exc:
                    raise ConfigError("guards", f"not a JSON list of guards: {exc}") from exc
            kwargs["guards"] = tuple(Guard.from_value(g, f"guards[{i}]") for i, g in enumerate(guards or ()))
        return cls(**kwargs)


# Numbers and booleans may arrive as rendered template strings; each field's coercion names the field.
_COERCE: dict[str, Callable[[str, Any], Any]] = {
    "min_improvement": as_float,
    "require_ci_excludes_zero": as_bool,
    "max_p_value": as_optional_float,
    "min_samples": as_int,
    "min_accuracy": as_optional_float,
}


@dataclass(frozen=True)
class GateDecision:
    """The verdict and one line per check, failed checks first."""

    promote: bool
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"promote": self.promote, "reasons": list(self.reasons)}


def metric_value(summary: Mapping[str, Any], path: str) -> float | None:
    """The number at dotted ``path`` (``response_length.mean``) of a summary; None if absent or no number."""
    node: Any = summary
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        return None
    return float(node)


def _check_guard(guard: Guard, summary: Mapping[str, Any], baseline: Mapping[str, Any]) -> tuple[bool, str]:
    tuned, base = metric_value(summary, guard.metric), metric_value(baseline, guard.metric)
    if tuned is None or base is None:
        return False, f"guard {guard.metric}: missing from the {'summary' if tuned is None else 'baseline'}"
    worsening = (base - tuned) if guard.higher_is_better else (tuned - base)
    allowed = guard.tolerance * abs(base) if guard.relative else guard.tolerance
    unit = f"{guard.tolerance:.0%} of baseline = {allowed:.4g}" if guard.relative else f"{allowed:.4g}"
    text = (
        f"guard {guard.metric}: {base:.4g} -> {tuned:.4g} "
        f"(regression {max(worsening, 0):.4g}, allowed {unit})"
    )
    return worsening <= allowed, text


def decide(summary: Mapping[str, Any], policy: GatePolicy) -> GateDecision:
    """Promote only if every check passes; each check contributes one reason line."""
    checks: list[tuple[bool, str]] = []
    n = int(summary.get("n", 0))
    checks.append((n >= policy.min_samples, f"sample size {n} (minimum {policy.min_samples})"))
    baseline = summary.get("baseline")
    delta = metric_value(summary, "delta")
    if not isinstance(baseline, Mapping) or delta is None:
        checks.append((False, "no baseline to compare with: the summary has no baseline/delta"))
    else:
        checks.append(
            (
                delta >= policy.min_improvement,
                f"delta mean reward {delta:+.4f} (min_improvement {policy.min_improvement:+.4f})",
            )
        )
        ci = summary.get("delta_ci95")
        if policy.require_ci_excludes_zero:
            if isinstance(ci, (list, tuple)) and len(ci) == 2:
                checks.append(
                    (float(ci[0]) > 0, f"delta 95% CI [{ci[0]:+.4f}, {ci[1]:+.4f}] must exclude zero")
                )
            else:
                checks.append((False, "delta 95% CI missing (baseline without per-prompt results?)"))
        if policy.max_p_value is not None:
            p_value = metric_value(summary, "p_value")
            ok = p_value is not None and p_value <= policy.max_p_value
            checks.append((ok, f"p-value {p_value} (maximum {policy.max_p_value})"))
        checks.extend(_check_guard(guard, summary, baseline) for guard in policy.guards)
    if policy.min_accuracy is not None:
        acc = metric_value(summary, "accuracy") or 0.0
        checks.append((acc >= policy.min_accuracy, f"accuracy {acc:.4f} (minimum {policy.min_accuracy:.4f})"))
    failed = [f"FAIL {text}" for ok, text in checks if not ok]
    passed = [f"ok {text}" for ok, text in checks if ok]
    return GateDecision(promote=not failed, reasons=failed + passed)


def coerce_summary(value: Any) -> Mapping[str, Any]:
    """An evaluation summary given as a dict, or as the JSON/repr string a Jinja template renders."""
    return as_mapping("summary", value, expected="the evaluation summary (a dict)")
