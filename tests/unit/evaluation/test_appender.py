"""The runner's output appender: whole lines from many threads, written in batches by one thread."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from bedrock_rft_provider.evaluation.appender import LineAppender

# Safety net only: the wait below ends as soon as the line is in the file.
WAIT_S = 30.0


def test_lines_from_many_threads_land_whole_after_what_was_there(tmp_path: Path) -> None:
    out = tmp_path / "answers.jsonl"
    out.write_bytes(b'{"id": "earlier"}\n')
    appender = LineAppender(out, batch_delay_s=0.001)

    def worker(n: int) -> None:
        for i in range(200):
            appender.add((json.dumps({"id": f"t{n}-{i}", "text": "x" * (i % 50)}) + "\n").encode())

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    appender.close()
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids[0] == "earlier"
    assert sorted(ids[1:]) == sorted(f"t{n}-{i}" for n in range(8) for i in range(200))


def test_a_line_reaches_the_file_without_waiting_for_close(tmp_path: Path) -> None:
    out = tmp_path / "answers.jsonl"
    appender = LineAppender(out, batch_delay_s=0.01)
    try:
        appender.add(b'{"id": "p1"}\n')
        deadline = time.monotonic() + WAIT_S
        while out.read_bytes() != b'{"id": "p1"}\n' and time.monotonic() < deadline:
            time.sleep(0.005)
        assert out.read_bytes() == b'{"id": "p1"}\n'
    finally:
        appender.close()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a device that is always full)")
def test_a_full_disk_is_raised_to_the_caller() -> None:
    appender = LineAppender(Path("/dev/full"), batch_delay_s=0.0)
    appender.add(b'{"id": "p1"}\n')
    with pytest.raises(OSError, match="No space left"):
        appender.close()
    with pytest.raises(OSError, match="No space left"):
        appender.add(b'{"id": "p2"}\n')  # the writer stopped: workers stop at their next answer
