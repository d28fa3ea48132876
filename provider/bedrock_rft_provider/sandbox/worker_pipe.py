"""Reading a Lambda worker's reply line from its pipe, against the invocation's deadline and a size cap.

``readline`` on a pipe blocks until a newline: a handler that wrote half a line on the pipe would hold
the invocation (and the sandbox thread) past any timeout. Here every read is preceded by ``select``
with the time left, so a reply either completes before the deadline or the invocation times out.
"""

from __future__ import annotations

import os
import select
import time

TIMED_OUT = b"<timed out>"
TOO_LONG = b"<too long>"


def read_reply(fd: int, deadline: float, limit: int) -> bytes:
    """One reply line from the worker, read against ``deadline`` (monotonic) and ``limit`` bytes.

    Returns the line, ``b""`` at end of file, or the ``TIMED_OUT``/``TOO_LONG`` markers. A reply is
    read in chunks with ``select`` before every read, so a partial line never blocks past the deadline.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return TIMED_OUT
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return TIMED_OUT
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b""
        newline = chunk.find(b"\n")
        if newline >= 0:
            chunks.append(chunk[: newline + 1])
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return TOO_LONG
