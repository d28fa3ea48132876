"""Preview the RFT prompts Bedrock model invocation logs would yield, before any paid job.

Log objects (AWS user guide, "Monitor model invocation using CloudWatch Logs and Amazon S3") are
delivered under ``<prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/`` as
gzipped JSON; each record is ``{"schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
"timestamp", "accountId", "region", "requestId", "operation", "modelId", "input": {"inputContentType",
"inputBodyJson", "inputTokenCount"}, "output": {...}, "requestMetadata": {...}}``. Undocumented, so
read defensively: whether an object holds one record, JSON Lines or a JSON array (all accepted);
the body of each operation (Converse's ``messages``/``system`` with content blocks, and the
string-content chat bodies of InvokeModel are accepted); and how Bedrock turns a log into a training
record. Here a log becomes ``{"id": requestId, "messages": [...], "request_metadata": {...}}`` plus
``reference_answer`` when the request metadata carries one (so a verifiable grader can score it), and
the record rules of ``data.records`` apply. Logs are hostile input (they hold model output): they
are parsed as data only, every object and line is size-bounded, and nothing in them is executed.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_rft_provider.data.checks import RecordChecker
from bedrock_rft_provider.data.prepare import count_bound_problems
from bedrock_rft_provider.data.problems import Problem
from bedrock_rft_provider.data.records import MAX_TRAINING_RECORDS, MIN_TRAINING_RECORDS
from bedrock_rft_provider.data.sources import SourceItem
from bedrock_rft_provider.data.uris import MAX_RECORD_BYTES, parse_s3_uri
from bedrock_rft_provider.jobs.invocation_logs import InvocationLogSource

LOG_SUFFIXES = (".json.gz", ".json", ".jsonl", ".jsonl.gz", ".gz")
MAX_OBJECT_BYTES = 256 * 1024 * 1024  # decompressed, per object: a bound against gzip bombs
EXAMPLES = 5
ROLES = {"system", "user", "assistant"}

LogObject = tuple[str, Callable[[], bytes]]  # (s3 URI, read its bytes)


@dataclass
class LogPreview:
    """What the logs under a source would give: counts, problems (``uri:line: message``), examples."""

    source: str
    objects: int = 0
    logs: int = 0
    matched: int = 0
    prompts: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    warnings: list[str] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    prompt_length: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        """True when a job on these logs would get enough valid prompts and no invalid one."""
        return self.problem_count == 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (no records)."""
        return {
            "source": self.source,
            "ok": self.ok,
            "objects": self.objects,
            "logs": self.logs,
            "matched": self.matched,
            "prompts": self.prompts,
            "skipped": dict(self.skipped),
            "problems": [str(p) for p in self.problems],
            "problem_count": self.problem_count,
            "warnings": list(self.warnings),
            "examples": list(self.examples),
            "prompt_length": dict(self.prompt_length),
        }


def preview_invocation_logs(
    source: InvocationLogSource,
    objects: Iterable[LogObject],
    *,
    min_records: int | None = MIN_TRAINING_RECORDS,
    max_records: int | None = MAX_TRAINING_RECORDS,
    max_prompt_length: int | None = None,
    max_record_bytes: int | None = MAX_RECORD_BYTES,
    keep_records: bool = False,
) -> LogPreview:
    """Read every log object, keep the logs the filters select, turn each into an RFT prompt and check
    it with the record rules; never raises on bad logs (they are problems in the preview)."""
    preview = LogPreview(source.s3_uri)
    checker = RecordChecker(source.s3_uri, drop_duplicate_prompts=False)
    for uri, read in objects:
        preview.objects += 1
        checker.findings.source = uri  # problems name the object they come from
        for line, log, error in _logs_in(read, max_record_bytes):
            preview.logs += 1
            if error is not None:
                checker.check(SourceItem(line, error=error))
                continue
            skip = _skip_reason(log)
            if skip:
                preview.skipped[skip] = preview.skipped.get(skip, 0) + 1
                continue
            if not source.matches(log.get("requestMetadata")):
                continue
            preview.matched += 1
            record, why_not = log_record(log)
            kept = checker.check(SourceItem(line, record=record, error=why_not))
            if kept is None:
                continue
            preview.prompts += 1
            if keep_records:
                preview.records.append(kept)
            if len(preview.examples) < EXAMPLES:
                preview.examples.append(_example(kept))
    findings = checker.findings
    findings.source = source.s3_uri
    bounds = (
        []
        if findings.problem_count
        else count_bound_problems(
            source.s3_uri, preview.prompts, min_records, max_records, "invocation logs (after filters)"
        )
    )
    preview.problems = findings.problems + bounds
    preview.problem_count = findings.problem_count + len(bounds)
    preview.warnings = findings.warnings
    if findings.duplicate_count:
        preview.warnings.append(f"{findings.duplicate_count} logs repeat an earlier prompt")
    if source.use_prompt_response:
        preview.warnings.append(
            "use_prompt_response is set: how RFT uses logged responses is undocumented; "
            "this preview shows the prompts the policy will answer"
        )
    preview.prompt_length = checker.lengths.to_dict(max_prompt_length)
    return preview


