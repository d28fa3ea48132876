"""The example DAGs installed into a test AIRFLOW_HOME's dags folder (``dag.test()`` syncs from it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support.airflow_compat import dagbag_for_test

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "dags"


@contextmanager
def installed_example_dags(airflow_home: Path) -> Iterator[Any]:
    """Copy every example DAG into ``airflow_home/dags``, yield their DagBag, remove the copies after."""
    installed = []
    for source in EXAMPLE_DAGS.glob("*.py"):
        target = airflow_home / "dags" / source.name
        shutil.copyfile(source, target)
        installed.append(target)
    try:
        yield dagbag_for_test(str(airflow_home / "dags"))
    finally:
        for target in installed:
            target.unlink(missing_ok=True)
