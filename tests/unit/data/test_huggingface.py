"""The ``hf:NAME[:split]`` source: a clear message without the extra or the hub; rows converted by shape."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.data import ColumnMapping, DatasetValidationError, PrepareOptions, prepare_dataset
from tests.unit.data.helpers import read_jsonl

LOOSE = PrepareOptions(min_records=1, val_fraction=0.0, test_fraction=0.0)


def _fake_datasets(monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, Any]] | Exception) -> list[tuple]:
    calls: list[tuple] = []

    def load_dataset(name: str, config: str | None, split: str, streaming: bool) -> Any:
        calls.append((name, config, split, streaming))
        if isinstance(rows, Exception):
            raise rows
        return iter(rows)

    module = types.ModuleType("datasets")
    module.load_dataset = load_dataset  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "datasets", module)
    return calls


def test_missing_extra_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` raise ImportError
    with pytest.raises(DatasetValidationError, match=r"pip install 'airflow-provider-bedrock-rft\[hf\]'"):
        prepare_dataset("hf:openai/gsm8k", "main", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_unreachable_hub_is_reported_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_datasets(monkeypatch, ConnectionError("Couldn't reach 'openai/gsm8k' on the Hub"))
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset("hf:openai/gsm8k:test", "main", str(tmp_path / "out"))
    message = caught.value.render()[0]
    assert message.startswith("hf:openai/gsm8k:test: cannot load Hugging Face dataset 'openai/gsm8k'")
    assert "hub is reachable" in message
    assert not (tmp_path / "out").exists()


def test_gsm8k_shaped_rows_are_converted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rows = [
        {"question": f"What is {i}+{i}?", "answer": f"{i}+{i}=<<{i}+{i}={2 * i}>>{2 * i}\n#### {2 * i}"}
        for i in range(3)
    ]
    calls = _fake_datasets(monkeypatch, rows)
    result = prepare_dataset("hf:openai/gsm8k:test", "main", str(tmp_path / "out"), options=LOOSE)
    assert calls == [("openai/gsm8k", "main", "test", True)]
    records = read_jsonl(Path(result.train_uri))
    assert [r["reference_answer"]["final_answer"] for r in records] == ["0", "2", "4"]


def test_rows_with_a_mapping_and_bad_rows_are_located(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_datasets(monkeypatch, [{"text": "Say hi", "label": "hi"}, {"text": "", "label": "x"}])
    with pytest.raises(DatasetValidationError) as caught:
        prepare_dataset(
            "hf:acme/greetings",
            "-",
            str(tmp_path / "out"),
            options=LOOSE,
            mapping=ColumnMapping(prompt_field="text", reference_answer_field="label"),
        )
    assert caught.value.render() == ['hf:acme/greetings:2: column "text" is empty; the prompt needs it']


def test_unrecognised_row_shape_needs_a_mapping(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_datasets(monkeypatch, [{"text": "Say hi"}])
    with pytest.raises(DatasetValidationError, match="hf:acme/x:1: row has no messages"):
        prepare_dataset("hf:acme/x", "-", str(tmp_path / "out"), options=LOOSE)
