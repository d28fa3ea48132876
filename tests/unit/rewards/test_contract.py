"""The grader contract through make_handler: real-shaped events in, one valid result per sample out."""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import pytest

from bedrock_rft_provider.rewards import (
    RewardResult,
    Sample,
    check_results,
    grader_sample,
    make_handler,
    parse_sample,
)
from bedrock_rft_provider.rewards.builtin import (
    composite,
    exact_match,
    format_check,
    json_match,
    length_penalty,
    math_answer,
    regex_match,
)

# reward, a response it must score 1.0, a response it must score below 1.0, the reference
BUILTINS: list[tuple[Any, str, str, Any]] = [
    (math_answer, "So she makes $18.\n#### 18", "#### 19", "18"),
    (exact_match, "  Paris. ", "London", "paris"),
    (regex_match, "The code is AB-1234.", "The code is unknown.", {"pattern": r"AB-\d{4}"}),
    (
        json_match,
        '```json\n{"city": "Paris", "year": 1889}\n```',
        '{"city": "Paris", "year": 1890}',
        {"city": "Paris", "year": 1889},
    ),
    (format_check(), "reasoning\n#### 18", "reasoning, no marker", "18"),
    (length_penalty(10, 20), "short", "x" * 30, "18"),
    (composite({math_answer: 0.8, format_check(): 0.2}), "#### 18", "#### 19", "18"),
]


def _content(text: str, shape: str) -> Any:
    return (
        text
        if shape == "string"
        else [{"type": "text", "text": text[:3]}, {"type": "text", "text": text[3:]}]
    )


def _reference(reference: Any, shape: str) -> Any:
    if shape == "object" and isinstance(reference, str):
        return {"text": reference}
    return reference


@pytest.mark.parametrize("location", ["metadata", "top"])
@pytest.mark.parametrize("content_shape", ["string", "blocks"])
@pytest.mark.parametrize("reference_shape", ["plain", "object"])
@pytest.mark.parametrize("case", BUILTINS, ids=lambda case: getattr(case[0], "reward_name", case[0].__name__))
def test_builtin_through_handler(
    case: tuple[Any, str, str, Any], location: str, content_shape: str, reference_shape: str, make_event: Any
) -> None:
    reward, good, bad, reference = case
    handler = make_handler(reward)
    events = [
        make_event(
            _content(good, content_shape),
            _reference(reference, reference_shape),
            sample_id="good",
            location=location,
        ),
        make_event(
            _content(bad, content_shape),
            _reference(reference, reference_shape),
            sample_id="bad",
            location=location,
        ),
    ]
    results = handler(events, None)
    assert check_results(events, results) == []
    assert [r["id"] for r in results] == ["good", "bad"]
    assert results[0]["aggregate_reward_score"] == 1.0
    assert results[1]["aggregate_reward_score"] < 1.0


def test_ids_and_order_are_preserved(make_event: Any) -> None:
    events = [make_event(f"#### {i}", str(i), sample_id=f"id-{i}") for i in range(50, 0, -1)]
    results = make_handler(math_answer)(events, None)
    assert [r["id"] for r in results] == [f"id-{i}" for i in range(50, 0, -1)]
    assert all(r["aggregate_reward_score"] == 1.0 for r in results)


def test_raising_reward_scores_zero_with_error_metric_and_rest_is_scored(
    make_event: Any, caplog: Any
) -> None:
    def fragile(sample: Sample) -> float:
        if sample.id == "boom":
            raise RuntimeError("bad sample")
        return 1.0

    events = [
        make_event("a", sample_id="one"),
        make_event("b", sample_id="boom"),
        make_event("c", sample_id="three"),
    ]
    with caplog.at_level(logging.WARNING, logger="bedrock_rft_provider.rewards"):
        results = make_handler(fragile)(events, None)
    assert [r["aggregate_reward_score"] for r in results] == [1.0, 0.0, 1.0]
    errors = [next(m["value"] for m in r["metrics_list"] if m["name"] == "reward_error") for r in results]
    assert errors == [0.0, 1.0, 0.0]
    assert "boom" in caplog.text and "bad sample" in caplog.text


@pytest.mark.parametrize("bad_value", [math.nan, math.inf, -math.inf, "1.0", [1.0], RewardResult(math.nan)])
def test_non_finite_or_wrong_type_score_becomes_error(bad_value: Any, make_event: Any) -> None:
    results = make_handler(lambda sample: bad_value)([make_event("x")], None)
    assert results[0]["aggregate_reward_score"] == 0.0
    assert {"name": "reward_error", "value": 1.0, "type": "Metric"} in results[0]["metrics_list"]


def test_components_and_metrics_are_typed(make_event: Any) -> None:
    def reward(sample: Sample) -> RewardResult:
        return RewardResult(0.75, components={"accuracy": 1.0, "style": 0.5}, metrics={"length": 12})

    [result] = make_handler(reward)([make_event("x")], None)
    assert result["aggregate_reward_score"] == 0.75
    assert {"name": "accuracy", "value": 1.0, "type": "Reward"} in result["metrics_list"]
    assert {"name": "length", "value": 12.0, "type": "Metric"} in result["metrics_list"]


def test_none_means_not_applicable(make_event: Any) -> None:
    [result] = make_handler(lambda sample: None)([make_event("x")], None)
    assert result["aggregate_reward_score"] == 0.0
    assert {"name": "reward_not_applicable", "value": 1.0, "type": "Metric"} in result["metrics_list"]


