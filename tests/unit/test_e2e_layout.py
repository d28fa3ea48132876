"""docker-compose.yaml and ``make e2e`` run the same layout from one source of truth.

Both read docker/airflow.env (compose with ``env_file:``, the e2e through tests/e2e/environment.py);
each supplies exactly the per-deployment keys itself; both run the same components. The README's
"Running on a real Airflow" section shows the e2e's exact commands.
"""

from __future__ import annotations

import re
import shlex
from datetime import date
from pathlib import Path

import pytest
import yaml

from tests.e2e import backfill, environment, stack

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
AIRFLOW_SERVICES = [name for name in COMPOSE["services"] if name.startswith("airflow-")]
README = (REPO / "README.md").read_text()
# Flags the e2e adds because all its components share one machine (no log servers, own pid files).
E2E_ONLY_FLAGS = {"--skip-serve-logs", "--host", "--port", "--pid"}


def _without_e2e_flags(argv: list[str]) -> list[str]:
    kept: list[str] = []
    skip_value = False
    for word in argv:
        if skip_value:
            skip_value = False
            continue
        if word in E2E_ONLY_FLAGS:
            skip_value = word != "--skip-serve-logs"
            continue
        kept.append(word)
    return kept


def test_the_shared_environment_sets_the_production_layout() -> None:
    shared = environment.read_env_file()
    assert shared["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert "SimpleAuthManager" in shared["AIRFLOW__CORE__AUTH_MANAGER"]
    assert not set(shared) & environment.PER_DEPLOYMENT_KEYS


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_every_airflow_service_reads_the_shared_file_and_sets_exactly_the_per_deployment_keys(
    service: str,
) -> None:
    spec = COMPOSE["services"][service]
    assert spec["env_file"] == ["docker/airflow.env"]
    assert (REPO / spec["env_file"][0]).resolve() == environment.SHARED_ENV_FILE
    assert set(spec["environment"]) == environment.PER_DEPLOYMENT_KEYS


def test_a_broken_env_file_line_is_reported_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "airflow.env"
    bad.write_text("# comment\nAIRFLOW__CORE__EXECUTOR=CeleryExecutor\nnot a setting\n")
    with pytest.raises(ValueError, match=r"airflow\.env:3: expected KEY=VALUE"):
        environment.read_env_file(bad)


def test_the_e2e_supplies_exactly_the_per_deployment_keys() -> None:
    deployment = environment.Deployment.generate(
        database_url="postgresql+psycopg2://u@h/db", broker_url="redis://h/0", api_port=1, aws_conn="{}"
    )
    env = environment.component_env(deployment, home=Path("/tmp/x"), run_settings={"X": "1"})
    for key, value in environment.read_env_file().items():
        assert env[key] == value, key
    assert set(deployment.values()) == environment.PER_DEPLOYMENT_KEYS
    with pytest.raises(ValueError, match="may not override"):
        environment.component_env(
            deployment, home=Path("/tmp/x"), run_settings={"AIRFLOW__CORE__EXECUTOR": "LocalExecutor"}
        )


def test_secrets_are_shared_and_required_and_nobody_is_admin_by_default() -> None:
    env = COMPOSE["services"]["airflow-scheduler"]["environment"]
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
        assert re.fullmatch(r"\$\{\w+:\?.+\}", env[key]), f"{key} must be required from the environment"
    assert re.fullmatch(r"\$\{\w+:-False\}", env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"])
    one = environment.Deployment.generate(database_url="d", broker_url="b", api_port=1, aws_conn="{}")
    other = environment.Deployment.generate(database_url="d", broker_url="b", api_port=1, aws_conn="{}")
    assert one.jwt_secret != other.jwt_secret and one.fernet_key != other.fernet_key
    assert one.values()["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"


@pytest.mark.parametrize("service", sorted(COMPOSE["services"]))
def test_published_ports_bind_to_localhost_only(service: str) -> None:
    for port in COMPOSE["services"][service].get("ports", []):
        assert str(port).startswith("127.0.0.1:"), f"{service} publishes {port} on every interface"


def test_compose_runs_the_components_the_e2e_runs() -> None:
    e2e = sorted(_without_e2e_flags(args.split()) for args in stack.COMPONENTS.values())
    compose = sorted(
        COMPOSE["services"][s]["command"]
        for s in AIRFLOW_SERVICES
        if COMPOSE["services"][s]["command"] != ["db", "migrate"]
    )
    normalise = [[w.replace("e2e-", "") for w in argv] for argv in e2e]
    assert normalise == compose
    assert [" ".join(COMPOSE["services"]["airflow-init"]["command"])] == stack.SETUP_COMMANDS


def _readme_section() -> str:
    match = re.search(r"^## Running on a real Airflow\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, "README has no 'Running on a real Airflow' section"
    return match.group(1)


def _shown_airflow_commands() -> list[list[str]]:
    return [shlex.split(line)[1:] for line in _readme_section().splitlines() if line.startswith("airflow ")]


def test_readme_shows_the_exact_commands_the_e2e_runs() -> None:
    shown = _shown_airflow_commands()
    for command in stack.SETUP_COMMANDS:
        assert command.split() in shown, command
    for name, args in stack.COMPONENTS.items():
        expected = args.format(port="8080", pid=f"{name}.pid").split()
        assert expected in shown, f"README does not show: airflow {' '.join(expected)}"
    days = [date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 28)]
    assert backfill.backfill_command(days) in shown


@pytest.mark.parametrize("argv", _shown_airflow_commands(), ids=" ".join)
def test_every_airflow_command_in_the_section_parses(argv: list[str]) -> None:
    from airflow.cli import cli_parser

    assert callable(cli_parser.get_parser().parse_args(argv).func)


def test_readme_says_what_clear_and_mark_failed_do_to_paid_jobs() -> None:
    section = _readme_section().lower()
    for phrase in ("clear", "mark", "failed", "reattach", "stop", "backfill", "triggerer", "celeryexecutor"):
        assert phrase in section, phrase


def test_readme_names_every_setting_the_commands_need() -> None:
    """A newcomer running the section's commands needs the environment too: the shared file and every
    per-deployment key (before, the database, broker and result backend were named nowhere in it)."""
    section = _readme_section()
    assert "docker/airflow.env" in section
    missing = [key for key in sorted(environment.PER_DEPLOYMENT_KEYS) if key not in section]
    assert not missing, f"README 'Running on a real Airflow' does not name {missing}"
