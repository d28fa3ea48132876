"""Rendered-template values coerced one way: what reads as a bool, number, text or dict, and what fails."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider import templated
from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.templated import (
    as_bool,
    as_float,
    as_int,
    as_mapping,
    as_optional_float,
    as_optional_text,
    is_unset,
)

BOOLS = [
    (True, True),
    (False, False),
    (1, True),
    (0, False),
    ("True", True),
    ("false", False),
    (" YES ", True),
    ("no", False),
    ("on", True),
    ("off", False),
    ("1", True),
    ("0", False),
]


@pytest.mark.parametrize(("value", "expected"), BOOLS)
def test_bool_words_in_any_case(value: Any, expected: bool) -> None:
    assert as_bool("flag", value) is expected


@pytest.mark.parametrize("value", ["maybe", "ture", "{{ params.sandbox }}", 2, 0.5, [], "yes please"])
def test_anything_else_is_not_silently_false(value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        as_bool("sandbox", value, default=False)
    assert info.value.field == "sandbox"
    assert str(info.value) == f"sandbox: expected true or false, got {value!r}"


@pytest.mark.parametrize("value", [None, "", "None", " none "])
def test_an_unset_bool_takes_the_default_or_is_an_error_without_one(value: Any) -> None:
    assert as_bool("flag", value, default=True) is True
    assert as_bool("flag", value, default=False) is False
    with pytest.raises(ConfigError, match=r"^flag: expected true or false"):
        as_bool("flag", value)


@pytest.mark.parametrize(
    ("value", "expected"), [(8, 8), ("8", 8), (" 8 ", 8), (8.0, 8), ("8.0", 8), ("1e2", 100)]
)
def test_whole_numbers_read_from_text(value: Any, expected: int) -> None:
    assert as_int("concurrency", value) == expected


def test_a_large_int_is_exact() -> None:
    assert as_int("seed", str(2**63 + 1)) == 2**63 + 1
    assert as_int("seed", 2**63 + 1) == 2**63 + 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2.5", "expected a whole number, got '2.5'"),
        (2.5, "expected a whole number, got 2.5"),
        ("abc", "expected a whole number, got 'abc'"),
        (True, "expected a whole number, got True"),
        (None, "expected a whole number, got None"),
        ("nan", "expected a whole number, got 'nan'"),
        ("0", "must be at least 1, got 0"),
        (-3, "must be at least 1, got -3"),
    ],
)
def test_bad_whole_numbers_name_the_field(value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        as_int("concurrency", value, minimum=1)
    assert str(info.value) == f"concurrency: {message}"


@pytest.mark.parametrize(
    ("value", "expected"), [(0.5, 0.5), ("0.5", 0.5), (1, 1.0), ("-2", -2.0), ("1e-3", 0.001)]
)
def test_numbers_read_from_text(value: Any, expected: float) -> None:
    assert as_float("threshold", value) == expected


@pytest.mark.parametrize("value", ["abc", "inf", "-inf", "nan", True, None, [0.5], "{{ params.t }}"])
def test_bad_numbers_name_the_field(value: Any) -> None:
    with pytest.raises(ConfigError, match=r"^success_threshold: expected a number, got "):
        as_float("success_threshold", value)


def test_a_number_below_its_minimum_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"^timeout: must be at least 0.5, got 0.25$"):
        as_float("timeout", "0.25", minimum=0.5)


def test_optional_numbers_and_text_read_unset_as_none() -> None:
    assert [as_optional_float("p", v) for v in (None, "", "None", "0.05")] == [None, None, None, 0.05]
    assert [as_optional_text("t", v) for v in (None, "", "None", "s3://b/k")] == [
        None,
        None,
        None,
        "s3://b/k",
    ]
    assert is_unset(" ") and not is_unset("0") and not is_unset(0)


def test_text_that_is_not_a_string_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"^model_id: expected text, got dict \{'a': 1\}$"):
        as_optional_text("model_id", {"a": 1})


@pytest.mark.parametrize("value", [{"maxTokens": 5}, '{"maxTokens": 5}', "{'maxTokens': 5}"])
def test_a_dict_or_its_rendered_text(value: Any) -> None:
    assert as_mapping("inference_config", value) == {"maxTokens": 5}


@pytest.mark.parametrize("value", ["[1, 2]", "maxTokens=5", 5, None])
def test_anything_but_a_dict_names_the_field(value: Any) -> None:
    with pytest.raises(ConfigError, match=rf"^summary: expected the summary, got {type(value).__name__}$"):
        as_mapping("summary", value, expected="the summary")


def test_the_coercions_are_pure_and_stdlib_only() -> None:
    """The core and the CLI import this module: it must not pull in Airflow (or anything outside errors)."""
    tree = ast.parse(Path(templated.__file__).read_text())
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert imported == {
        "__future__",
        "ast",
        "json",
        "math",
        "collections.abc",
        "typing",
        "bedrock_rft_provider.errors",
    }