def test_nova_assistant_role_and_top_level_reference_are_read(make_event: Any) -> None:
    sample = parse_sample(
        make_event([{"text": "#### 18"}], {"answer": "18"}, role="nova_assistant", location="top")
    )
    assert sample.response == "#### 18"
    assert sample.reference_text == "18"
    assert sample.prompt == "How much does Janet make?"
    assert [m["role"] for m in sample.prompt_messages] == ["system", "user"]


def test_metadata_reference_wins_over_top_level(make_event: Any) -> None:
    event = make_event("x", "from-metadata")
    event["reference_answer"] = "top-level"
    assert parse_sample(event).reference == "from-metadata"


def test_prompt_without_assistant_turn_has_empty_response(make_event: Any) -> None:
    event = make_event("x")
    event["messages"] = event["messages"][:2]
    assert parse_sample(event).response == ""


def test_thread_pool_scores_in_order(make_event: Any) -> None:
    events = [make_event(f"#### {i}", str(i), sample_id=str(i)) for i in range(40)]
    results = make_handler(math_answer, max_workers=4)(events, None)
    assert [r["id"] for r in results] == [str(i) for i in range(40)]
    assert all(r["aggregate_reward_score"] == 1.0 for r in results)


def test_wrapper_event_and_json_text_are_accepted(make_event: Any) -> None:
    handler = make_handler(math_answer)
    assert len(handler({"samples": [make_event("#### 18")]}, None)) == 1
    text_event = (
        '[{"id": "a", "messages": [{"role": "assistant", "content": "#### 1"}], "reference_answer": "1"}]'
    )
    assert handler(text_event, None)[0]["aggregate_reward_score"] == 1.0


def test_check_results_names_each_problem(make_event: Any) -> None:
    events = [make_event("x", sample_id="a"), make_event("y", sample_id="b")]
    problems = check_results(
        events,
        [
            {"id": "b", "aggregate_reward_score": float("nan")},
            {"id": "a", "aggregate_reward_score": 1, "metrics_list": [{"name": "m"}]},
        ],
    )
    assert any("id is 'b'; expected 'a'" in p for p in problems)
    assert any("aggregate_reward_score is nan" in p for p in problems)
    assert any("metrics_list[0]" in p for p in problems)
    assert check_results(events, {"not": "a list"})[0].startswith("grader returned dict")
    assert "2 samples" in check_results(events, [])[0]


def test_composite_leaves_non_applicable_out_and_reports_every_component(make_event: Any) -> None:
    def never(sample: Sample) -> None:
        return None

    def half(sample: Sample) -> float:
        return 0.5

    reward = composite({math_answer: 3.0, never: 5.0, half: 1.0})
    [result] = make_handler(reward)([make_event("#### 18")], None)
    assert result["aggregate_reward_score"] == pytest.approx((3 * 1.0 + 1 * 0.5) / 4)
    names = {m["name"]: m for m in result["metrics_list"]}
    assert names["math_answer"]["type"] == "Reward"
    assert names["half"]["value"] == 0.5
    assert names["never_applied"]["value"] == 0.0
    assert names["math_answer_applied"]["value"] == 1.0


def test_composite_rejects_bad_weights() -> None:
    with pytest.raises(ValueError, match="positive number"):
        composite({math_answer: -1})
    with pytest.raises(ValueError, match="at least one"):
        composite({})


def test_json_match_gives_partial_credit(make_event: Any) -> None:
    reference = {"name": "Ada", "born": 1815, "field": "math"}
    result = json_match(
        parse_sample(make_event('{"name": "ada", "born": 1815, "field": "poetry"}', reference))
    )
    assert result is not None
    assert result.score == pytest.approx(2 / 3)
    assert result.metrics["json_field_field"] == 0.0
    unparsable = json_match(parse_sample(make_event("no json here", reference)))
    assert unparsable is not None
    assert (unparsable.score, unparsable.metrics["json_parsed"]) == (0.0, 0.0)


def test_length_penalty_falls_linearly() -> None:
    penalty = length_penalty(10, 20)
    scores = [
        penalty(parse_sample({"messages": [{"role": "assistant", "content": "x" * n}]}))
        for n in (5, 10, 15, 20, 40)
    ]
    assert scores == [1.0, 1.0, 0.5, 0.0, 0.0]


def test_grader_sample_round_trips_through_the_parser() -> None:
    event = grader_sample(
        "r-1", [{"role": "user", "content": "2+2?"}], "#### 4", {"answer": "4"}, {"source": "x"}
    )
    sample = parse_sample(event)
    assert (sample.id, sample.response, sample.reference_text, sample.prompt) == (
        "r-1",
        "#### 4",
        "4",
        "2+2?",
    )
    assert sample.metadata == {"source": "x", "reference_answer": {"answer": "4"}}
    assert make_handler(math_answer)([event], None)[0]["aggregate_reward_score"] == 1.0


def test_each_batch_logs_count_timing_mean_and_errors(make_event: Any, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="bedrock_rft_provider.rewards"):
        make_handler(math_answer)([make_event("#### 18"), make_event("#### 1")], None)
    assert re.search(r"reward math_answer scored 2 samples in [\d.]+ ms: mean 0\.500, 0 errors", caplog.text)
