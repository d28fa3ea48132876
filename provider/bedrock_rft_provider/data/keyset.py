"""A compact set of 64-bit keys (an open-addressing table in one int64 array: 16-32 bytes per key).

A plain ``set`` of ints costs ~90 bytes per key; duplicate detection over millions of records
should not cost hundreds of megabytes.
"""

from __future__ import annotations

from array import array

_EMPTY = 0


class KeySet:
    """``add(key)`` returns True when the signed 64-bit ``key`` was not present (0 is stored as 1)."""

    __slots__ = ("_count", "_limit", "_mask", "_table")

    def __init__(self, capacity: int = 1 << 12) -> None:
        self._count = 0
        self._allocate(max(16, 1 << (capacity - 1).bit_length()))

    def __len__(self) -> int:
        return self._count

    def _allocate(self, size: int) -> None:
        self._table = array("q", bytes(8 * size))
        self._mask = size - 1
        self._limit = size // 2

    def add(self, key: int) -> bool:
        """Insert ``key``; False when it was already there."""
        if key == _EMPTY:
            key = 1
        table, mask = self._table, self._mask
        slot = key & mask
        while True:
            current = table[slot]
            if current == _EMPTY:
                table[slot] = key
                self._count += 1
                if self._count > self._limit:
                    self._grow()
                return True
            if current == key:
                return False
            slot = (slot + 1) & mask

    def __contains__(self, key: int) -> bool:
        if key == _EMPTY:
            key = 1
        table, mask = self._table, self._mask
        slot = key & mask
        while True:
            current = table[slot]
            if current == _EMPTY:
                return False
            if current == key:
                return True
            slot = (slot + 1) & mask

    def _grow(self) -> None:
        old = self._table
        self._allocate(2 * len(old))
        table, mask = self._table, self._mask
        for key in old:
            if key != _EMPTY:
                slot = key & mask
                while table[slot] != _EMPTY:
                    slot = (slot + 1) & mask
                table[slot] = key
