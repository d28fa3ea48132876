"""Break wave 3: the retraining DAG's params refuse bad values at trigger time (Param schemas, before any
run or AWS write), and the quality gate's params before paid training, for every task-family recipe."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bedrock_rft_provider import demo
from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.task_families import recipes


def _validated(dagbag: Any, conf: dict[str, Any]) -> None:
    params = copy.deepcopy(dagbag.get_dag("bedrock_rft_retraining").params)
    params.update(conf)
    params.validate()


@pytest.mark.parametrize("family", list(recipes()))
def test_every_recipe_passes_the_param_schemas(dagbag: Any, family: str) -> None:
    _validated(dagbag, demo.retraining_conf(recipes()[family]))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        # Each of these was accepted and failed only in a task: SSM at promotion (after training), the
        # grader deployment, the gate (after training) or the wait.
        ("model_family", "my family!"),
        ("model_family", "humaneval/v2"),
        ("dataset_source", "humanevals"),
        ("dataset_source", "hf:"),
        ("grader_function_name", "bad name!"),
        ("base_model_id", ""),
        ("gate_guards", [{"metric": 5, "tolerance": 0.1}]),
        ("gate_guards", [{"metric": "error_rate"}]),
        ("gate_guards", [{"metric": "error_rate", "tolerance": -1}]),
        ("gate_guards", [{"metric": "error_rate", "tolerance": 0.1, "relativ": True}]),
        ("health_actions", {"flat_reward": "explode"}),
        ("max_training_hours", 0),
        ("max_grader_invocations", "100"),
    ],
)
@pytest.mark.parametrize("family", list(recipes()))
def test_bad_values_are_refused_at_trigger_time_for_every_recipe(
    dagbag: Any, family: str, key: str, value: Any
) -> None:
    conf = {**demo.retraining_conf(recipes()[family]), key: value}
    with pytest.raises(Exception, match=f"param {key}"):
        _validated(dagbag, conf)


@pytest.mark.parametrize("source", ["humaneval", "moderation", "synthetic-tools", "hf:openai/gsm8k:test"])
def test_every_dataset_source_is_accepted(dagbag: Any, source: str) -> None:
    _validated(dagbag, {"dataset_source": source})


def test_a_bad_gate_policy_fails_before_paid_training(dagbag: Any) -> None:
    """The gate runs after training; ``worth_training`` (before spend_forecast and train) reads its
    params first, so a guard the gate would refuse costs no training."""
    task = dagbag.get_dag("bedrock_rft_retraining").get_task("worth_training")
    params = {**dict(dagbag.get_dag("bedrock_rft_retraining").params), "gate_guards": [{"metric": "x"}]}
    with pytest.raises(ConfigError, match="guards"):
        task.python_callable({"mean_reward": 0.5}, params)
    params["gate_guards"] = [{"metric": "error_rate", "tolerance": 0.01}]
    assert task.python_callable({"mean_reward": 0.5}, params) is True
