"""docker-compose.yaml and docker/Dockerfile, checked without a Docker engine.

No engine runs here, so the checks are the ones that can be made: the file is valid against the
Compose Specification schema, every service runs a real command of the image, the image installs this
project pinned to our lock file, and the README's compose commands match the file.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import tomllib
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
DOCKERFILE = (REPO / "docker" / "Dockerfile").read_text()
SCHEMA = json.loads((REPO / "tests" / "fixtures" / "compose" / "compose_spec.json").read_text())
AIRFLOW_SERVICES = {
    "airflow-apiserver": ["api-server"],
    "airflow-scheduler": ["scheduler"],
    "airflow-dag-processor": ["dag-processor"],
    "airflow-triggerer": ["triggerer"],
    "airflow-worker-1": ["celery", "worker", "--celery-hostname", "worker-1@%h"],
    "airflow-worker-2": ["celery", "worker", "--celery-hostname", "worker-2@%h"],
    "airflow-init": ["db", "migrate"],
}


def _validate(document: dict[str, Any]) -> None:
    jsonschema.Draft201909Validator(SCHEMA).validate(document)


def test_compose_file_matches_the_compose_specification() -> None:
    _validate(COMPOSE)


def test_the_schema_check_rejects_a_broken_file() -> None:
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["sandbox"]["ports"] = {"4566": 4566}  # ports must be a list
    with pytest.raises(jsonschema.ValidationError):
        _validate(broken)


def test_the_stack_has_the_airflow_3_services_and_the_sandbox() -> None:
    assert set(COMPOSE["services"]) == {"postgres", "redis", "sandbox", *AIRFLOW_SERVICES}
    assert "./dags:/opt/airflow/dags" in COMPOSE["services"]["airflow-triggerer"]["volumes"]


@pytest.mark.parametrize(("service", "argv"), sorted(AIRFLOW_SERVICES.items()))
def test_airflow_services_run_real_airflow_commands(service: str, argv: list[str]) -> None:
    from airflow.cli import cli_parser

    command = COMPOSE["services"][service]["command"]
    assert command == argv
    assert callable(cli_parser.get_parser().parse_args(command).func)


def test_sandbox_service_runs_our_cli_and_airflow_reaches_it() -> None:
    from bedrock_rft_provider.cli import build_parser
    from bedrock_rft_provider.commands import sandbox

    service = COMPOSE["services"]["sandbox"]
    program, *argv = service["command"]
    assert program == "bedrock-rft"
    assert service["entrypoint"] == []  # bypass the image's `airflow` entrypoint
    args = build_parser().parse_args(argv)
    assert args.handler is sandbox.run
    assert (args.host, args.port) == ("0.0.0.0", 4566)
    assert service["profiles"] == ["sandbox"]
    default_conn = COMPOSE["services"]["airflow-triggerer"]["environment"]["AIRFLOW_CONN_AWS_DEFAULT"]
    match = re.fullmatch(r"\$\{AIRFLOW_CONN_AWS_DEFAULT:-(.*)\}", default_conn)
    assert match, "the AWS connection must be overridable from the environment"
    assert json.loads(match.group(1))["extra"]["endpoint_url"] == f"http://sandbox:{args.port}"


def test_image_installs_this_project_pinned_to_the_lock_file() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    run = re.search(r"RUN pip install (.+?)(?:\n\S|\Z)", DOCKERFILE, re.S)
    assert run, "no pip install line"
    words = shlex.split(run.group(1).replace("\\\n", " "))
    project = next(w for w in words if w.startswith("/opt/bedrock-rft"))
    extras = re.fullmatch(r"/opt/bedrock-rft\[(.+)\]", project)
    assert extras and set(extras.group(1).split(",")) <= set(pyproject["project"]["optional-dependencies"])
    for source in ("pyproject.toml", "provider", "constraints"):
        assert re.search(rf"COPY .*\b{source}\b.* /opt/bedrock-rft", DOCKERFILE), f"{source} is not copied"
        assert (REPO / source).exists()
    constraint = words[words.index("--constraint") + 1]
    constraints_file = REPO / constraint.removeprefix("/opt/bedrock-rft/")
    pins = dict(line.split("==", 1) for line in constraints_file.read_text().splitlines() if "==" in line)
    airflow_version = re.search(r"ARG AIRFLOW_VERSION=(\S+)", DOCKERFILE)
    assert airflow_version and pins["apache-airflow"] == airflow_version.group(1)
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in DOCKERFILE


def test_readme_compose_commands_match_the_file() -> None:
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"^\s*(?:\S+=\S+\s+)*docker compose .+$", readme, re.M)
    assert commands, "the README shows no docker compose command"
    profiles = {p for s in COMPOSE["services"].values() for p in s.get("profiles", [])}
    for command in commands:
        for profile in re.findall(r"--profile (\S+)", command):
            assert profile in profiles, command
        for service in re.findall(r"docker compose (?:logs|exec|run) (?:-\S+ )*(\S+)", command):
            assert service in COMPOSE["services"], command
    assert "http://localhost:8080" in readme
    assert any("4566:4566" in p for p in COMPOSE["services"]["sandbox"]["ports"])
