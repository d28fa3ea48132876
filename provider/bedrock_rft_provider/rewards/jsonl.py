"""JSON Lines with ``file:line`` errors: the one reader of the package's JSONL inputs.

It lives in ``rewards/`` because that is the layer every other one may import and it may import no
other (stdlib only; it ships inside the Lambda zip, DESIGN rule 2). Dataset preparation keeps its own
msgspec-decoded streaming reader (``data/sources.py``), tuned for speed and measured in ``benchmarks/``.

The rules: lines end at ``\\n`` only (a JSON string may hold U+2028 or a lone CR, and a CR-only file is
one line that is not JSON); blank lines are skipped; a UTF-8 byte order mark may open the first line;
``NaN`` and ``Infinity`` are rejected, because RFC 8259 JSON has neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any


class JsonLineError(ValueError):
    """A line that is not UTF-8 JSON; ``str()`` is ``source:line: message``."""

    def __init__(self, source: str, line: int, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        super().__init__(f"{source}:{line}: {message}")

    @property
    def where(self) -> str:
        """``source:line``."""
        return f"{self.source}:{self.line}"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (RFC 8259 has no NaN or Infinity)")


def _decode(raw: bytes | str, number: int, source: str) -> Any:
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise JsonLineError(source, number, f"not valid UTF-8 (byte {exc.start + 1})") from None
    else:
        text = raw.removeprefix("\ufeff") if number == 1 else raw
    if not text.strip():
        return _BLANK
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise JsonLineError(source, number, "JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise JsonLineError(source, number, f"not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # NaN / Infinity
        raise JsonLineError(source, number, str(exc)) from None


_BLANK = object()


def json_lines(
    lines: bytes | str | Iterable[bytes | str],
    source: str,
    *,
    on_error: Callable[[JsonLineError], None] | None = None,
) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` of each non-blank line, numbered from 1.

    :param lines: the whole content (bytes or text, split at ``\\n``) or an iterable of lines, such as
        a file opened in binary mode.
    :param source: the file name or URI the errors name.
    :param on_error: called with each bad line's error, which is then skipped; without it the first
        bad line raises :class:`JsonLineError` (a ``ValueError``).
    """
    split: Iterable[bytes | str]
    if isinstance(lines, bytes):
        split = lines.split(b"\n")
    elif isinstance(lines, str):
        split = lines.split("\n")
    else:
        split = lines
    for number, raw in enumerate(split, start=1):
        try:
            value = _decode(raw, number, source)
        except JsonLineError as exc:
            if on_error is None:
                raise
            on_error(exc)
            continue
        if value is not _BLANK:
            yield number, value


def read_json_lines(path: str | Path) -> Iterator[tuple[int, Any]]:
    """:func:`json_lines` of a file, streamed; errors name ``path:line``; OSError when unreadable."""
    with Path(path).open("rb") as handle:
        yield from json_lines(handle, str(path))
