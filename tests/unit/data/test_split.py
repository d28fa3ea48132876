"""Deterministic splitting: stable per record, unaffected by other records, disjoint and complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_rft_provider.data import PrepareOptions, assign_split, prepare_dataset
from bedrock_rft_provider.data.split import _digest_bound, block_splitter, check_fractions, split_point
from tests.unit.data.helpers import read_jsonl, rft_record, write_jsonl

ids = st.text(min_size=1, max_size=30)
fractions = st.tuples(st.floats(0.0, 0.45), st.floats(0.0, 0.45))


@given(ids, st.integers(0, 2**32), fractions)
def test_same_record_same_split(record_id: str, seed: int, fracs: tuple[float, float]) -> None:
    assert assign_split(record_id, seed, *fracs) == assign_split(record_id, seed, *fracs)


def _split_files(tmp_path: Path, name: str, indices: list[int], seed: int) -> dict[str, set[str]]:
    source = write_jsonl(tmp_path / f"{name}.jsonl", [rft_record(i) for i in indices])
    result = prepare_dataset(
        "jsonl",
        str(source),
        str(tmp_path / name),
        options=PrepareOptions(seed=seed, min_records=0, max_records=None),
    )
    uris = {"train": result.train_uri, "validation": result.validation_uri, "test": result.test_uri}
    return {split: {r["id"] for r in read_jsonl(Path(uri))} for split, uri in uris.items()}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    old=st.lists(st.integers(0, 10_000), min_size=1, max_size=60, unique=True),
    new=st.lists(st.integers(10_001, 20_000), max_size=60, unique=True),
    seed=st.integers(0, 1000),
)
def test_adding_records_never_moves_existing_ones(tmp_path_factory: pytest.TempPathFactory, old: list[int],
                                                   new: list[int], seed: int) -> None:  # fmt: skip
    tmp_path = tmp_path_factory.mktemp("grow")
    before = _split_files(tmp_path, "before", old, seed)
    after = _split_files(tmp_path, "after", old + new, seed)
    for split, members in before.items():
        assert members <= after[split]
    old_ids = {f"r{i}" for i in old}
    assert {i for members in after.values() for i in members if i in old_ids} == old_ids


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(indices=st.lists(st.integers(0, 10_000), max_size=80, unique=True), seed=st.integers(0, 1000))
def test_splits_are_disjoint_and_complete(tmp_path_factory: pytest.TempPathFactory, indices: list[int],
                                          seed: int) -> None:  # fmt: skip
    splits = _split_files(tmp_path_factory.mktemp("split"), "out", indices, seed)
    train, validation, test = splits["train"], splits["validation"], splits["test"]
    assert not (train & validation) and not (train & test) and not (validation & test)
    assert train | validation | test == {f"r{i}" for i in indices}


@given(st.lists(ids, min_size=1, max_size=50, unique=True), st.integers(0, 100))
def test_split_does_not_depend_on_order_or_company(record_ids: list[str], seed: int) -> None:
    forward = [assign_split(i, seed, 0.2, 0.1) for i in record_ids]
    backward = [assign_split(i, seed, 0.2, 0.1) for i in reversed(record_ids)]
    assert forward == backward[::-1]


def test_fractions_are_respected_on_large_samples() -> None:
    counts = {"train": 0, "validation": 0, "test": 0}
    for i in range(20_000):
        counts[assign_split(f"id-{i}", 7, 0.15, 0.05)] += 1
    assert abs(counts["validation"] / 20_000 - 0.15) < 0.01
    assert abs(counts["test"] / 20_000 - 0.05) < 0.01


def test_seed_changes_the_assignment() -> None:
    a = [assign_split(f"x{i}", 1) for i in range(200)]
    b = [assign_split(f"x{i}", 2) for i in range(200)]
    assert a != b


@pytest.mark.parametrize(("val", "test"), [(-0.1, 0.1), (1.0, 0.0), (0.5, 0.5), (0.0, 1.2)])
def test_bad_fractions_are_rejected(val: float, test: float) -> None:
    assert check_fractions(val, test)


def test_zero_fractions_put_everything_in_train() -> None:
    assert {assign_split(f"x{i}", 0, 0.0, 0.0) for i in range(100)} == {"train"}


def test_written_files_hold_the_assigned_split(tmp_path: Path) -> None:
    indices = list(range(40))
    splits = _split_files(tmp_path, "out", indices, seed=9)
    for split, members in splits.items():
        assert all(assign_split(member, 9) == split for member in members)
    assert json.loads((tmp_path / "out" / "report.json").read_text())["options"]["seed"] == 9


def _split_by_point(record_id: str, seed: int, val_fraction: float, test_fraction: float) -> str:
    """The rule as split_point states it: the float position against the fractions."""
    point = split_point(record_id, seed)
    if point < test_fraction:
        return "test"
    return "validation" if point < test_fraction + val_fraction else "train"


@given(st.lists(ids, max_size=40), st.integers(0, 2**32), fractions)
def test_block_splitter_gives_the_split_point_rule(
    record_ids: list[str], seed: int, fracs: tuple[float, float]
) -> None:
    expected = [_split_by_point(record_id, seed, *fracs) for record_id in record_ids]
    assert block_splitter(seed, *fracs)(record_ids) == expected


@pytest.mark.parametrize("fraction", [0.0, 5e-324, 1e-17, 0.1, 0.5, 0.9999999999999999])
def test_digest_bounds_sit_exactly_where_split_point_crosses_the_fraction(fraction: float) -> None:
    bound = int.from_bytes(_digest_bound(fraction)[:8], "big")
    assert not bound / 2.0**64 < fraction or len(_digest_bound(fraction)) == 9
    assert bound == 0 or (bound - 1) / 2.0**64 < fraction
