"""Deterministic train / validation / test assignment by a seeded hash of the record id.

A record's split depends only on ``(seed, id, fractions)``, never on the other records, so the same
record always lands in the same split and adding records never moves existing ones.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable

SPLITS = ("train", "validation", "test")
_SCALE = float(1 << 64)


def check_fractions(val_fraction: float, test_fraction: float) -> list[str]:
    """Problems with the split fractions (empty when valid)."""
    problems = [
        f"{name} = {value} is outside [0, 1)"
        for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction))
        if not 0.0 <= value < 1.0
    ]
    if not problems and val_fraction + test_fraction >= 1.0:
        problems.append(
            f"val_fraction + test_fraction = {val_fraction + test_fraction:g}; "
            "must be below 1 to leave training data"
        )
    return problems


def split_point(record_id: str, seed: int = 0) -> float:
    """The record's fixed position in [0, 1) for ``seed``: blake2b-64 of the id, salted by the seed."""
    hasher = _seeded(seed).copy()  # copying the salted state is cheaper than a new salted hasher
    hasher.update(record_id.encode())
    return int.from_bytes(hasher.digest(), "big") / _SCALE


@functools.lru_cache(maxsize=64)
def _seeded(seed: int) -> hashlib.blake2b:
    salt = hashlib.blake2b(str(seed).encode(), digest_size=16).digest()
    return hashlib.blake2b(digest_size=8, salt=salt)


def splitter(seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.1) -> Callable[[str], str]:
    """``assign_split`` with its arguments bound: record id -> ``"test"``, ``"validation"`` or ``"train"``."""
    split_many = block_splitter(seed, val_fraction, test_fraction)
    return lambda record_id: split_many((record_id,))[0]


def block_splitter(
    seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.1
) -> Callable[[Iterable[str]], list[str]]:
    """:func:`splitter` for many ids in one call: ids -> their splits, in order.

    :func:`split_point` compares ``digest / 2**64`` (a float) with the fractions; here each fraction is
    turned once into the 8-byte digest it starts at, so a record's split is two byte-string comparisons
    of its blake2b-64 digest (no int or float per record): the same splits, exactly.
    """
    seeded, names = _seeded(seed), _BY_BOUNDS_BELOW
    test_below, validation_below = _digest_bound(test_fraction), _digest_bound(test_fraction + val_fraction)

    def split_many(record_ids: Iterable[str]) -> list[str]:
        splits: list[str] = []
        append, copy = splits.append, seeded.copy
        for data in map(str.encode, record_ids):
            hasher = copy()  # copying the salted state is cheaper than a new salted hasher
            hasher.update(data)
            digest = hasher.digest()
            append(names[(test_below > digest) + (validation_below > digest)])
        return splits

    return split_many


_BY_BOUNDS_BELOW = ("train", "validation", "test")  # how many of the two bounds a digest is below


def _digest_bound(fraction: float) -> bytes:
    """The 8 bytes ``b`` such that a digest ``d`` has ``split_point < fraction`` exactly when ``d < b``.

    ``split_point`` is monotonic in the digest, so the digests below ``fraction`` are those under the
    smallest one at or above it (a binary search over the 2**64 digests, with split_point's own
    arithmetic); when every digest is below, a 9-byte string above them all.
    """
    low, high = 0, 1 << 64  # the answer lies in [low, high]
    while low < high:
        middle = (low + high) // 2
        if middle / _SCALE < fraction:
            low = middle + 1
        else:
            high = middle
    return low.to_bytes(8, "big") if low < 1 << 64 else b"\xff" * 8 + b"\x00"


def assign_split(record_id: str, seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    """``"test"``, ``"validation"`` or ``"train"`` for ``record_id``."""
    return splitter(seed, val_fraction, test_fraction)(record_id)
