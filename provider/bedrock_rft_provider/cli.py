"""The ``bedrock-rft`` command line: each subcommand lives in ``bedrock_rft_provider.commands``.

Exit codes, the same for every command: 0 success; 1 an input (data file, responses, reward module,
output location) is invalid, unreadable or unwritable, or the run failed; 2 usage (bad arguments or
options); 130 interrupted (Ctrl-C). Failures print one line ``bedrock-rft COMMAND: INPUT: cause`` on
stderr, never a traceback, and leave no partial outputs behind. User code (a reward) cannot choose the
exit code: a reward calling ``sys.exit`` is reported as a failure of that reward (exit 1).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Subcommand name -> module in bedrock_rft_provider.commands exposing
# ``register(subparsers)`` (adds the parser) and ``run(args) -> int`` (exit code).
# Modules are imported lazily so `bedrock-rft validate-data` never pays for Airflow or moto imports.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

COMMANDS: dict[str, str] = {
    "validate-data": "data",
    "prepare-data": "data",
    "preview-invocation-logs": "logs",
    "test-reward": "rewards",
    "iam-policy": "rewards",
    "evaluate": "evaluate",
    "forecast": "forecast",
    "sandbox": "sandbox",
    "sandbox-bootstrap": "sandbox",
    "events-setup": "events",
}


def _command_module(name: str) -> object | None:
    try:
        return importlib.import_module(f"bedrock_rft_provider.commands.{COMMANDS[name]}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("bedrock_rft_provider.commands"):
            return None
        raise


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The full parser; given ``argv`` naming a command, only that command's (its module alone is
    imported: ``bedrock-rft prepare-data`` does not pay for every other command's imports)."""
    parser = argparse.ArgumentParser(
        prog="bedrock-rft",
        description="Amazon Bedrock Reinforcement Fine-Tuning tools: data, rewards, evaluation, sandbox.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    registered: set[str] = set()
    wanted = argv[0] if argv and argv[0] in COMMANDS else None
    for name, module_name in COMMANDS.items():
        if module_name in registered or (wanted is not None and name != wanted):
            continue
        module = _command_module(name)
        if module is not None:
            module.register(subparsers)  # type: ignore[attr-defined]
            registered.add(module_name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bedrock-rft`` console script; returns the process exit code."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.error(f"command {args.command!r} is not available in this installation")
    prog = f"bedrock-rft {args.command}"
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # our handlers return codes: this came from user code (a reward)
        reward = getattr(args, "reward", None) or "the reward"
        print(
            f"{prog}: {reward} called sys.exit({exc.code!r}); a reward must return a score", file=sys.stderr
        )
        return EXIT_FAILED
    except RecursionError:
        print(f"{prog}: an input is nested too deeply to process", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # a last guard: one line naming the cause, never a traceback
        print(f"{prog}: {type(exc).__name__}: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_FAILED


def _one_line(text: str, limit: int = 500) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


if __name__ == "__main__":
    sys.exit(main())
