"""SpendCaps: the three cap params, parsed from DAG params / templated strings, validated by name."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.errors import ConfigError, ConfigErrors
from bedrock_rft_provider.jobs.budget import SpendCaps


def test_missing_and_blank_caps_mean_uncapped() -> None:
    caps = SpendCaps.from_params({"max_budget": None, "max_training_hours": "", "other": 3})
    assert caps == SpendCaps()
    assert not caps.any


def test_templated_strings_become_numbers() -> None:
    caps = SpendCaps.from_params(
        {"max_budget": "250.5", "max_training_hours": "6", "max_grader_invocations": "40000"}
    )
    assert caps.as_dict() == {
        "max_budget": 250.5,
        "max_training_hours": 6.0,
        "max_grader_invocations": 40000,
    }
    assert isinstance(caps.max_grader_invocations, int)
    assert caps.any


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"max_budget": -1}, "max_budget"),
        ({"max_training_hours": 0}, "max_training_hours"),
        ({"max_grader_invocations": 10.5}, "max_grader_invocations"),
        ({"max_budget": "lots"}, "max_budget"),
        ({"max_training_hours": float("inf")}, "max_training_hours"),
        ({"max_grader_invocations": True}, "max_grader_invocations"),
    ],
)
def test_bad_cap_names_the_param(params: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        SpendCaps.from_params(params)
    assert excinfo.value.field == field
    assert str(excinfo.value).startswith(field)


def test_every_bad_cap_is_reported_at_once() -> None:
    with pytest.raises(ConfigErrors) as excinfo:
        SpendCaps(max_budget=-1, max_grader_invocations=0)
    assert [e.field for e in excinfo.value.errors] == ["max_budget", "max_grader_invocations"]
