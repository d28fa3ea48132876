"""Streaming readers for every supported source; each yields ``SourceItem`` (line, record or error)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

from bedrock_rft_provider.data import gsm8k, synthetic
from bedrock_rft_provider.data.problems import DatasetValidationError, Problem
from bedrock_rft_provider.data.tabular import ColumnMapping
from bedrock_rft_provider.data.uris import iter_lines, local_copy, open_binary

SOURCES = ("gsm8k", "jsonl", "csv", "parquet", "synthetic", "hf:NAME[:split]")
_BATCH_ROWS = 2048
_decode = json.JSONDecoder().decode


class SourceItem(NamedTuple):
    """One input unit: its 1-based line (or row) number and either a converted record or an error."""

    line: int | None
    record: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class SourceReader:
    """A configured source. Iterate ``items()`` once; ``fingerprint`` is complete afterwards."""

    kind: str
    input_uri: str
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    seed: int = 0
    s3_client: Any = None
    _hash: Any = field(default_factory=hashlib.sha256, repr=False)

    @property
    def display_name(self) -> str:
        """How problems name this input (the path or URI; a description for generated data)."""
        if self.kind == "synthetic":
            return f"synthetic(n={self.input_uri}, seed={self.seed})"
        if self.kind.startswith("hf:"):
            return self.kind
        return self.input_uri

    @property
    def fingerprint(self) -> str:
        """``sha256:<hex>`` over the raw input bytes (or the generator parameters) read so far."""
        return f"sha256:{self._hash.hexdigest()}"

    def items(self) -> Iterator[SourceItem]:
        """Stream the input as converted records or per-line errors."""
        if self.kind in ("jsonl", "gsm8k"):
            return self._json_lines(gsm8k.to_rft_record if self.kind == "gsm8k" else None)
        if self.kind == "csv":
            return self._csv()
        if self.kind == "parquet":
            return self._parquet()
        if self.kind == "synthetic":
            return self._synthetic()
        if self.kind.startswith("hf:"):
            return self._huggingface()
        raise DatasetValidationError(
            [
                Problem(
                    self.input_uri,
                    None,
                    f'unknown source "{self.kind}"; expected one of {", ".join(SOURCES)}',
                )
            ]
        )

    def _json_lines(self, convert: Any) -> Iterator[SourceItem]:
        update = self._hash.update
        for line_no, raw in iter_lines(self.input_uri, self.s3_client):
            update(raw)
            if raw.isspace():
                yield SourceItem(line_no, error="blank line; every line must be one JSON object")
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield SourceItem(line_no, error="line is not valid UTF-8")
                continue
            try:
                value = _decode(text)
            except ValueError as exc:
                yield SourceItem(
                    line_no,
                    error=f"invalid JSON: {getattr(exc, 'msg', exc)} (column {getattr(exc, 'colno', '?')})",
                )
                continue
            if convert is None:
                if isinstance(value, dict):
                    yield SourceItem(line_no, record=value)
                else:
                    yield SourceItem(
                        line_no, error=f"line is a JSON {type(value).__name__}; expected an object"
                    )
                continue
            try:
                yield SourceItem(line_no, record=convert(value))
            except ValueError as exc:
                yield SourceItem(line_no, error=str(exc))

    def _mapped(self, line: int | None, row: dict[str, Any]) -> SourceItem:
        try:
            return SourceItem(line, record=self.mapping.to_record(row))
        except (ValueError, KeyError, IndexError) as exc:
            return SourceItem(line, error=str(exc))

    def _check_mapping(self, columns: list[str], line: int | None) -> None:
        problems = self.mapping.check(columns)
        if problems:
            raise DatasetValidationError([Problem(self.display_name, line, p) for p in problems])

    def _csv(self) -> Iterator[SourceItem]:
        with open_binary(self.input_uri, self.s3_client) as stream:
            reader = csv.reader(self._decoded_lines(stream))
            try:
                header = next(reader)
            except StopIteration:
                raise DatasetValidationError(
                    [Problem(self.display_name, 1, "file is empty; expected a header row")]
                ) from None
            self._check_mapping(header, 1)
            while True:
                start = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:  # the rest of the file cannot be parsed reliably: fatal
                    raise DatasetValidationError(
                        [Problem(self.display_name, start, f"malformed CSV: {exc}")]
                    ) from None
                if not cells:
                    continue
                if len(cells) != len(header):
                    yield SourceItem(
                        start, error=f"row has {len(cells)} fields; the header has {len(header)}"
                    )
                    continue
                yield self._mapped(start, dict(zip(header, cells, strict=True)))

    def _decoded_lines(self, stream: IO[bytes]) -> Iterator[str]:
        for line_no, raw in enumerate(stream, start=1):
            self._hash.update(raw)
            try:
                yield raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError:  # fatal: a CSV record may span lines, so skipping is unsafe
                raise DatasetValidationError(
                    [Problem(self.display_name, line_no, "line is not valid UTF-8")]
                ) from None

    def _parquet(self) -> Iterator[SourceItem]:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise DatasetValidationError(
                [
                    Problem(
                        self.display_name,
                        None,
                        "the parquet source needs pyarrow: "
                        "pip install 'airflow-provider-bedrock-rft[parquet]'",
                    )
                ]
            ) from None
        with local_copy(self.input_uri, self.s3_client) as path:
            try:
                parquet = pq.ParquetFile(path)
            except Exception as exc:
                raise DatasetValidationError(
                    [Problem(self.display_name, None, f"not a readable Parquet file ({exc})")]
                ) from exc
            with open(path, "rb") as raw:
                for chunk in iter(lambda: raw.read(1 << 20), b""):
                    self._hash.update(chunk)
            self._check_mapping(parquet.schema_arrow.names, None)
            row_no = 0
            for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
                for row in batch.to_pylist():
                    row_no += 1
                    yield self._mapped(row_no, row)

    def _synthetic(self) -> Iterator[SourceItem]:
        try:
            count = int(self.input_uri)
        except ValueError:
            raise DatasetValidationError(
                [
                    Problem(
                        "synthetic",
                        None,
                        f'input "{self.input_uri}" is not a record count; '
                        "for --source synthetic, --input is how many problems to generate, e.g. 500",
                    )
                ]
            ) from None
        if count < 0:
            raise DatasetValidationError([Problem("synthetic", None, "input count must be >= 0")])
        self._hash.update(f"synthetic:{count}:{self.seed}".encode())
        for index, raw in enumerate(synthetic.generate(count, self.seed), start=1):
            yield SourceItem(index, record=gsm8k.to_rft_record(raw))

    def _huggingface(self) -> Iterator[SourceItem]:
        name, _, split = self.kind[len("hf:") :].partition(":")
        split = split or "train"
        config = self.input_uri if self.input_uri not in ("", "-") else None
        try:
            import datasets
        except ImportError:
            raise DatasetValidationError(
                [
                    Problem(
                        self.kind,
                        None,
                        "the hf source needs the optional 'datasets' package: "
                        "pip install 'airflow-provider-bedrock-rft[hf]'",
                    )
                ]
            ) from None
        try:
            rows = datasets.load_dataset(name, config, split=split, streaming=True)
        except Exception as exc:
            raise DatasetValidationError(
                [
                    Problem(
                        self.kind,
                        None,
                        f"cannot load Hugging Face dataset {name!r} (config {config!r}, "
                        f"split {split!r}): {type(exc).__name__}: {exc}. Check the name, and that the hub "
                        "is reachable (or that the dataset is cached and HF_DATASETS_OFFLINE=1)",
                    )
                ]
            ) from exc
        self._hash.update(f"hf:{name}:{config}:{split}".encode())
        for index, row in enumerate(rows, start=1):
            yield self._hf_row(index, dict(row))

    def _hf_row(self, index: int, row: dict[str, Any]) -> SourceItem:
        self._hash.update(json.dumps(row, sort_keys=True, default=str).encode())
        if not self.mapping.is_empty:
            if index == 1:
                self._check_mapping(list(row), index)
            return self._mapped(index, row)
        if "messages" in row:
            return SourceItem(index, record=row)
        if "question" in row and "answer" in row:
            try:
                return SourceItem(index, record=gsm8k.to_rft_record(row))
            except ValueError as exc:
                return SourceItem(index, error=str(exc))
        return SourceItem(
            index,
            error="row has no messages, no question/answer pair, and no prompt mapping "
            "(give prompt_field or prompt_template)",
        )
