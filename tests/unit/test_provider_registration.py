"""The installed distribution registers with Airflow and every module it names imports."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from importlib.metadata import distribution, entry_points
from pathlib import Path

import pytest

from bedrock_rft_provider.get_provider_info import get_provider_info


def _named_modules(info: dict) -> list[str]:
    modules: list[str] = []
    for kind in ("hooks", "operators", "sensors", "triggers"):
        for entry in info.get(kind, []):
            modules.extend(entry["python-modules"])
    modules.extend(link.rsplit(".", 1)[0] for link in info.get("extra-links", []))
    return modules


def test_package_name_matches_the_distribution() -> None:
    assert (
        get_provider_info()["package-name"] == distribution("airflow-provider-bedrock-rft").metadata["Name"]
    )


def test_entry_point_resolves_to_get_provider_info() -> None:
    (entry,) = [
        e for e in entry_points(group="apache_airflow_provider") if e.value.startswith("bedrock_rft_provider")
    ]
    assert entry.load()() == get_provider_info()


def test_every_module_named_in_provider_info_imports() -> None:
    info = get_provider_info()
    for module in _named_modules(info):
        importlib.import_module(module)
    for link in info["extra-links"]:
        module, name = link.rsplit(".", 1)
        assert hasattr(importlib.import_module(module), name), link


@pytest.mark.slow
def test_airflow_providers_list_shows_the_provider(airflow_home: Path) -> None:
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), "providers", "list", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "AIRFLOW_HOME": str(airflow_home)},
        check=True,
    )
    (listing,) = [line for line in result.stdout.splitlines() if line.startswith("[{")]
    providers = {p["package_name"]: p for p in json.loads(listing)}
    assert "airflow-provider-bedrock-rft" in providers, result.stderr[-2000:]
