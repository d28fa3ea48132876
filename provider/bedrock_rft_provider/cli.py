"""The ``bedrock-rft`` command line: each subcommand lives in ``bedrock_rft_provider.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Subcommand name -> module in bedrock_rft_provider.commands exposing
# ``register(subparsers)`` (adds the parser) and ``run(args) -> int`` (exit code).
# Modules are imported lazily so `bedrock-rft validate-data` never pays for Airflow or moto imports.
COMMANDS: dict[str, str] = {
    "validate-data": "data",
    "prepare-data": "data",
    "test-reward": "rewards",
    "iam-policy": "rewards",
    "evaluate": "evaluate",
    "sandbox": "sandbox",
    "sandbox-bootstrap": "sandbox",
}


def _command_module(name: str) -> object | None:
    try:
        return importlib.import_module(f"bedrock_rft_provider.commands.{COMMANDS[name]}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("bedrock_rft_provider.commands"):
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bedrock-rft",
        description="Amazon Bedrock Reinforcement Fine-Tuning tools: data, rewards, evaluation, sandbox.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    registered: set[str] = set()
    for name, module_name in COMMANDS.items():
        if module_name in registered:
            continue
        module = _command_module(name)
        if module is not None:
            module.register(subparsers)  # type: ignore[attr-defined]
            registered.add(module_name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bedrock-rft`` console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.error(f"command {args.command!r} is not available in this installation")
    return int(handler(args))


if __name__ == "__main__":
    sys.exit(main())
