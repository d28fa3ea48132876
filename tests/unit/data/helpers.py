"""Helpers for the dataset tests: valid records, JSONL writers, the fixtures folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "data"


def rft_record(index: int, **fields: Any) -> dict[str, Any]:
    """A valid RFT record with a distinct prompt and id."""
    record: dict[str, Any] = {
        "id": f"r{index}",
        "messages": [{"role": "user", "content": f"What is {index} + {index}?"}],
        "reference_answer": str(2 * index),
    }
    record.update(fields)
    return record


def write_jsonl(path: Path, records: list[Any]) -> Path:
    """Write ``records`` (objects are JSON-encoded, str/bytes written raw) one per line."""
    with open(path, "wb") as handle:
        for record in records:
            if isinstance(record, bytes):
                handle.write(record + b"\n")
            elif isinstance(record, str):
                handle.write(record.encode() + b"\n")
            else:
                handle.write(json.dumps(record).encode() + b"\n")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Parse a JSONL file."""
    return [json.loads(line) for line in Path(path).read_text().split("\n") if line]
