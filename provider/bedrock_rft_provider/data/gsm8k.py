"""GSM8K raw records (``question`` / ``answer`` ending in ``#### N``) converted to RFT records."""

from __future__ import annotations

import functools
import operator
import re
from itertools import compress, count, repeat
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple

import msgspec

from bedrock_rft_provider.data.records import content_id

#: Appended to every GSM8K question. Graders (``rewards.builtin.math_answer``) read the number after the
#: last ``####``; asking for exactly that line keeps answer extraction unambiguous.
INSTRUCTION = (
    "\n\nSolve the problem step by step. "
    "On the last line, write only the final answer as a number in the form: #### <number>"
)

_CALCULATOR_NOTE = re.compile(r"<<[^<>]*>>")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_RESERVED = {"question", "answer", "id", "messages", "reference_answer"}


def strip_calculator_notes(text: str) -> str:
    """Remove GSM8K calculator annotations such as ``<<48/2=24>>``."""
    return _CALCULATOR_NOTE.sub("", text) if "<<" in text else text


def split_answer(answer: str) -> tuple[str, str]:
    """Split a GSM8K answer into ``(steps, final_answer)``; raises ValueError when malformed."""
    steps, marker, final = answer.rpartition("####")
    if not marker:
        raise ValueError('answer has no "#### <number>" final line')
    final = final.strip()
    if "," in final:
        final = final.replace(",", "")
    if final.startswith("$"):
        final = final[1:]
    if not final.isdecimal() and not _NUMBER.match(final):  # isdecimal: exactly \\d+, the usual case
        raise ValueError(f'answer ends with "#### {final[:40]}"; expected a number after ####')
    return steps.strip(), final


def to_rft_record(raw: Any, id_prefix: str = "gsm8k") -> dict[str, Any]:
    """Convert one GSM8K raw record to an RFT record; raises ValueError naming the bad field.

    The id is the raw ``id`` when present, else a content hash of the question (stable across runs).
    Other raw fields are kept at the top level, where Bedrock passes them to the grader.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"record is {type(raw).__name__}; expected a JSON object with question and answer")
    question = raw.get("question")
    answer = raw.get("answer")
    if not isinstance(question, str) or not (question := question.strip()):
        raise ValueError("question is missing or empty; expected a non-empty string")
    if not isinstance(answer, str) or not answer or answer.isspace():
        raise ValueError("answer is missing or empty; expected the worked solution ending in #### <number>")
    steps, final = split_answer(answer)
    raw_id = raw.get("id")
    if type(raw_id) is not str:
        raw_id = str(raw_id) if raw_id is not None else ""
    record: dict[str, Any] = {
        "id": raw_id or content_id(question, id_prefix),
        "messages": [{"role": "user", "content": question + INSTRUCTION}],
        "reference_answer": {"final_answer": final, "steps": strip_calculator_notes(steps)},
    }
    if len(raw) > 2 + ("id" in raw):
        for key, value in raw.items():
            if key not in _RESERVED:
                record[key] = value
    return record


class _PlainRaw(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A raw record :func:`convert_block` takes: ``question``, ``answer`` and an optional string ``id``."""

    question: str
    answer: str
    id: str | None = None


#: A string field: the text, or (records with non-ASCII text) the stdlib's ASCII JSON literal of it.
Text = str | msgspec.Raw


class _Message(msgspec.Struct, gc=False):
    role: str
    content: Text


class _Reference(msgspec.Struct, gc=False):
    final_answer: Text
    steps: Text


class RecordStruct(msgspec.Struct, gc=False):
    """:func:`to_rft_record`'s record as a struct: msgspec encodes it to the line
    :func:`~bedrock_rft_provider.data.splitfiles.encode_line` writes for the dict (fields in the same
    order; a record with non-ASCII text holds its strings pre-encoded, see :func:`_escaped_record`).
    Not tracked by the cyclic GC."""

    id: Text
    messages: tuple[_Message]
    reference_answer: _Reference


