"""The README's open-weight examples are true: the model table is the backend catalog, and the
connection lines it shows send the open-weight client where the README says."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook
from bedrock_rft_provider.jobs.backends import CATALOG, NATIVE
from unit.test_readme import README, SHELL

TABLE_ROW = re.compile(r"^\| [^|]+ \| `([^`]+)` \| (native|open-weight): [^|]+ \| ([a-z0-9-]+) \|", re.M)
CONNECTION = re.compile(r"AIRFLOW_CONN_AWS_DEFAULT='([^']+)'")


def _section(title: str) -> str:
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert found, title
    return found[1]


def test_the_model_table_is_the_backend_catalog() -> None:
    rows = TABLE_ROW.findall(_section("Models, regions and the two backends"))
    assert {model: (backend, region) for model, backend, region in rows} == {
        info.model_id: (info.backend, ",".join(info.regions)) for info in CATALOG.values()
    }


def test_the_native_row_names_the_native_api() -> None:
    section = _section("Models, regions and the two backends")
    native = [line for line in section.splitlines() if f"| {NATIVE}: " in line]
    assert len(native) == 1 and "CreateModelCustomizationJob" in native[0]


def _connection_lines(title: str) -> list[str]:
    return [uri for block in SHELL for uri in CONNECTION.findall(block) if block in _section(title)]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Open-weight models: gpt-oss, Qwen3, Nemotron", "https://bedrock-mantle.us-west-2.api.aws/v1"),
        ("The sandbox: Bedrock RFT on your laptop, no AWS account", "http://127.0.0.1:5000/v1"),
    ],
)
def test_readme_connections_reach_the_open_weight_api_where_the_readme_says(
    title: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (uri,) = _connection_lines(title)
    monkeypatch.setenv("AIRFLOW_CONN_README_EXAMPLE", uri)
    assert BedrockOpenWeightHook(aws_conn_id="readme_example").base_url == expected


def test_the_service_config_extra_sets_the_open_weight_url_verbatim(monkeypatch: pytest.MonkeyPatch) -> None:
    section = _section("Open-weight models: gpt-oss, Qwen3, Nemotron")
    assert '{"service_config": {"bedrock-mantle": {"endpoint_url": ...}}}' in section
    extra = {"service_config": {"bedrock-mantle": {"endpoint_url": "http://127.0.0.1:5000/mantle/v1/"}}}
    monkeypatch.setenv("AIRFLOW_CONN_README_EXAMPLE", json.dumps({"conn_type": "aws", "extra": extra}))
    assert BedrockOpenWeightHook(aws_conn_id="readme_example").base_url == "http://127.0.0.1:5000/mantle/v1"


def readme_trigger_confs(dag_id: str) -> list[dict[str, object]]:
    """The ``--conf`` of every ``airflow dags trigger <dag_id>`` command in the README."""
    confs = []
    for block in SHELL:
        for line in block.splitlines():
            words = shlex.split(line.split(" #", 1)[0]) if "airflow dags trigger" in line else []
            if words[:4] == ["airflow", "dags", "trigger", dag_id] and "--conf" in words:
                confs.append(json.loads(words[words.index("--conf") + 1]))
    return confs
