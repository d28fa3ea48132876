"""Appending the runner's output lines from many worker threads: one writer thread, one write per batch.

Every ``os.write`` lets go of the interpreter lock, and with dozens of worker threads a release hands
the interpreter to another thread whose turn the writing worker then waits out; on a loaded machine
that thread may itself be descheduled while it holds the lock. Measured at concurrency 32
(``benchmarks/eval_breakdown.py``), a write per answer put a 1.3-7 ms p90 between a worker's answer
and its next request (0.2 ms with this writer). Here workers only queue their line (no system call,
no release) and one writer thread writes what has queued up, so the lock changes hands once per batch
instead of once per answer.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path

_END = b""  # queued by close(); every line ends with a newline, so none is empty


class LineAppender:
    """Whole lines appended to ``path`` (created if missing) by a writer thread, in batches.

    :param path: the file; opened ``O_APPEND`` so that every batch lands after what is there.
    :param batch_delay_s: how long the writer gathers lines after the first of a batch arrives (0.05 s):
        a killed process loses at most the answers of that window (a resume asks those prompts again).
        A batch is one ``os.write``, so a line is never cut short except by a full disk (resume drops a
        cut last line).

    :meth:`add` and :meth:`close` raise the ``OSError`` the writer met (disk full, I/O error).
    """

    def __init__(self, path: Path, *, batch_delay_s: float = 0.05) -> None:
        self.batch_delay_s = batch_delay_s
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lines: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._closing = threading.Event()
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._write_batches, name="answer-writer", daemon=True)
        self._thread.start()

    def add(self, line: bytes) -> None:
        """Queue one line (it must end with a newline and must not be empty)."""
        if self._error is not None:
            raise self._error
        self._lines.put(line)

    def close(self) -> None:
        """Write every queued line, stop the writer and close the file."""
        self._lines.put(_END)
        self._closing.set()
        self._thread.join()
        os.close(self._fd)
        if self._error is not None:
            raise self._error

    def _write_batches(self) -> None:
        while True:
            batch = [self._lines.get()]
            if batch[0]:
                self._closing.wait(self.batch_delay_s)  # gather more; close() cuts the wait short
            while batch[-1]:
                try:
                    batch.append(self._lines.get_nowait())
                except queue.Empty:
                    break
            data = b"".join(batch)
            try:
                while data:  # a regular file takes it in one write unless the disk is full
                    data = data[os.write(self._fd, data) :]
            except OSError as exc:
                self._error = exc
                return
            if not batch[-1]:
                return