_decode_block = msgspec.json.Decoder(list[_PlainRaw]).decode
_strip_notes = functools.partial(_CALCULATOR_NOTE.sub, "")  # "<<" absent: the same string back


class Block(NamedTuple):
    """A converted block: the RFT records, and their ids and prompt texts, in line order."""

    records: list[RecordStruct]
    ids: list[str]
    prompts: list[str]


def convert_block(run: bytes, id_prefix: str = "gsm8k") -> Block | None:
    """:func:`to_rft_record` over a block of raw JSON lines (``run``: LF-separated, no final LF, as
    :func:`~bedrock_rft_provider.data.uris.iter_line_runs` gives them), or None unless every line is a plain,
    valid record: an object with string ``question`` and ``answer``, an optional string ``id`` (not
    blank) and no other field, in strict JSON (msgspec's rules, as :mod:`.sources`).

    The caller then takes the per-line path, which explains each problem at its line. For the lines
    this takes, the records equal :func:`to_rft_record`'s (a test compares the two). Each step runs
    over the whole block in C (``map``), not per record in Python: the same rules, column by column.
    """
    try:  # one C pass over the block; a line holding two values, or none, fails or changes the count
        raws = _decode_block(b"".join((b"[", run.replace(b"\n", b","), b"]")))  # one copy, not two
    except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError):
        return None
    if len(raws) != run.count(b"\n") + 1:
        return None
    questions = list(map(str.strip, map(_get_question, raws)))
    steps, markers, ends = zip(*map(_split_at_marker, map(_get_answer, raws)), strict=True)
    if not all(questions) or not all(markers):
        return None
    finals = list(map(str.strip, ends))
    marks = "".join(finals)  # usually neither "," nor "$": then the two steps would change nothing
    if "," in marks:
        finals = list(map(_remove_commas, finals))
    if "$" in marks:
        finals = list(map(_remove_dollar, finals))
    if not all(map(str.isdecimal, finals)) and not all(map(_NUMBER.match, finals)):
        return None
    ids = list(map(_get_id, raws))
    if not all(ids):  # a missing, null or empty id: the question's content hash
        pairs = zip(ids, questions, strict=True)
        ids = [record_id or content_id(question, id_prefix) for record_id, question in pairs]
    if any(map(str.isspace, ids)):  # validate_record's blank-id problem
        return None
    prompts = list(map(str.__add__, questions, repeat(INSTRUCTION)))
    notes_stripped = list(map(_strip_notes, map(str.strip, steps)))
    messages = zip(map(_Message, repeat("user"), prompts))  # one-message tuples
    references = map(_Reference, finals, notes_stripped)
    records = list(map(RecordStruct, ids, messages, references))
    texts = map("".join, zip(ids, prompts, finals, notes_stripped, strict=True))  # isascii: a flag test
    for index in compress(count(), map(operator.not_, map(str.isascii, texts))):  # usually a few
        records[index] = _escaped_record(ids[index], prompts[index], finals[index], notes_stripped[index])
    return Block(records, ids, prompts)


def _escaped_record(record_id: str, prompt: str, final: str, steps: str) -> RecordStruct:
    """A record with non-ASCII text as the stdlib writes it (``encode_line``: ``\\uXXXX`` escapes,
    surrogate pairs, and DEL escaped too, unlike msgspec): each string that differs between the two
    pre-encoded by the stdlib encoder's own C function; the others msgspec writes as the stdlib would."""
    raw = _stdlib_literal
    return RecordStruct(raw(record_id), (_Message("user", raw(prompt)),), _Reference(raw(final), raw(steps)))


def _stdlib_literal(text: str) -> Text:
    if text.isascii() and "\x7f" not in text:
        return text
    return msgspec.Raw(encode_basestring_ascii(text).encode("ascii"))


_get_question, _get_answer, _get_id = (operator.attrgetter(name) for name in ("question", "answer", "id"))
_split_at_marker = operator.methodcaller("rpartition", "####")
_remove_commas = operator.methodcaller("replace", ",", "")
_remove_dollar = operator.methodcaller("removeprefix", "$")
