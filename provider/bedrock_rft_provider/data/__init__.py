"""Dataset formats, conversion, validation and deterministic splitting for Bedrock RFT (pure: no Airflow).

Entry points: :func:`prepare_dataset` (any source -> validated train/validation/test files + report),
:func:`validate_file` (check an RFT JSONL file), :mod:`.gsm8k` (GSM8K conversion) and
:mod:`.synthetic` (offline GSM8K-style problems).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bedrock_rft_provider.lazy import lazy_exports

if TYPE_CHECKING:
    from bedrock_rft_provider.data.gsm8k import INSTRUCTION, to_rft_record
    from bedrock_rft_provider.data.prepare import PreparedDataset, PrepareOptions, prepare_dataset
    from bedrock_rft_provider.data.problems import DatasetValidationError, Problem
    from bedrock_rft_provider.data.records import validate_record
    from bedrock_rft_provider.data.split import assign_split
    from bedrock_rft_provider.data.synthetic import generate
    from bedrock_rft_provider.data.tabular import ColumnMapping
    from bedrock_rft_provider.data.validate import ValidationReport, validate_file

__getattr__ = lazy_exports(
    __name__,
    {
        "INSTRUCTION": "gsm8k",
        "to_rft_record": "gsm8k",
        "PreparedDataset": "prepare",
        "PrepareOptions": "prepare",
        "prepare_dataset": "prepare",
        "DatasetValidationError": "problems",
        "Problem": "problems",
        "validate_record": "records",
        "assign_split": "split",
        "generate": "synthetic",
        "ColumnMapping": "tabular",
        "ValidationReport": "validate",
        "validate_file": "validate",
    },
)

__all__ = [
    "INSTRUCTION",
    "ColumnMapping",
    "DatasetValidationError",
    "PrepareOptions",
    "PreparedDataset",
    "Problem",
    "ValidationReport",
    "assign_split",
    "generate",
    "prepare_dataset",
    "to_rft_record",
    "validate_file",
    "validate_record",
]
