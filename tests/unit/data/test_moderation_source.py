"""The ``moderation`` dataset source: seeded, labelled, valid RFT records; a bad count is a clear error."""

from __future__ import annotations

from collections import Counter

import pytest

from bedrock_rft_provider.data.moderation import POLICY, generate
from bedrock_rft_provider.data.problems import DatasetValidationError
from bedrock_rft_provider.data.records import validate_record
from bedrock_rft_provider.data.sources import SourceReader


def test_records_are_valid_distinct_balanced_and_seeded() -> None:
    records = list(generate(600, seed=0))
    assert all(validate_record(r, require_reference_answer=True) == [] for r in records)
    assert len({r["messages"][1]["content"] for r in records}) == 600
    assert records[0]["messages"][0] == {"role": "system", "content": POLICY}
    counts = Counter(r["reference_answer"] for r in records)
    assert set(counts) == {"allow", "flag", "remove"} and min(counts.values()) == 200
    assert Counter(r["reference_answer"] for r in records[:9]) == {"allow": 3, "flag": 3, "remove": 3}
    assert list(generate(50, seed=0)) == records[:50]
    assert list(generate(50, seed=1)) != records[:50]


def test_every_label_comes_with_its_policy_rule_and_reason() -> None:
    for record in generate(60, seed=2):
        rule, label = record["policy_rule"], record["reference_answer"]
        assert record["task_family"] == "judge" and record["reason"]
        assert (rule == "none") == (label == "allow")
        assert rule == "none" or rule.split()[0] in record["reason"]


def test_the_source_reader_streams_the_generator_and_fingerprints_its_parameters() -> None:
    reader = SourceReader("moderation", "30", seed=4)
    items = list(reader.items())
    assert [item.record for item in items] == list(generate(30, seed=4))
    assert reader.display_name == "moderation(n=30, seed=4)"
    other = SourceReader("moderation", "30", seed=5)
    list(other.items())
    assert other.fingerprint != reader.fingerprint


def test_a_count_that_is_not_a_number_names_the_source() -> None:
    with pytest.raises(
        DatasetValidationError, match='input "many" is not a record count; for --source moderation'
    ):
        list(SourceReader("moderation", "many").items())
