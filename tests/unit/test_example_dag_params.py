"""The example DAGs' shared params: the gate's own defaults, fresh objects per DAG."""

from __future__ import annotations

from bedrock_rft_provider.evaluation.gate import DEFAULT_GUARDS, Guard
from bedrock_rft_provider.example_dag_params import GATE_GUARDS, gate_params


def test_the_gate_guards_param_defaults_to_the_gates_own_guards() -> None:
    parsed = tuple(Guard.from_value(guard, f"gate_guards[{i}]") for i, guard in enumerate(GATE_GUARDS))
    assert parsed == DEFAULT_GUARDS


def test_each_dag_gets_its_own_params() -> None:
    first, second = gate_params(), gate_params()
    first["gate_guards"].value.append({"metric": "accuracy", "tolerance": 0.0})
    assert len(second["gate_guards"].value) == len(GATE_GUARDS)
    assert first["min_eval_samples"] is not second["min_eval_samples"]
