"""The deployment namespace: explicit argument, then Airflow config, then one Variable per install."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider import namespace as ns
from bedrock_rft_provider.errors import ConfigError


class FakeVariables:
    """One metadata database's Variable table (what ``airflow.sdk.Variable`` reads and writes)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: str, description: str | None = None) -> None:
        self.values[key] = value


@pytest.fixture
def no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__BEDROCK_RFT__NAMESPACE", raising=False)


def _install(monkeypatch: pytest.MonkeyPatch, variables: FakeVariables) -> str:
    import airflow.sdk

    monkeypatch.setattr(airflow.sdk, "Variable", variables)
    return ns.resolve_namespace()


def test_each_install_draws_its_own_namespace_and_keeps_it(
    no_config: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_db, second_db = FakeVariables(), FakeVariables()
    a = _install(monkeypatch, first_db)
    assert a == _install(monkeypatch, first_db)  # every component and every retry of one install agree
    assert first_db.values == {ns.VARIABLE_KEY: a}
    b = _install(monkeypatch, second_db)  # another install, or the same one after a database reset
    assert a != b and a.startswith("af-") and len(a) == 15


def test_config_wins_over_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__BEDROCK_RFT__NAMESPACE", "prod-eu")
    variables = FakeVariables()
    assert _install(monkeypatch, variables) == "prod-eu"
    assert variables.values == {}
    assert ns.resolve_namespace("team-a") == "team-a"


@pytest.mark.parametrize(
    ("explicit", "config", "field"),
    [("bad name", None, "namespace"), (None, "-x", "[bedrock_rft] namespace")],
)
def test_bad_namespace_names_where_it_came_from(
    monkeypatch: pytest.MonkeyPatch, explicit: str | None, config: str | None, field: str
) -> None:
    if config:
        monkeypatch.setenv("AIRFLOW__BEDROCK_RFT__NAMESPACE", config)
    with pytest.raises(ConfigError) as raised:
        ns.resolve_namespace(explicit)
    assert raised.value.field == field
