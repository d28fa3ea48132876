"""``bedrock-rft forecast``: spend forecast of a run (0 within caps, 1 bad input or over a cap, 2 usage)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PROG = "bedrock-rft forecast"


def _json_object(value: str) -> dict[str, Any]:
    """A JSON object given inline or as ``@path``."""
    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"cannot read {value[1:]}: {exc.strerror or exc}") from None
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, got {type(parsed).__name__}")
    return parsed


def register(subparsers: Any) -> None:
    """Add the ``forecast`` parser."""
    parser = subparsers.add_parser(
        "forecast",
        help="forecast a run's spend (grader invocations, GB-s, tokens, hours, money) and check caps",
        description=(
            "Forecast what an RFT run will spend, from a prepared dataset (prepare-data's output folder "
            "or its report.json), the hyperparameters and a measured grader run (the preflight report, "
            "or test-reward --output). Money only for the components --prices prices: no prices ship. "
            "Exit 0 within the caps, 1 on bad input or a forecast over a cap, 2 usage."
        ),
    )
    parser.add_argument(
        "--dataset", required=True, metavar="PATH", help="prepare-data output dir or report.json"
    )
    parser.add_argument(
        "--base-model-id", default="amazon.nova-2-lite-v1:0:256k", help="model to tune (picks the backend)"
    )
    parser.add_argument("--backend", default=None, help="auto (default), native or open-weight")
    parser.add_argument(
        "--hyperparameters", type=_json_object, default={}, metavar="JSON", help="JSON object or @file"
    )
    parser.add_argument(
        "--preflight", metavar="PATH", help="preflight report or test-reward --output (measured latency)"
    )
    parser.add_argument("--memory-mb", type=int, default=512, help="grader Lambda memory (default 512)")
    parser.add_argument(
        "--prices", type=_json_object, default={}, metavar="JSON", help="price table or @file"
    )
    parser.add_argument(
        "--assumptions", type=_json_object, default={}, metavar="JSON", help="forecast assumptions or @file"
    )
    parser.add_argument("--max-budget", metavar="MONEY", help="cap: money, in the prices' currency")
    parser.add_argument("--max-training-hours", metavar="HOURS", help="cap: training hours")
    parser.add_argument("--max-grader-invocations", metavar="N", help="cap: grader invocations")
    parser.add_argument("--json", action="store_true", help="print the forecast as JSON")
    parser.set_defaults(handler=run)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _read_json(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in ``path``; ValueError naming the file for anything else (OSError as raised)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: the {what} is not valid UTF-8") from None
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"{path}: the {what} is JSON nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"{path}: the {what} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the {what} must be a JSON object, got {type(data).__name__}")
    return data


def run(args: argparse.Namespace) -> int:
    """Print the forecast; exit 1 when an input is invalid or the forecast is over a cap."""
    from bedrock_rft_provider.errors import BedrockRFTError, ConfigError
    from bedrock_rft_provider.jobs.backends import catalog_note, choose_backend
    from bedrock_rft_provider.jobs.budget import SpendCapExceeded, SpendCaps, check_caps, unchecked_caps
    from bedrock_rft_provider.jobs.forecast import ForecastAssumptions, forecast_spend
    from bedrock_rft_provider.jobs.prices import PriceTable
    from bedrock_rft_provider.jobs.spend import forecast_inputs
    from bedrock_rft_provider.jobs.validation import check_base_model

    dataset = Path(args.dataset)
    report_path = dataset / "report.json" if dataset.is_dir() else dataset
    try:
        caps = SpendCaps.from_params(
            {
                "max_budget": args.max_budget,
                "max_training_hours": args.max_training_hours,
                "max_grader_invocations": args.max_grader_invocations,
            }
        )
        prices = PriceTable.from_dict(args.prices)
        assumptions = ForecastAssumptions.from_dict(args.assumptions)
        check_base_model("base_model_id", args.base_model_id)
        backend = choose_backend(args.base_model_id, args.backend)
        model_note = catalog_note(args.base_model_id)
        dataset_report = _read_json(report_path, "dataset report")
        preflight = _read_json(Path(args.preflight), "preflight report") if args.preflight else None
        try:
            inputs = forecast_inputs(
                backend=backend,
                hyperparameters=args.hyperparameters,
                dataset_report=dataset_report,
                preflight_report=preflight,
                grader_memory_mb=args.memory_mb,
            )
        except ConfigError as exc:
            if exc.field == "dataset_report":
                raise ValueError(f"{report_path}: {exc.message}") from None
            raise
        forecast = forecast_spend(inputs, assumptions, prices)
    except (BedrockRFTError, TypeError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"{PROG}: cannot read {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except ValueError as exc:  # a report that is not a JSON object, or lacks the dataset counts
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    result = forecast.as_dict()
    if model_note:
        result["notes"] = [*result.get("notes", []), model_note]
    print(json.dumps(result, indent=2) if args.json else "\n".join(forecast.lines()))
    if model_note and not args.json:
        print(f"  note: {model_note}")
    try:
        check_caps(result, caps)
    except SpendCapExceeded as exc:
        print(f"{PROG}: over a cap:", file=sys.stderr)
        print("\n".join(f"  - {p}" for p in exc.problems), file=sys.stderr)
        return EXIT_FAILED
    except BedrockRFTError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if caps.any:
        unchecked = unchecked_caps(result, caps)
        for line in unchecked:
            print(f"  {line}")
        # "within the caps" only when each cap was checked: an unknown quantity is not within anything.
        print("within the checked caps" if unchecked else "within the caps")
    return EXIT_OK