def log_record(log: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The RFT record a log yields, or ``(None, why not)``."""
    body = (log.get("input") or {}).get("inputBodyJson") if isinstance(log.get("input"), Mapping) else None
    if isinstance(body, str):  # some producers log the body as a JSON string
        try:
            body = json.loads(body)
        except ValueError:
            return None, "input.inputBodyJson is a string that is not JSON"
    if not isinstance(body, Mapping):
        return None, "input.inputBodyJson is missing or not an object"
    messages: list[dict[str, str]] = []
    system = _text(body.get("system"))
    if system is not None and system[0] is None:
        return None, f"input.inputBodyJson.system: {system[1]}"
    if system and system[0]:
        messages.append({"role": "system", "content": system[0]})
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        return (
            None,
            "input.inputBodyJson.messages is missing or empty (only chat requests can become RFT prompts)",
        )
    for i, message in enumerate(raw):
        role = message.get("role") if isinstance(message, Mapping) else None
        if role not in ROLES:
            return (
                None,
                f"input.inputBodyJson.messages[{i}].role is {role!r}; expected user, assistant or system",
            )
        text, why = _text(message.get("content")) or (None, "has no content")
        if text is None:
            return None, f"input.inputBodyJson.messages[{i}].content {why}"
        messages.append({"role": str(role), "content": text})
    record: dict[str, Any] = {"messages": messages}
    request_id = log.get("requestId")
    if isinstance(request_id, str) and request_id:
        record = {"id": request_id, **record}
    metadata = log.get("requestMetadata")
    if isinstance(metadata, Mapping) and metadata:
        record["request_metadata"] = {str(k): str(v) for k, v in metadata.items()}
        if "reference_answer" in metadata:
            record["reference_answer"] = str(metadata["reference_answer"])
    return record, None


def s3_log_objects(s3_client: Any, uri: str) -> Iterator[LogObject]:
    """``(uri, read)`` of every log object under the ``s3://`` prefix ``uri``, in key order."""
    bucket, prefix = parse_s3_uri(uri)
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents") or []:
            key = item["Key"]
            if key.endswith(LOG_SUFFIXES):
                yield f"s3://{bucket}/{key}", _reader(s3_client, bucket, key)


def _reader(s3_client: Any, bucket: str, key: str) -> Callable[[], bytes]:
    def read() -> bytes:
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
        data = bytes(body.read(MAX_OBJECT_BYTES + 1))
        return data

    return read


def _logs_in(
    read: Callable[[], bytes], max_record_bytes: int | None
) -> Iterator[tuple[int | None, dict[str, Any], str | None]]:
    """``(line, log, error)`` for each record of one object (gzipped or not)."""
    try:
        data = _decompressed(read())
    except ValueError as exc:
        yield None, {}, str(exc)
        return
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except ValueError as exc:
            yield 1, {}, f"not valid JSON: {exc}"
            return
        for i, item in enumerate(items if isinstance(items, list) else [items], start=1):
            yield (i, item, None) if isinstance(item, dict) else (i, {}, "a log is not a JSON object")
        return
    lines = text.splitlines()
    parsed = [(n, _json_object(raw, max_record_bytes)) for n, raw in enumerate(lines, start=1) if raw.strip()]
    if parsed and all(error for _, (_, error) in parsed):  # one pretty-printed record?
        whole = _json_object(text, None)
        if whole[1] is None:
            yield 1, whole[0], None
            return
    for n, (log, error) in parsed:
        yield n, log, error


def _decompressed(data: bytes) -> bytes:
    if len(data) > MAX_OBJECT_BYTES:
        raise ValueError(f"object is over {MAX_OBJECT_BYTES} bytes; not read")
    if data[:2] != b"\x1f\x8b":
        return data
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, MAX_OBJECT_BYTES + 1)
    except zlib.error as exc:
        raise ValueError(f"not a readable gzip object ({exc})") from exc
    if len(out) > MAX_OBJECT_BYTES or inflater.unconsumed_tail:
        raise ValueError(f"object decompresses to over {MAX_OBJECT_BYTES} bytes; not read")
    return out


def _json_object(raw: str, limit: int | None) -> tuple[dict[str, Any], str | None]:
    if limit is not None and len(raw) > limit:
        return {}, f"log is {len(raw)} characters; at most {limit} are read (max_record_bytes)"
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return {}, f"not valid JSON: {str(exc)[:120]}"
    return (value, None) if isinstance(value, dict) else ({}, "a log is not a JSON object")


def _skip_reason(log: Mapping[str, Any]) -> str | None:
    """Why a readable log is not a prompt at all (counted, not a problem), or None."""
    schema = log.get("schemaType")
    if schema is not None and schema != "ModelInvocationLog":
        return f"schemaType {str(schema)[:40]}"
    given = log.get("input")
    if isinstance(given, Mapping) and "inputBodyJson" not in given and "inputBodyS3Path" in given:
        return "body delivered as a separate large-data object (not read)"
    return None


def _text(content: Any) -> tuple[str | None, str] | None:
    """Plain text of a string or a list of text blocks; ``(None, why)`` for other content; None if absent."""
    if content is None:
        return None
    if isinstance(content, str):
        return content, ""
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, Mapping) and isinstance(block.get("text"), str):
                parts.append(block["text"])
            else:
                kinds = (
                    sorted(str(k) for k in block) if isinstance(block, Mapping) else [type(block).__name__]
                )
                return None, f"holds a non-text block ({', '.join(kinds)[:60]}); RFT prompts are text"
        return "\n".join(parts), ""
    return None, f"is {type(content).__name__}; expected text or text blocks"


def _example(record: Mapping[str, Any], limit: int = 200) -> dict[str, Any]:
    last = str(record["messages"][-1]["content"])
    return {
        "id": record.get("id"),
        "prompt": last if len(last) <= limit else last[: limit - 3] + "...",
        "turns": len(record["messages"]),
        "reference_answer": record.get("reference_answer"),
    }
