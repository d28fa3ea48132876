"""A compact set of 64-bit keys: sorted ``int64`` arrays in shards, about 8.5 bytes per key.

A plain ``set`` of ints costs ~90 bytes per key, and an open-addressing table 16-32 (half empty, and
briefly both tables while it grows): duplicate detection over hundreds of thousands of records should
grow memory by little more than the keys themselves. The low bits of a key pick a shard; each shard is
kept sorted, so a lookup is one C-level binary search and an insert one C-level move of a few hundred
bytes (a shard holds ``len / shards`` keys). Keys are hashes, so shards fill evenly.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

_SHARD_BITS = 12


class KeySet:
    """``add(key)`` returns True when the signed 64-bit ``key`` was not present."""

    __slots__ = ("_count", "_mask", "_shards")

    def __init__(self, shard_bits: int = _SHARD_BITS) -> None:
        self._count = 0
        self._mask = (1 << shard_bits) - 1
        self._shards = [array("q") for _ in range(1 << shard_bits)]  # empty arrays hold no buffer

    def __len__(self) -> int:
        return self._count

    def add(self, key: int) -> bool:
        """Insert ``key``; False when it was already there."""
        shard = self._shards[key & self._mask]
        index = bisect_left(shard, key)
        if index < len(shard) and shard[index] == key:
            return False
        shard.insert(index, key)
        self._count += 1
        return True

    def __contains__(self, key: int) -> bool:
        shard = self._shards[key & self._mask]
        index = bisect_left(shard, key)
        return index < len(shard) and shard[index] == key
