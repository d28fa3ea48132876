"""The 100 / 20,000 training-record bounds have one home (``data.records``): every default and the
sandbox's service-side check use it (issue 11 item 4)."""

from __future__ import annotations

import inspect
import json

import pytest

from bedrock_rft_provider.cli import build_parser
from bedrock_rft_provider.data import PrepareOptions
from bedrock_rft_provider.data.records import MAX_TRAINING_RECORDS, MIN_TRAINING_RECORDS
from bedrock_rft_provider.data.validate import validate_file
from bedrock_rft_provider.sandbox.dataset import parse_dataset


def test_the_bounds_are_bedrocks() -> None:
    assert (MIN_TRAINING_RECORDS, MAX_TRAINING_RECORDS) == (100, 20_000)


def test_the_library_defaults_are_the_bounds() -> None:
    options = PrepareOptions()
    assert (options.min_records, options.max_records) == (MIN_TRAINING_RECORDS, MAX_TRAINING_RECORDS)
    params = inspect.signature(validate_file).parameters
    assert params["min_records"].default == MIN_TRAINING_RECORDS
    assert params["max_records"].default == MAX_TRAINING_RECORDS


@pytest.mark.parametrize("command", ["validate-data", "prepare-data"])
def test_the_cli_defaults_are_the_bounds(command: str) -> None:
    extra = (
        ["x.jsonl"] if command == "validate-data" else ["--source", "jsonl", "--input", "x", "--output", "y"]
    )
    args = build_parser().parse_args([command, *extra])
    assert (args.min_records, args.max_records) == (MIN_TRAINING_RECORDS, MAX_TRAINING_RECORDS)


def test_the_operator_defaults_are_the_bounds() -> None:
    from bedrock_rft_provider.operators.dataset import BedrockRFTDatasetOperator

    params = inspect.signature(BedrockRFTDatasetOperator.__init__).parameters
    assert params["min_records"].default == MIN_TRAINING_RECORDS
    assert params["max_records"].default == MAX_TRAINING_RECORDS


def _body(count: int) -> bytes:
    line = {"messages": [{"role": "user", "content": "q"}], "reference_answer": "1"}
    return b"".join(json.dumps(line).encode() + b"\n" for _ in range(count))


@pytest.mark.parametrize(
    ("count", "problem"),
    [
        (MIN_TRAINING_RECORDS - 1, f"needs at least {MIN_TRAINING_RECORDS}"),
        (MIN_TRAINING_RECORDS, None),
        (MAX_TRAINING_RECORDS, None),
        (MAX_TRAINING_RECORDS + 1, f"the maximum is {MAX_TRAINING_RECORDS}"),
    ],
)
def test_the_sandbox_rejects_what_the_bounds_reject(count: int, problem: str | None) -> None:
    problems = parse_dataset("s3://b/train.jsonl", _body(count)).problems
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems
