"""tool_call_match: BFCL-style partial credit per part, every accepted call shape, hostile responses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_rft_provider.rewards import make_handler
from bedrock_rft_provider.rewards.builtin import tool_call_match
from bedrock_rft_provider.rewards.contract import check_results, parse_sample
from bedrock_rft_provider.rewards.toolcall import WEIGHTS
from bedrock_rft_provider.rewards.toolparse import (
    MAX_CALLS,
    MAX_DEPTH,
    MAX_RESPONSE_CHARS,
    calls_in_text,
    calls_text,
)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
            },
            "required": ["city", "days"],
        },
    },
}
EXPECTED = {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}]}


def event(content: Any, reference: Any = EXPECTED, tools: Any = (WEATHER,), **turn: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"reference_answer": reference}
    if tools is not None:
        metadata["tools"] = list(tools)
    return {
        "id": "s1",
        "messages": [
            {"role": "user", "content": "Weather in Paris for 3 days?"},
            {"role": "assistant", "content": content, **turn},
        ],
        "metadata": metadata,
    }


def score(content: Any, **kwargs: Any) -> Any:
    result = tool_call_match(parse_sample(event(content, **kwargs)))
    assert result is not None
    return result


def call(arguments: Any, name: str = "get_weather") -> str:
    return json.dumps({"name": name, "arguments": arguments})


# -- partial credit per part -----------------------------------------------------------------------


def test_the_right_call_scores_one() -> None:
    result = score(call({"city": "Paris", "days": 3}))
    assert result.score == 1.0
    assert result.metrics["tool_arg.get_weather.city"] == 1.0
    assert result.metrics["tool_arg.get_weather.days"] == 1.0


def test_a_wrong_function_scores_zero_even_with_the_right_arguments() -> None:
    result = score(call({"city": "Paris", "days": 3}, name="get_forecast"))
    assert result.score == 0.0
    assert result.components["tool_call_function"] == 0.0
    assert result.metrics["tool_arg.get_weather.city"] == 0.0


def test_a_missing_argument_loses_its_share_of_value_and_type() -> None:
    result = score(call({"city": "Paris"}))
    assert result.score == pytest.approx(1.0 - WEIGHTS["arguments"] / 2 - WEIGHTS["types"] / 2)
    assert result.metrics["tool_arg.get_weather.days"] == 0.0
    assert result.metrics["tool_arg.get_weather.city"] == 1.0


def test_a_hallucinated_argument_loses_the_no_extra_part() -> None:
    result = score(call({"city": "Paris", "days": 3, "api_key": "x"}))
    assert result.score == pytest.approx(1.0 - WEIGHTS["no_extra_arguments"])
    assert result.components["tool_call_no_extra_arguments"] == 0.0


def test_an_optional_argument_of_the_schema_is_not_hallucinated() -> None:
    assert score(call({"city": "Paris", "days": 3, "unit": "celsius"})).score == 1.0


def test_without_a_schema_arguments_outside_the_expected_ones_are_extra() -> None:
    assert score(call({"city": "Paris", "days": 3, "unit": "celsius"}), tools=None).score == pytest.approx(
        1.0 - WEIGHTS["no_extra_arguments"]
    )


def test_a_number_written_as_a_string_keeps_the_value_but_loses_the_type() -> None:
    result = score(call({"city": "Paris", "days": "3"}))
    assert result.components["tool_call_arguments"] == 1.0
    assert result.components["tool_call_types"] == 0.5
    assert result.score == pytest.approx(1.0 - WEIGHTS["types"] / 2)


def test_a_fraction_written_as_a_string_matches_a_float_reference() -> None:
    reference = {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris", "days": 2.5}}]}
    result = score(call({"city": "Paris", "days": "2.50"}), reference=reference, tools=None)
    assert result.components["tool_call_arguments"] == 1.0 and result.components["tool_call_types"] == 0.5
    assert score(call({"city": "Paris", "days": "1e999999999"}), reference=reference).score < 0.75


def test_a_wrong_value_loses_its_argument_share() -> None:
    result = score(call({"city": "Lyon", "days": 3}))
    assert result.score == pytest.approx(1.0 - WEIGHTS["arguments"] / 2)
    assert result.metrics["tool_arg.get_weather.city"] == 0.0


def test_strings_compare_folded_and_numbers_exactly() -> None:
    assert score(call({"city": "  paris ", "days": 3.0})).score == 1.0
    close = '{"name": "get_weather", "arguments": {"city": "Paris", "days": 3.0000000000000001}}'
    assert score(close).components["tool_call_arguments"] == 0.5


def test_a_prose_answer_scores_zero_and_says_no_call() -> None:
    result = score("I think it will be sunny in Paris.")
    assert result.score == 0.0
    assert result.metrics["tool_call_parsed"] == 0.0
    assert result.metrics["tool_call_error_no_call"] == 1.0
    assert result.metrics["tool_arg.get_weather.city"] == 0.0


def test_malformed_json_scores_zero() -> None:
    assert score('<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"</tool_call>').score == 0.0


def test_arguments_that_are_not_an_object_score_only_the_function_name() -> None:
    for arguments in ([1, 2], "Paris", '{"city": "Paris"', 7, None):
        result = score(call(arguments))
        assert result.score == pytest.approx(WEIGHTS["function"]), arguments


def test_extra_calls_dilute_the_score_and_order_does_not_matter() -> None:
    two = {
        "tool_calls": [
            {"name": "get_weather", "arguments": {"city": "Paris", "days": 3}},
            {"name": "get_weather", "arguments": {"city": "Rome", "days": 1}},
        ]
    }
    swapped = json.dumps({"tool_calls": list(reversed(two["tool_calls"]))})
    assert score(swapped, reference=two).score == 1.0
    doubled = json.dumps({"tool_calls": [*two["tool_calls"], two["tool_calls"][0]]})
    assert score(doubled, reference=two).score == pytest.approx(2 / 3)
    assert score(call({"city": "Paris", "days": 3}), reference=two).score == pytest.approx(0.5)


def test_no_expected_call_pays_only_for_making_none() -> None:
    none = {"tool_calls": []}
    assert score("No tool fits; I can only chat.", reference=none).score == 1.0
    assert score(call({"city": "Paris", "days": 3}), reference=none).score == 0.0


def test_a_malformed_schema_falls_back_to_the_expected_values() -> None:
    broken = {
        "type": "function",
        "function": {"name": "get_weather", "parameters": {"properties": {"days": "int"}}},
    }
    assert score(call({"city": "Paris", "days": 3}), tools=[broken, "junk", {"toolSpec": 5}]).score == 1.0


def test_a_sample_without_an_expected_call_is_not_applicable() -> None:
    assert tool_call_match(parse_sample(event("x", reference="42"))) is None


# -- every accepted shape of a call ----------------------------------------------------------------

RIGHT = {"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}


@pytest.mark.parametrize(
    "content",
    [
        json.dumps(RIGHT),
        f"<tool_call>\n{json.dumps(RIGHT)}\n</tool_call>",
        f"Sure.\n```json\n{json.dumps(RIGHT)}\n```",
        f"Calling it now: {json.dumps(RIGHT)} done.",
        json.dumps([RIGHT]),
        json.dumps({"tool_calls": [RIGHT]}),
        json.dumps({"name": "get_weather", "parameters": {"city": "Paris", "days": 3}}),
        json.dumps(
            {
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris","days":3}'},
            }
        ),
        json.dumps(
            {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris", "days": 3}}}
        ),
        'get_weather(city="Paris", days=3)',
        '[get_weather(city="Paris",\n days=3)]',
        '<think>maybe {"name": "get_forecast"}</think>' + json.dumps(RIGHT),
    ],
)
def test_every_text_form_of_the_right_call_scores_one(content: str) -> None:
    assert score(content).score == 1.0


def test_openai_structured_tool_calls_in_the_graded_turn_are_read() -> None:
    tool_calls = [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris", "days": 3}'},
        }
    ]
    assert score(None, tool_calls=tool_calls).score == 1.0


def test_converse_tool_use_blocks_in_the_graded_turn_are_read() -> None:
    content = [
        {"text": "Let me check."},
        {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris", "days": 3}}},
    ]
    assert score(content).score == 1.0


def test_bfcl_ground_truth_in_metadata_is_an_expected_call() -> None:
    sample = event('get_weather(city="Paris", days=3)', reference=None)
    sample["metadata"] = {"ground_truth": ['get_weather(city="Paris", days=3)']}
    result = tool_call_match(parse_sample(sample))
    assert result is not None and result.score == 1.0


def test_calls_text_round_trips_structured_calls() -> None:
    text = calls_text([{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}])
    assert [(c.name, dict(c.arguments or {})) for c in calls_in_text(text)] == [
        ("get_weather", {"city": "Paris", "days": 3})
    ]
    malformed = calls_text([{"name": "get_weather", "arguments": '{"city": "Par'}])
    assert calls_in_text(malformed)[0].arguments is None


# -- hostile responses -----------------------------------------------------------------------------


OPEN = '{"name": "get_weather", "arguments": '


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"name": "get_weather", "name": "x", "arguments": {"city": "Paris", "days": 3}}', "duplicate_keys"),
        ('{"name": "get_weather", "arguments": {"city": "Paris", "days": NaN}}', "non_finite"),
        ('{"name": "get_weather", "arguments": {"city": "Paris", "days": Infinity}}', "non_finite"),
        (
            '{"name": "get_weather", "arguments": ' + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "}",
            "too_deep",
        ),
        ('{"name": "get_weather", "arguments": ' + "[" * 100_000 + "]" * 100_000 + "}", "too_large"),
        (" " * (MAX_RESPONSE_CHARS + 1) + json.dumps(RIGHT), "too_large"),
    ],
    ids=["duplicate-key", "nan", "infinity", "deep", "very-deep", "long"],
)
def test_hostile_json_scores_zero_with_the_reason(content: str, reason: str) -> None:
    result = score(content)
    assert result.score == 0.0
    assert result.metrics[f"tool_call_error_{reason}"] == 1.0


def test_duplicate_keys_inside_arguments_are_refused() -> None:
    assert (
        score('{"name": "get_weather", "arguments": {"city": "Lyon", "city": "Paris", "days": 3}}').score
        == 0.0
    )


def test_more_calls_than_the_limit_are_not_read() -> None:
    many = json.dumps([RIGHT] * (MAX_CALLS + 1))
    assert score(many).score == 0.0


def test_python_call_syntax_is_never_evaluated(tmp_path: Any) -> None:
    marker = tmp_path / "pwned"
    hostile = f'get_weather(city=__import__("pathlib").Path("{marker}").touch(), days=3)'
    result = score(hostile)
    assert not marker.exists()
    assert result.metrics["tool_arg.get_weather.city"] == 0.0
    assert score("get_weather(city='Paris', days=9**9**9)").metrics["tool_arg.get_weather.days"] == 0.0


def test_huge_numbers_do_not_hang_or_crash() -> None:
    assert score(call({"city": "Paris", "days": 3}).replace("3}", "1" + "0" * 5000 + "}")).score < 1.0
    assert score('{"name": "get_weather", "arguments": {"city": "Paris", "days": 1e999999999}}').score < 1.0


def test_a_hostile_graded_turn_through_the_lambda_handler_keeps_the_contract() -> None:
    handler = make_handler(tool_call_match)
    samples = [
        event({"not": "a list"}),
        event([{"toolUse": "nope"}, 5, None]),
        event(None, tool_calls=[{"function": {"name": ["x"], "arguments": {}}}] * 3),
        event(None, tool_calls=[{"function": {"name": "get_weather", "arguments": {}}}] * (MAX_CALLS + 1)),
        event("x", reference={"tool_calls": "nope"}),
    ]
    results = handler(samples, None)
    assert check_results(samples, results) == []
    assert all(0.0 <= r["aggregate_reward_score"] <= 1.0 for r in results)


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=300)
    | st.recursive(
        st.none() | st.integers() | st.text(max_size=8),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
        max_leaves=20,
    ).map(json.dumps)
)
def test_any_response_scores_within_zero_and_one(content: str) -> None:
    result = score(content)
    assert 0.0 <= result.score <= 1.0
