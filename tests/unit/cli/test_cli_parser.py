"""The CLI builds only the parser of the command it runs (its module alone is imported)."""

from __future__ import annotations

import argparse

from bedrock_rft_provider.cli import COMMANDS, build_parser


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    (subparsers,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(subparsers.choices)


def test_a_named_command_registers_only_its_own_module() -> None:
    assert _commands(build_parser(["prepare-data", "--source", "gsm8k"])) == {"validate-data", "prepare-data"}
    args = build_parser(["prepare-data"]).parse_args(
        ["prepare-data", "--source", "gsm8k", "--input", "in.jsonl", "--output", "out"]
    )
    assert args.command == "prepare-data" and args.input_uri == "in.jsonl"


def test_no_command_or_an_option_first_builds_every_command() -> None:
    assert _commands(build_parser()) == set(COMMANDS)
    assert _commands(build_parser(["--help"])) == set(COMMANDS)
    assert _commands(build_parser(["no-such-command"])) == set(COMMANDS)
