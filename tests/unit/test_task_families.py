"""Task-family recipes: what ``make demo TASK=...`` and the retraining DAG's params are built from."""

from __future__ import annotations

from datetime import date

import pytest

from bedrock_rft_provider import demo
from bedrock_rft_provider.data.records import validate_record
from bedrock_rft_provider.task_families import TaskFamily, recipe, recipes


def test_every_recipe_names_its_dataset_reward_grader_and_champion() -> None:
    for name, family in recipes().items():
        assert family.name == name
        conf = family.retraining_conf
        for key in ("model_family", "dataset_source", "dataset_input", "reward", "grader_function_name"):
            assert isinstance(conf.get(key), str) and conf[key], f"{name}: {key}"
        assert ":" in conf["reward"], f"{name}: reward must be module:function"


def test_daily_prompts_are_valid_records_seeded_by_the_day() -> None:
    for family in recipes().values():
        if family.daily_prompts is None:
            continue
        first = family.daily_prompts(date(2026, 1, 2), 5)
        assert len(first) == 5
        assert all(validate_record(record) == [] for record in first)
        assert family.daily_prompts(date(2026, 1, 2), 5) == first
        assert family.daily_prompts(date(2026, 1, 3), 5) != first


def test_an_unknown_family_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown task family 'poetry'; choose one of: math"):
        recipe("poetry")


def test_the_demo_runs_the_recipe_over_its_own_defaults() -> None:
    math = recipe("math")
    conf = demo.retraining_conf(math)
    assert conf["gate_guards"] == demo.RETRAINING_CONF["gate_guards"]
    assert conf["reward"] == "bedrock_rft_provider.rewards.builtin:math_answer"
    override = TaskFamily(
        "x", "x", {**math.retraining_conf, "gate_guards": []}, real="r", simulated="s", daily_prompts=None
    )
    assert demo.retraining_conf(override)["gate_guards"] == []
    assert demo.evaluation_conf(math) == {"model_family": "gsm8k", "reward": math.retraining_conf["reward"]}


def test_the_demo_refuses_an_unknown_task(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--task", "poetry"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'poetry'" in capsys.readouterr().err
