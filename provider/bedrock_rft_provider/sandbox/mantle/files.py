"""The Files API: ``purpose="fine-tune"`` JSONL uploads, checked record by record as Bedrock validates them.

UG ``rft-prepare-data-open-weight``: JSONL in OpenAI chat-completion format, ``messages`` (system, user,
assistant), ``reference_answer``, optional extra fields for the grader, purpose ``fine-tune``, 100 to
20,000 training examples. The per-record rules are the provider's own (``sandbox/dataset.py`` ->
``data.records.validate_record``), the same ones the native path's validation stage applies.

Guesses (undocumented): *when* Bedrock validates. Here an upload whose lines break the record rules is
refused with 400 at once (naming ``file:line``); the record-count minimum is a training-file property,
so it is checked when a job validates its files (a small file can be a validation file). File ids are
UUIDs, as in the AS notebook's ``files.delete`` example; only ``fine-tune`` is accepted as purpose.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from bedrock_rft_provider.sandbox.dataset import parse_dataset
from bedrock_rft_provider.sandbox.mantle.wire import bad_request, cursor_page, not_found

if TYPE_CHECKING:
    from werkzeug.datastructures import FileStorage

    from bedrock_rft_provider.sandbox.dataset import AnswerIndex

PURPOSE = "fine-tune"
SHOWN_PROBLEMS = 5
LIST_LIMIT = 10_000  # OpenAI's default and maximum page size for files


@dataclass
class FileRecord:
    id: str
    filename: str
    content: bytes = field(repr=False)
    created_at: int
    purpose: str = PURPOSE

    def render(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


class FileStore:
    """Uploaded files, thread-safe; their records feed the simulated model's answer index."""

    def __init__(self, answers: AnswerIndex) -> None:
        self.answers = answers
        self._files: dict[str, FileRecord] = {}
        self._lock = threading.Lock()

    def create(self, upload: FileStorage | None, purpose: str | None) -> dict[str, Any]:
        if upload is None:
            raise bad_request("Missing the multipart field 'file' (the JSONL file to upload).", param="file")
        if not purpose:
            raise bad_request("Missing the multipart field 'purpose'; use 'fine-tune'.", param="purpose")
        if purpose != PURPOSE:
            raise bad_request(
                f"Invalid purpose {purpose!r}: Amazon Bedrock fine-tuning files use purpose 'fine-tune'.",
                param="purpose",
            )
        filename = (upload.filename or "").rsplit("/", 1)[-1] or "upload.jsonl"
        if not filename.endswith(".jsonl"):
            raise bad_request(
                f"Invalid file {filename!r}: fine-tuning files must be JSONL ('.jsonl').", param="file"
            )
        content = upload.read()
        dataset = parse_dataset(filename, content, min_records=1)
        if dataset.problems:
            shown = "; ".join(dataset.problems[:SHOWN_PROBLEMS])
            more = (
                f" ({len(dataset.problems)} problems in total)"
                if len(dataset.problems) > SHOWN_PROBLEMS
                else ""
            )
            raise bad_request(f"Invalid file format: {shown}{more}", param="file", code="invalid_file_format")
        record = FileRecord(str(uuid.uuid4()), filename, content, int(time.time()))
        with self._lock:
            self._files[record.id] = record
        # The simulated model can answer a prompt right only when some dataset holds its answer.
        self.answers.add_records(f"mantle-file:{record.id}", record.id, dataset.records)
        return record.render()

    def get(self, file_id: str) -> FileRecord | None:
        with self._lock:
            return self._files.get(file_id)

    def find(self, file_id: str) -> FileRecord:
        record = self.get(file_id)
        if record is None:
            raise not_found(f"No such File object: {file_id}", param="file_id")
        return record

    def content(self, file_id: str) -> Response:
        record = self.find(file_id)
        return Response(record.content, headers={"Content-Type": "application/octet-stream"})

    def retrieve(self, file_id: str) -> dict[str, Any]:
        return self.find(file_id).render()

    def list_files(self, query: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            # Stable sort: uploads within one second keep their upload order (ids are random).
            files = sorted(self._files.values(), key=lambda f: f.created_at)
        if query.get("purpose"):
            files = [f for f in files if f.purpose == query["purpose"]]
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise bad_request(f"Invalid 'order': {order!r}; expected 'asc' or 'desc'.", param="order")
        if order == "desc":
            files.reverse()
        return cursor_page([f.render() for f in files], query, default_limit=LIST_LIMIT, max_limit=LIST_LIMIT)

    def delete(self, file_id: str) -> dict[str, Any]:
        record = self.find(file_id)
        with self._lock:
            self._files.pop(record.id, None)
        self.answers.add_records(f"mantle-file:{record.id}", record.id, [])
        return {"id": record.id, "object": "file", "deleted": True}
