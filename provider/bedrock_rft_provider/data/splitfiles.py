"""The split files ``prepare`` writes: records as compact ASCII JSON lines, hashed as written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import IO, Any

import msgspec

FILES = {"train": "train.jsonl", "validation": "validation.jsonl", "test": "test.jsonl"}
_encode = json.JSONEncoder(separators=(",", ":")).encode
_fast_encode = msgspec.json.Encoder().encode
_BLOCK_LINES = 1024  # lines joined per write and hash update: fewer calls per record


def encode_line(record: dict[str, Any], strict_json: bool = False) -> bytes:
    """The record as one compact JSON line without its LF, ASCII only (no U+2028 surprises for splitters).

    ``strict_json`` records (decoded by msgspec: finite numbers, valid Unicode) go through msgspec's
    encoder (~10x the stdlib's speed); a line with non-ASCII text, and every other record, through the
    stdlib's (``\\uXXXX`` escapes; non-finite floats as the stdlib writes them). Either way the same
    record always gives the same line.
    """
    if strict_json:
        line = _fast_encode(record)
        if line.isascii():
            return line
    return _encode(record).encode("ascii")


class SplitWriter:
    """Streams records into the three split files, hashing as it writes (in blocks of lines)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.handles: dict[str, IO[bytes]] = {
            split: open(directory / name, "wb", buffering=0)  # noqa: SIM115 - closed in close()
            for split, name in FILES.items()
        }
        self.hashes = {split: hashlib.sha256() for split in FILES}
        self.counts = dict.fromkeys(FILES, 0)
        self.pending: dict[str, list[bytes]] = {split: [] for split in FILES}

    def write(self, split: str, line: bytes) -> None:
        """Add one line (without its LF) to ``split``."""
        pending = self.pending[split]
        pending.append(line)
        self.counts[split] += 1
        if len(pending) >= _BLOCK_LINES:
            self._flush(split)

    def write_block(self, split: str, lines: list[bytes]) -> None:
        """Add many lines (each without its LF) to ``split``."""
        pending = self.pending[split]
        pending.extend(lines)
        self.counts[split] += len(lines)
        if len(pending) >= _BLOCK_LINES:
            self._flush(split)

    def _flush(self, split: str) -> None:
        pending = self.pending[split]
        if pending:
            block = b"\n".join(pending)
            pending.clear()
            for part in (block, b"\n"):
                self.handles[split].write(part)
                self.hashes[split].update(part)

    def close(self) -> None:
        try:
            for split in FILES:
                self._flush(split)
        finally:
            for handle in self.handles.values():
                handle.close()

    def file_digests(self) -> dict[str, str]:
        return {FILES[split]: digest.hexdigest() for split, digest in self.hashes.items()}
