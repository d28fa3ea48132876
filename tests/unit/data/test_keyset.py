"""KeySet behaves exactly like a set of signed 64-bit ints for add/contains, whatever the shards hold."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_rft_provider.data import keyset
from bedrock_rft_provider.data.keyset import KeySet

keys = st.integers(-(2**63), 2**63 - 1)


@given(
    st.lists(st.one_of(keys, st.sampled_from([0, 1, -1, 16, 32, -(2**63), 2**63 - 1])), max_size=300),
    st.integers(0, 4),
)
def test_add_reports_new_keys_like_a_set(values: list[int], shard_bits: int) -> None:
    compact, model = KeySet(shard_bits), set()
    for value in values:
        assert compact.add(value) == (value not in model)
        model.add(value)
    assert len(compact) == len(model)
    assert all(value in compact for value in model)
    assert all((value + 1 in compact) == (value + 1 in model) for value in model if value < 2**63 - 1)


def test_many_keys_in_one_shard_stay_exact() -> None:
    compact = KeySet(shard_bits=4)
    values = [i << 40 for i in range(800)]  # identical low bits: every key lands in shard 0
    assert all(compact.add(v) for v in reversed(values))
    assert not any(compact.add(v) for v in values)
    assert 12345 << 40 not in compact and len(compact) == 800


def test_splitting_into_more_shards_keeps_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyset, "_MAX_AVERAGE", 4)
    compact, model = KeySet(shard_bits=1), set()
    values = [hash(("k", i)) for i in range(3000)] + [-(2**63), 2**63 - 1, 0]
    for value in values:
        assert compact.add(value) == (value not in model)
        model.add(value)
    assert len(compact._shards) > 2  # it split (several times)
    assert all(v in compact for v in model) and not any(compact.add(v) for v in values)
    assert len(compact) == len(model)


@given(
    st.lists(st.lists(st.one_of(keys, st.integers(-3, 3)), max_size=40), max_size=30),
    st.integers(0, 3),
)
def test_add_all_inserts_a_block_whole_or_not_at_all(blocks: list[list[int]], shard_bits: int) -> None:
    compact, model = KeySet(shard_bits), set()
    for block in blocks:
        new = len(set(block)) == len(block) and model.isdisjoint(block)
        assert compact.add_all(block) == new
        if new:
            model.update(block)
        assert len(compact) == len(model)
        assert all(value in compact for value in model)
        assert not any(value in compact for value in block if value not in model)


def test_a_discarded_block_can_be_added_again() -> None:
    compact = KeySet(shard_bits=2)
    assert compact.add_all([5, 9, -4])
    compact.discard_all([9, -4])
    assert len(compact) == 1 and 5 in compact and 9 not in compact
    assert compact.add_all([9, -4]) and not compact.add_all([1, 5])
    assert 1 not in compact and len(compact) == 3
