"""Deterministic train / validation / test assignment by a seeded hash of the record id.

A record's split depends only on ``(seed, id, fractions)``, never on the other records, so the same
record always lands in the same split and adding records never moves existing ones.
"""

from __future__ import annotations

import functools
import hashlib

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
    """The record's fixed position in [0, 1) for ``seed``."""
    digest = hashlib.blake2b(record_id.encode(), digest_size=8, salt=_salt(seed)).digest()
    return int.from_bytes(digest, "big") / _SCALE


@functools.lru_cache(maxsize=64)
def _salt(seed: int) -> bytes:
    return hashlib.blake2b(str(seed).encode(), digest_size=16).digest()


def assign_split(record_id: str, seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    """``"test"``, ``"validation"`` or ``"train"`` for ``record_id``."""
    point = split_point(record_id, seed)
    if point < test_fraction:
        return "test"
    if point < test_fraction + val_fraction:
        return "validation"
    return "train"
