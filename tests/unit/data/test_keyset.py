"""KeySet behaves exactly like a set of 64-bit ints for add/contains, across table growth."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bedrock_rft_provider.data.keyset import KeySet

keys = st.integers(-(2**63), 2**63 - 1)


@given(st.lists(st.one_of(keys, st.sampled_from([0, 1, -1, 16, 32, 2**63 - 1])), max_size=300))
def test_add_reports_new_keys_like_a_set(values: list[int]) -> None:
    compact, model = KeySet(capacity=16), set()
    for value in values:
        normalized = 1 if value == 0 else value  # 0 marks an empty slot and is stored as 1
        assert compact.add(value) == (normalized not in model)
        model.add(normalized)
    assert len(compact) == len(model)
    assert all(value in compact for value in model)


def test_many_colliding_low_bits_survive_growth() -> None:
    compact = KeySet(capacity=16)
    values = [i << 40 for i in range(800)]  # identical low bits: long probe chains across growth
    assert all(compact.add(v) for v in values)
    assert not any(compact.add(v) for v in values)
    assert 12345 << 40 not in compact and len(compact) == 800
