"""What differs between the Airflow 3 minor versions the DAG-level tests run on (3.0 to 3.3)."""

from __future__ import annotations

from typing import Any

from airflow import __version__ as airflow_version
from packaging.version import Version

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow < 3.2
    from airflow.models.dagbag import DagBag  # type: ignore[no-redef,attr-defined]

__all__ = ["DagBag", "dagbag_for_test"]

AIRFLOW_V_3_1_PLUS = Version(Version(airflow_version).base_version) >= Version("3.1")


def dagbag_for_test(dag_folder: str) -> Any:
    """A ``DagBag`` of ``dag_folder`` whose DAGs ``dag.test()`` can run on every Airflow 3 version.

    Airflow 3.0's ``dag.test()`` does not write the DAG (nor its assets) to the metadata DB, so a task
    with an asset outlet fails as inactive (apache/airflow#51644): there the bag is synced first.
    """
    bag = DagBag(dag_folder=dag_folder)
    if not AIRFLOW_V_3_1_PLUS and not bag.import_errors:
        from airflow.dag_processing.bundles.manager import DagBundlesManager

        DagBundlesManager().sync_bundles_to_db()
        bag.sync_to_db(bundle_name="dags-folder", bundle_version=None)
    return bag
