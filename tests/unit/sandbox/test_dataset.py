"""The emulated validation stage's dataset checks and the grader metadata."""

from __future__ import annotations

import json
from typing import Any

from bedrock_rft_provider.sandbox.dataset import AnswerIndex, grader_metadata, parse_dataset
from unit.sandbox.sandbox_helpers import jsonl, numeric_records

END_ON_USER = "the prompt must end on a user turn (the model writes the assistant turn)"


def test_a_good_file_has_no_problems() -> None:
    dataset = parse_dataset("s3://b/train.jsonl", jsonl(numeric_records(100)))
    assert dataset.problems == []
    assert len(dataset.records) == 100


def test_every_problem_is_reported_with_file_and_line() -> None:
    lines = [
        json.dumps({"messages": [{"role": "user", "content": ""}]}),
        json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "s"}]}),
        json.dumps({"messages": [{"role": "assistant", "content": "a"}]}),
        json.dumps(["not", "an", "object"]),
    ]
    dataset = parse_dataset("s3://b/t.jsonl", "\n".join(lines).encode())

    # The per-record rules are the provider's (data.records.validate_record): same file, same verdict.
    assert dataset.problems == [
        "t.jsonl:1: messages[0].content is empty; expected a non-empty string",
        "t.jsonl:2: messages[1].role is system; a system message may only come first",
        f"t.jsonl:2: messages[1].role is system; {END_ON_USER}",
        "t.jsonl:3: messages has no user message; expected at least one",
        f"t.jsonl:3: messages[0].role is assistant; {END_ON_USER}",
        "t.jsonl:4: record is list; expected a JSON object",
    ]


def test_too_few_records() -> None:
    dataset = parse_dataset("s3://b/t.jsonl", jsonl(numeric_records(99)))
    assert dataset.problems == ["t.jsonl has 99 valid records; reinforcement fine-tuning needs at least 100"]


def test_metadata_carries_reference_answer_and_extra_fields_but_not_messages() -> None:
    record = numeric_records(1)[0]
    assert grader_metadata(record) == {
        "id": "q0",
        "reference_answer": record["reference_answer"],
        "difficulty": "easy",
    }


def test_answer_index_recognises_a_prompt_despite_whitespace() -> None:
    index = AnswerIndex()
    index.add_records("s3://b/test.jsonl", "v1", numeric_records(3))
    found = index.lookup("Ann has 1 marbles and wins 8 more.   How many now? (1)\n")
    assert found is not None and found.answer == "9"
    assert index.lookup("something else") is None


def _with_answer(records: list[dict[str, Any]], answer: str) -> list[dict[str, Any]]:
    return [{**r, "reference_answer": f"#### {answer}"} for r in records]


def test_answer_index_prefers_the_dataset_indexed_last_for_a_shared_prompt() -> None:
    # A shared sandbox holds other callers' datasets: one that uploads its records and then asks must
    # get its own reference back, not an older dataset's for the same prompt text.
    index = AnswerIndex()
    prompt = "Ann has 1 marbles and wins 8 more. How many now? (1)"
    index.add_records("s3://b/old.jsonl", "v1", _with_answer(numeric_records(3), "41"))
    index.add_records("s3://b/new.jsonl", "v1", _with_answer(numeric_records(3), "42"))
    found = index.lookup(prompt)
    assert found is not None and found.answer == "42"
    index.add_records("s3://b/old.jsonl", "v2", _with_answer(numeric_records(3), "43"))  # rewritten
    found = index.lookup(prompt)
    assert found is not None and found.answer == "43"
