"""Scoring: in-process handler and Lambda invocation give the same results; contract breaks are loud."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.records import EvalRecord, ResponseRecord, join_responses
from bedrock_rft_provider.evaluation.scoring import (
    ScoringError,
    grader_sample,
    handler_grader,
    lambda_grader,
    load_reward,
    reward_grader,
    score,
)


def exact_handler(event: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
    out = []
    for sample in event:
        answer = sample["messages"][-1]["content"].strip()
        ok = float(answer == sample["metadata"]["reference_answer"])
        out.append(
            {
                "id": sample["id"],
                "aggregate_reward_score": ok,
                "metrics_list": [{"name": "exact", "value": ok, "type": "Reward"}],
            }
        )
    return out


RECORDS = [
    EvalRecord(f"r{i}", [{"role": "user", "content": f"say {i}"}], str(i), {"tier": "a"}) for i in range(5)
]
RESPONSES = [ResponseRecord(f"r{i}", 0, str(i) if i % 2 == 0 else "wrong") for i in range(5)]


def test_grader_sample_has_the_bedrock_event_shape() -> None:
    sample = grader_sample(RECORDS[1], ResponseRecord("r1", 2, "1"))
    assert sample == {
        "id": "r1#s2",
        "messages": [{"role": "user", "content": "say 1"}, {"role": "assistant", "content": "1"}],
        "metadata": {"tier": "a", "reference_answer": "1"},
    }


def test_handler_and_lambda_paths_score_identically() -> None:
    pairs, unmatched = join_responses(RECORDS, RESPONSES)

    class FakeLambda:
        def __init__(self) -> None:
            self.batches: list[int] = []

        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            event = json.loads(kwargs["Payload"])
            self.batches.append(len(event))
            return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(exact_handler(event, None)).encode())}

    fake = FakeLambda()
    in_process = score(pairs, handler_grader(exact_handler), batch_size=2)
    via_lambda = score(pairs, lambda_grader(fake, "grader"), batch_size=2, max_workers=2)
    assert in_process == via_lambda
    assert [r.score for r in in_process] == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert sorted(fake.batches) == [1, 2, 2] and unmatched == 0


def test_lambda_function_error_is_reported() -> None:
    class Failing:
        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": io.BytesIO(b'{"errorMessage": "boom"}'),
            }

    pairs, _ = join_responses(RECORDS, RESPONSES)
    with pytest.raises(ScoringError, match="boom"):
        score(pairs, lambda_grader(Failing(), "grader"))


def test_a_result_missing_for_an_id_breaks_the_contract() -> None:
    pairs, _ = join_responses(RECORDS, RESPONSES)
    with pytest.raises(ScoringError, match="no result for id 'r4'"):
        score(pairs, lambda batch: exact_handler(batch, None)[:-1], batch_size=10)


def test_failed_generations_score_zero_without_calling_the_reward() -> None:
    pairs, _ = join_responses(RECORDS[:1], [ResponseRecord("r0", 0, None, error="ValidationException")])
    results = score(pairs, lambda batch: pytest.fail("reward called"))  # type: ignore[arg-type,return-value]
    assert results[0].score == 0.0 and results[0].error == "ValidationException"


def test_missing_responses_are_an_error_naming_the_ids() -> None:
    with pytest.raises(ConfigError, match="2 test record"):
        join_responses(RECORDS, RESPONSES[:3], source="responses.jsonl")


def test_load_reward_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"^reward: .*expected MODULE:FUNCTION"):
        load_reward("no_colon")
    with pytest.raises(ConfigError, match="has no attribute"):
        load_reward("json:nope")


def test_reward_grader_runs_a_library_reward_through_make_handler() -> None:
    record = EvalRecord("g", [{"role": "user", "content": "2+2?"}], "4")
    pairs = [(record, ResponseRecord("g", 0, "It is 4.\n#### 4")), (record, ResponseRecord("g", 1, "#### 5"))]
    results = score(pairs, reward_grader("bedrock_rft_provider.rewards.builtin:math_answer"))
    assert [r.score for r in results] == [1.0, 0.0]
    assert results[0].metrics["math_answer_found"] == 1.0
