"""Tabular rows (CSV, Parquet, Hugging Face) mapped to RFT records through a column mapping.

Typed cells (Parquet, Hugging Face) are checked per column, never turned into Python reprs:
- prompt column: text, or a list of ``{role, content}`` messages (used as the prompt's messages);
- prompt template columns: text or numbers;
- reference answer: text, an object, or a number (written as its decimal text: ``3``, ``2.5``);
- id: text or a whole number (a float column of whole numbers, e.g. an integer column with nulls, is
  read as integers: ``7.0`` -> ``"7"``);
- metadata columns: any JSON value (NaN becomes null; bytes, dates and other types are rejected).
Anything else is ``file:row: column X holds a list; expected text``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.data.records import content_id


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value}"
    return f"a {type(value).__name__}"


def _number_text(value: int | float) -> str:
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    from decimal import Decimal  # here: prepare-data on JSON lines never needs it

    return format(Decimal(repr(value)), "f")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_messages(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(isinstance(m, Mapping) and "role" in m and "content" in m for m in value)
    )


def _json_value(name: str, value: Any) -> Any:
    """A metadata cell as a JSON value (NaN -> None); ValueError for what JSON cannot hold."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_json_value(name, v) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _json_value(name, v) for k, v in value.items()}
    raise ValueError(f'column "{name}" holds {_kind(value)}; expected text, a number or a JSON value')


@dataclass(frozen=True)
class ColumnMapping:
    """How columns become a record.

    Exactly one of ``prompt_field`` (a column holding the user message) or ``prompt_template``
    (``str.format`` text over columns, e.g. ``"{question}\\n\\nOptions: {choices}"``).
    ``metadata_fields``: columns kept as top-level grader metadata; ``None`` keeps every unmapped column.
    """

    prompt_field: str | None = None
    prompt_template: str | None = None
    system_prompt: str | None = None
    reference_answer_field: str | None = None
    id_field: str | None = None
    metadata_fields: tuple[str, ...] | None = None

    @property
    def is_empty(self) -> bool:
        """True when no prompt mapping was given."""
        return self.prompt_field is None and self.prompt_template is None

    def template_columns(self) -> list[str]:
        """Columns the prompt template refers to (ValueError on a malformed template)."""
        if self.prompt_template is None:
            return []
        import string  # here, as Decimal: not needed to prepare JSON lines

        names = [
            field for _, field, _, _ in string.Formatter().parse(self.prompt_template) if field is not None
        ]
        for name in names:
            if not name or name.isdigit() or any(ch in name for ch in ".[]"):
                raise ValueError(f"prompt_template has a placeholder {{{name}}}; expected {{column_name}}")
        return names

    def used_columns(self) -> list[str]:
        """Every column the mapping reads (prompt, template, reference answer, id)."""
        columns = [self.prompt_field, self.reference_answer_field, self.id_field]
        return [c for c in columns if c is not None] + self.template_columns()

    def check(self, columns: Iterable[str]) -> list[str]:
        """Problems with this mapping against the available ``columns`` (empty when it fits)."""
        available = list(columns)
        if (self.prompt_field is None) == (self.prompt_template is None):
            return ["column mapping needs exactly one of prompt_field or prompt_template"]
        try:
            used = self.used_columns()
        except ValueError as exc:
            return [str(exc)]
        shown = ", ".join(c if len(c) <= 40 else c[:37] + "..." for c in available[:20])
        if len(available) > 20:
            shown += f", ... ({len(available)} columns)"
        problems = [
            f'column mapping uses column "{name}", which is not in the data (columns: {shown})'
            for name in dict.fromkeys([*used, *(self.metadata_fields or ())])
            if name not in available
        ]
        return problems

    def _prompt_messages(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        for name in self.used_columns():
            if name in (self.id_field, self.reference_answer_field):
                continue
            value = row.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise ValueError(f'column "{name}" is empty; the prompt needs it')
            if name == self.prompt_field and _is_messages(value):
                continue
            if not isinstance(value, str) and not (name != self.prompt_field and _is_number(value)):
                expected = (
                    "text or a list of {role, content} messages"
                    if name == self.prompt_field
                    else ("text or a number")
                )
                raise ValueError(f'column "{name}" holds {_kind(value)}; expected {expected}')
        if self.prompt_field is not None:
            prompt = row[self.prompt_field]
            if not isinstance(prompt, str):  # a messages list: the prompt as given
                messages = [dict(m) for m in prompt]
                if self.system_prompt and messages[0].get("role") != "system":
                    messages.insert(0, {"role": "system", "content": self.system_prompt})
                return messages
        else:
            prompt = str(self.prompt_template).format_map(row)
        messages = [{"role": "user", "content": prompt.strip()}]
        if self.system_prompt:
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        return messages

    def _id(self, row: dict[str, Any], messages: list[dict[str, Any]]) -> str:
        raw_id = row.get(self.id_field) if self.id_field else None
        if raw_id is None or raw_id == "" or (isinstance(raw_id, float) and math.isnan(raw_id)):
            last = messages[-1].get("content")  # the user's text: ids stay stable with a system prompt
            return content_id(last.strip() if isinstance(last, str) else repr(messages))
        if isinstance(raw_id, str):
            return raw_id
        if _is_number(raw_id) and float(raw_id).is_integer():
            return _number_text(raw_id)
        shown = f" {raw_id!r}" if _is_number(raw_id) else ""
        raise ValueError(
            f'column "{self.id_field}" (id) holds {_kind(raw_id)}{shown}; expected text or a whole number'
        )

    def _reference(self, row: dict[str, Any]) -> str | dict[str, Any]:
        name = self.reference_answer_field
        answer = row.get(name) if name else None
        if answer is None or (isinstance(answer, str) and not answer.strip()):
            raise ValueError(f'column "{name}" (reference answer) is empty')
        if isinstance(answer, str):
            return answer
        if isinstance(answer, Mapping) and answer:
            return dict(_json_value(str(name), dict(answer)))
        if _is_number(answer):
            return _number_text(answer)
        raise ValueError(
            f'column "{name}" (reference answer) holds {_kind(answer)}; expected text, an object or a number'
        )

    def to_record(self, row: dict[str, Any]) -> dict[str, Any]:
        """Build an RFT record from one row; raises ValueError naming the empty or mistyped column."""
        messages = self._prompt_messages(row)
        record: dict[str, Any] = {"id": self._id(row, messages), "messages": messages}
        if self.reference_answer_field is not None:
            record["reference_answer"] = self._reference(row)
        used = set(self.used_columns())
        keep = self.metadata_fields if self.metadata_fields is not None else [c for c in row if c not in used]
        for name in keep:
            if name not in ("id", "messages", "reference_answer"):
                record[name] = _json_value(name, row.get(name))
        return record
