"""The example DAGs (and the benchmark baseline) take their shared params from one place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bedrock_rft_provider.example_dag_params import gate_params
from support.airflow_compat import DagBag

BASELINE = Path(__file__).resolve().parents[2] / "benchmarks" / "baselines" / "amazon_bedrock_retraining.py"
SHARED = ("bucket", "model_family", "reward", *gate_params())


def _defaults(dag: Any) -> dict[str, Any]:
    """The resolved defaults of the shared params (a required param such as ``job`` has none)."""
    return {name: dag.params[name] for name in SHARED}


def test_the_post_training_dag_gates_like_the_retraining_dag(dagbag: Any) -> None:
    retraining = _defaults(dagbag.get_dag("bedrock_rft_retraining"))
    post_training = _defaults(dagbag.get_dag("bedrock_rft_post_training"))
    assert post_training == retraining
    assert retraining["gate_guards"][0]["metric"] == "response_length.mean"


def test_the_benchmark_baseline_keeps_the_retraining_dags_shared_params(dagbag: Any) -> None:
    baseline_bag = DagBag(dag_folder=str(BASELINE))
    assert not baseline_bag.import_errors
    baseline = _defaults(baseline_bag.get_dag("amazon_bedrock_retraining"))
    retraining = _defaults(dagbag.get_dag("bedrock_rft_retraining"))
    assert baseline == retraining
