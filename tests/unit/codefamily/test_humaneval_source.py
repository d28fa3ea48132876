"""The HumanEval source: the package's problems as valid RFT records whose tests give partial credit."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.data import humaneval
from bedrock_rft_provider.data.problems import DatasetValidationError
from bedrock_rft_provider.data.records import validate_record
from bedrock_rft_provider.data.sources import SourceReader

CHECK = """
METADATA = {"author": "jt"}

def check(candidate):
    assert candidate(2) == 4
    assert True, "markers like this one are not tests"
    xs = [1, 2]
    for x in xs:
        assert candidate(x) == x * x
    assert abs(candidate(0.5) - 0.25) < 1e-6
"""


def test_the_package_ships_all_164_problems_as_valid_code_records() -> None:
    records = [item.record for item in SourceReader("humaneval", "all").items()]
    assert len(records) == 164
    assert all(record is not None and validate_record(record) == [] for record in records)
    first = records[0]
    assert first is not None
    assert first["id"] == "humaneval-0" and first["task_family"] == "code"
    reference = first["reference_answer"]
    assert reference["entry_point"] == "has_close_elements"
    assert all("candidate = has_close_elements" in test for test in reference["tests"])
    assert "```python\nfrom typing import List" in first["messages"][-1]["content"]


def test_a_count_picks_that_many_problems_by_seed() -> None:
    picked = [item.record["id"] for item in SourceReader("humaneval", "20", seed=3).items() if item.record]
    assert len(picked) == 20
    again = [item.record["id"] for item in SourceReader("humaneval", "20", seed=3).items() if item.record]
    assert picked == again
    other = [item.record["id"] for item in SourceReader("humaneval", "20", seed=4).items() if item.record]
    assert other != picked


def test_a_count_that_is_not_a_number_is_a_clear_error() -> None:
    with pytest.raises(DatasetValidationError, match='humaneval: input "many" is not a record count'):
        list(SourceReader("humaneval", "many").items())


def test_check_splits_into_one_test_per_assert_with_its_setup() -> None:
    tests = humaneval.split_check(CHECK, "square")
    assert len(tests) == 3  # the assert True marker is not a test
    assert all(t.startswith("METADATA = {'author': 'jt'}\ncandidate = square\n") for t in tests)
    assert "xs = [1, 2]" in tests[1] and "for x in xs:" in tests[1]
    assert "xs = [1, 2]" not in tests[0]


def test_a_problem_without_asserts_is_refused_naming_it() -> None:
    problem = {
        "task_id": "X/1",
        "prompt": "def f():\n",
        "canonical_solution": "    return 1\n",
        "test": "def check(candidate):\n    pass\n",
        "entry_point": "f",
    }
    with pytest.raises(ValueError, match="test of X/1 cannot be split into asserts: check"):
        humaneval.to_rft_record(problem)
    with pytest.raises(ValueError, match="entry_point is missing"):
        humaneval.to_rft_record({**problem, "entry_point": ""})
