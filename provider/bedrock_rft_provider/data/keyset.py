"""A compact set of 64-bit keys: sorted ``int64`` arrays in shards, about 8.5 bytes per key.

A plain ``set`` of ints costs ~90 bytes per key, and an open-addressing table 16-32 (half empty, and
briefly both tables while it grows): duplicate detection over hundreds of thousands of records should
grow memory by little more than the keys themselves (issue 17: peak RSS +<= 3 MiB from 50,000 to
200,000 records, two keys per record). The low bits of a key pick a shard; each shard is kept sorted,
so a lookup is one C-level binary search and an insert one C-level move of a few KiB. Keys are hashes,
so shards fill evenly; when they average ``_MAX_AVERAGE`` keys the shard count quadruples, one old
shard at a time (so the extra memory while splitting is one shard's).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

_SHARD_BITS = 8  # few, larger shards: fewer allocator size classes left half used as they grow
_MAX_AVERAGE = 2048  # keys per shard (16 KiB) before splitting: keeps the insert's move short


class KeySet:
    """``add(key)`` returns True when the signed 64-bit ``key`` was not present."""

    __slots__ = ("_count", "_limit", "_mask", "_shards")

    def __init__(self, shard_bits: int = _SHARD_BITS) -> None:
        self._count = 0
        self._shards = [array("q") for _ in range(1 << shard_bits)]  # empty arrays hold no buffer
        self._mask = len(self._shards) - 1
        self._limit = len(self._shards) * _MAX_AVERAGE

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
        if self._count > self._limit:
            self._split()
        return True

    def add_all(self, keys: list[int]) -> bool:
        """Insert every key, or none: False (nothing inserted) when one is present or repeats in ``keys``.

        One call per block of records (``prepare``'s block path, which takes a block only when none of
        its keys repeats; otherwise the block goes through the per-record path).
        """
        shards, mask = self._shards, self._mask
        added = 0
        for key in keys:
            shard = shards[key & mask]
            index = bisect_left(shard, key)
            if index < len(shard) and shard[index] == key:
                self._count += added
                self.discard_all(keys[:added])  # roll back what this call inserted
                return False
            shard.insert(index, key)
            added += 1
        self._count += added
        if self._count > self._limit:
            self._split()
        return True

    def discard_all(self, keys: list[int]) -> None:
        """Remove ``keys``, each of which must be present (undoes an :meth:`add_all`)."""
        shards, mask = self._shards, self._mask
        for key in keys:
            shard = shards[key & mask]
            del shard[bisect_left(shard, key)]
        self._count -= len(keys)

    def __contains__(self, key: int) -> bool:
        shard = self._shards[key & self._mask]
        index = bisect_left(shard, key)
        return index < len(shard) and shard[index] == key

    def _split(self) -> None:
        old = self._shards
        shards = [array("q") for _ in range(4 * len(old))]
        mask = len(shards) - 1
        for number, keys in enumerate(old):
            for key in keys:  # in sorted order, so every new shard stays sorted
                shards[key & mask].append(key)
            old[number] = array("q")  # free it before splitting the next one
        self._shards, self._mask, self._limit = shards, mask, len(shards) * _MAX_AVERAGE
