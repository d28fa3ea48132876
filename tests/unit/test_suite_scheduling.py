"""The suite's file order for xdist: longest recorded files first, each file's tests kept together."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from support.scheduling import file_seconds, load_durations, longest_files_first


def _items(*nodeids: str) -> list[Any]:
    return [SimpleNamespace(nodeid=nodeid) for nodeid in nodeids]


def test_longest_files_go_first_and_a_files_tests_stay_together_in_order() -> None:
    items = _items("a.py::t1", "b.py::t1", "a.py::t2", "c.py::t1", "d.py::t1", "b.py::t2")
    longest_files_first(items, {"b.py": 300.0, "d.py": 12.5})
    assert [i.nodeid for i in items] == [
        "b.py::t1",
        "b.py::t2",
        "d.py::t1",
        "a.py::t1",
        "a.py::t2",
        "c.py::t1",
    ]


def test_without_recorded_durations_the_collection_order_is_kept() -> None:
    items = _items("a.py::t1", "b.py::t1", "c.py::t1")
    longest_files_first(items, {})
    assert [i.nodeid for i in items] == ["a.py::t1", "b.py::t1", "c.py::t1"]


def test_file_seconds_sums_setup_call_and_teardown_per_file_from_a_durations_report() -> None:
    report = [
        "============================= slowest durations =============================",
        "483.25s call     tests/dags/test_demo.py::test_demo_runs[x-y]",
        "8.83s setup    tests/integration/test_g.py::test_a",
        "1.50s call     tests/integration/test_g.py::test_a",
        "0.20s teardown tests/dags/test_demo.py::test_other",
        "3057 passed, 10 skipped in 2017.94s (0:33:37)",
    ]
    assert file_seconds(report) == {"tests/dags/test_demo.py": 483.4, "tests/integration/test_g.py": 10.3}


def test_a_missing_or_broken_durations_file_means_no_hint(tmp_path: Path) -> None:
    assert load_durations(tmp_path / "absent.json") == {}
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert load_durations(broken) == {}
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps({"a.py": 3, "b.py": "slow", "c.py": 1.5}))
    assert load_durations(mixed) == {"a.py": 3.0, "c.py": 1.5}


def test_the_recorded_durations_name_files_that_exist() -> None:
    root = Path(__file__).resolve().parents[2]
    stale = [path for path in load_durations() if not (root / path).exists()]
    assert load_durations() and stale == []
