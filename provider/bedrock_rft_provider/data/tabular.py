"""Tabular rows (CSV, Parquet, Hugging Face) mapped to RFT records through a column mapping."""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.data.records import content_id


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
        problems = [
            f'column mapping uses column "{name}", which is not in the data (columns: {", ".join(available)})'
            for name in dict.fromkeys([*used, *(self.metadata_fields or ())])
            if name not in available
        ]
        return problems

    def to_record(self, row: dict[str, Any]) -> dict[str, Any]:
        """Build an RFT record from one row; raises ValueError naming the empty or bad column."""
        for name in self.used_columns():
            if name in (self.id_field, self.reference_answer_field):
                continue
            value = row.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise ValueError(f'column "{name}" is empty; the prompt needs it')
        if self.prompt_field is not None:
            prompt = row[self.prompt_field]
            prompt = prompt if isinstance(prompt, str) else str(prompt)
        else:
            prompt = str(self.prompt_template).format_map(row)
        messages = [{"role": "user", "content": prompt.strip()}]
        if self.system_prompt:
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        record: dict[str, Any] = {}
        raw_id = row.get(self.id_field) if self.id_field else None
        record["id"] = str(raw_id) if raw_id not in (None, "") else content_id(prompt.strip())
        record["messages"] = messages
        if self.reference_answer_field is not None:
            answer = row.get(self.reference_answer_field)
            if answer is None or (isinstance(answer, str) and not answer.strip()):
                raise ValueError(f'column "{self.reference_answer_field}" (reference answer) is empty')
            record["reference_answer"] = answer if isinstance(answer, (str, dict)) else str(answer)
        used = set(self.used_columns())
        keep = self.metadata_fields if self.metadata_fields is not None else [c for c in row if c not in used]
        for name in keep:
            if name not in ("id", "messages", "reference_answer"):
                record[name] = row.get(name)
        return record
