"""GSM8K raw records (``question`` / ``answer`` ending in ``#### N``) converted to RFT records."""

from __future__ import annotations

import re
from typing import Any

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
