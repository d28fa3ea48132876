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
_FLUSH_BYTES = 1 << 18  # bytes buffered per split before one write and hash update


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
    """Streams records into the three split files: one buffer per split, hashed as it is written."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.handles: dict[str, IO[bytes]] = {
            split: open(directory / name, "wb", buffering=0)  # noqa: SIM115 - closed in close()
            for split, name in FILES.items()
        }
        self.hashes = {split: hashlib.sha256() for split in FILES}
        self.counts = dict.fromkeys(FILES, 0)
        self.buffers = {split: bytearray() for split in FILES}

    def write(self, split: str, line: bytes) -> None:
        """Add one line (without its LF) to ``split``."""
        buffer = self.buffers[split]
        buffer += line
        buffer += b"\n"
        self.counts[split] += 1
        if len(buffer) >= _FLUSH_BYTES:
            self._flush(split)

    def write_lines(self, split: str, lines: bytes, count: int) -> None:
        """Add ``count`` lines to ``split``, given as one string of LF-terminated lines (written as is,
        after what :meth:`write` buffered: no copy into the buffer)."""
        self._flush(split)
        self._write(split, lines)
        self.counts[split] += count

    def _flush(self, split: str) -> None:
        buffer = self.buffers[split]
        if buffer:
            self._write(split, buffer)
            buffer.clear()

    def _write(self, split: str, data: bytes | bytearray) -> None:
        self.hashes[split].update(data)
        with memoryview(data) as view:
            written = 0
            while written < len(view):  # a raw write may take only part of the data
                written += self.handles[split].write(view[written:]) or 0

    def close(self) -> None:
        try:
            for split in FILES:
                self._flush(split)
        finally:
            for handle in self.handles.values():
                handle.close()

    def file_digests(self) -> dict[str, str]:
        return {FILES[split]: digest.hexdigest() for split, digest in self.hashes.items()}
