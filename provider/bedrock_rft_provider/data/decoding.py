"""Bytes of one input line to a JSON value, strictly: the encoding a file's first bytes give away, the
msgspec fast path with its stdlib fallback, and the ``file:line`` message for a line neither reads; and
a CSV file's bytes to the text lines the csv module reads.

Split from ``data.sources`` (the readers); the JSONL and GSM8K readers decode every line through here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import IO, Any

import msgspec

from bedrock_rft_provider.data.problems import DatasetValidationError, Problem


def reject_constant(name: str) -> Any:
    """``parse_constant`` hook: NaN and Infinity are Python extensions, not JSON (RFC 8259)."""
    raise ValueError(f"{name} is not valid JSON (RFC 8259 has no NaN or Infinity)")


def finite_float(text: str) -> float:
    """``parse_float`` hook: a number too large for a double (``1e400``) would become inf, which the
    split files could only write as ``Infinity`` (not JSON, refused by validate-data and parsers)."""
    value = float(text)
    if value in (math.inf, -math.inf):
        raise ValueError(f"number {text[:40]} is too large (beyond a double's range: it would be Infinity)")
    return value


_decode = json.JSONDecoder(parse_constant=reject_constant, parse_float=finite_float).decode
fast_decoder = msgspec.json.Decoder()
_UNDECODED = object()
# What msgspec refuses (the line then takes the stdlib path): see :func:`fast_decode`.
FAST_DECODE_REFUSALS = (msgspec.MsgspecError, UnicodeDecodeError, RecursionError)


def fast_decode(raw: bytes) -> Any:
    """A JSON line decoded by msgspec (UTF-8 check and parse in one C pass, ~4x ``json.loads``), or
    ``_UNDECODED`` when msgspec refuses it. It refuses what the stdlib rejects (invalid UTF-8 or JSON,
    NaN, ``1e400``) and a few inputs the stdlib reads differently (lone surrogate escapes); those lines
    take the stdlib path, so every line decodes — or fails, with the same message — as before.
    """
    try:
        return fast_decoder.decode(raw)
    except FAST_DECODE_REFUSALS:
        return _UNDECODED


UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def wide_encoding(first_line: bytes) -> str | None:
    """``"UTF-16"`` / ``"UTF-32"`` when the file starts with that byte order mark, else None."""
    for bom, name in _WIDE_BOMS.items():
        if first_line.startswith(bom):
            return name
    return None


def stdlib_decode(raw: bytes) -> tuple[Any, str | None]:
    """``(value, None)``, or ``(None, problem)`` for a line msgspec refused."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"line is not valid UTF-8 (byte {exc.start + 1})"
    try:
        return _decode(text), None
    except RecursionError:
        return None, "JSON nested too deeply"
    except ValueError as exc:
        return None, _json_error(text, exc)


def _json_error(text: str, exc: ValueError) -> str:
    body = text.rstrip("\r\n")
    if "\r" in body and body.count("\r") >= 1 and "\n" not in body:
        return (
            "line holds CR (\\r) line breaks: the file uses CR-only line endings; JSON Lines needs LF or CRLF"
        )
    if not isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc}"
    return f"invalid JSON: {exc.msg} (column {exc.colno})"


_CR_LINES = re.compile(r".*?(?:\r\n|\r|\n)|.+", re.DOTALL)


def csv_text_lines(stream: IO[bytes], digest: Any, source: str) -> Iterator[str]:
    """A CSV file's text lines split the way the csv module expects (``newline=''``): LF, CRLF or CR-only.

    Every raw line also goes into ``digest`` (a hashlib object: the input's fingerprint). Raises
    DatasetValidationError naming ``source`` and the line for a UTF-16/32 file or a line that is not
    UTF-8: fatal, since a CSV record may span lines and skipping one is unsafe.
    """
    for line_no, raw in enumerate(stream, start=1):
        digest.update(raw)
        if line_no == 1 and (wide := wide_encoding(raw)):
            raise DatasetValidationError(
                [Problem(source, 1, f"file is {wide} encoded (byte order mark); expected UTF-8")]
            )
        try:
            text = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
        except UnicodeDecodeError:
            raise DatasetValidationError([Problem(source, line_no, "line is not valid UTF-8")]) from None
        if "\r" in text.rstrip("\r\n"):  # CR-only line endings: split like universal newlines
            yield from _CR_LINES.findall(text)
        else:
            yield text
