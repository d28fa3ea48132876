"""The dataset sources ``prepare-data`` reads, apart from the readers (``sources``) that read them.

The CLI's argument check and the example DAG's trigger-time param check use this list without loading
the data pipeline.
"""

from __future__ import annotations

# ``hf:NAME[:split]`` names a Hugging Face dataset; the rest are fixed names.
SOURCES = (
    "gsm8k", "jsonl", "csv", "parquet", "synthetic", "humaneval", "moderation", "synthetic-tools",
    "hf:NAME[:split]",
)  # fmt: skip
