"""``prepare``'s fast path for GSM8K: whole blocks of plain, valid records, a few C calls per block.

The per-record path (decode, convert, check, encode, split, write: a dozen Python calls per record)
stays the one that explains problems. This path takes a block of raw lines (128 KiB of input, as
read) only when every line is a plain record and nothing in the block needs explaining: it decodes
the block in one msgspec call (no object per raw line), converts it with
:func:`gsm8k.convert_block`, counts it in with :meth:`RecordChecker.accept_block` (no repeated
prompt or id) and writes it per split. Any other block
(a bad line, a duplicate, an oversized record, the ``max_records`` bound crossed) goes to the
per-record path whole, with no state changed, so the output and every message are the same either way
(tests compare both paths, and both with digests of the per-record implementation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import compress

import msgspec

from bedrock_rft_provider.data import gsm8k
from bedrock_rft_provider.data.checks import RecordChecker
from bedrock_rft_provider.data.sources import SourceItem, SourceReader
from bedrock_rft_provider.data.split import SPLITS
from bedrock_rft_provider.data.splitfiles import SplitWriter

#: False sends every block through the per-record path (tests compare the two).
ENABLED = True
CHUNK_BYTES = 128 << 10  # input per block (~220 GSM8K lines): its working set stays in CPU caches
_encode_lines = msgspec.json.Encoder().encode_lines  # a line and LF per item


@dataclass
class BlockPath:
    """Where taken blocks go (the run's checker and writer) and the bounds that send a block back."""

    checker: RecordChecker
    writer: SplitWriter
    split_many: Callable[[list[str]], list[str]]
    max_bytes: int | None
    max_train: int | None

    def gsm8k_items(
        self, reader: SourceReader, progress: Callable[[int], None] | None, every: int
    ) -> Iterator[SourceItem]:
        """``reader.items()`` for a GSM8K source, minus the blocks this path took (checked, written
        and reported to ``progress`` here); the caller runs the items it gets per record."""
        for first, run in reader.line_runs(CHUNK_BYTES):
            before = self.checker.read
            if ENABLED and isinstance(run, bytes) and self.take(run):
                if progress is not None:  # the calls one per record would give: every ``every``
                    for read in range((before // every + 1) * every, self.checker.read + 1, every):
                        progress(read)
            else:
                lines = run.split(b"\n") if isinstance(run, bytes) else run
                yield from reader.block_items(first, lines, gsm8k.to_rft_record)

    def take(self, run: bytes) -> bool:
        """Check, encode and write the block (LF-separated raw lines); False (nothing changed) when it
        needs the per-record path."""
        block = gsm8k.convert_block(run)
        if block is None:
            return False
        splits = self.split_many(block.ids)
        max_train = self.max_train
        if max_train is not None and self.writer.counts["train"] + splits.count("train") > max_train:
            return False
        parts = []  # per split: its records as LF-terminated ASCII lines, and how many
        for split in SPLITS:
            records = list(compress(block.records, map(split.__eq__, splits)))
            encoded = _encode_lines(records)
            if (
                self.max_bytes is not None
                and len(encoded) > self.max_bytes  # else no line in it can be too long
                and max(map(len, encoded.split(b"\n"))) >= self.max_bytes  # +1 for the LF
            ):
                return False
            parts.append((split, encoded, len(records)))
        if not self.checker.accept_block(block.ids, block.prompts):
            return False
        for split, encoded, count in parts:
            self.writer.write_lines(split, encoded, count)
        return True
