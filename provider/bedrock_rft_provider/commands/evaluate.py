"""``bedrock-rft evaluate``: score precomputed responses with a reward and write the evaluation outputs."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``evaluate`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "evaluate",
        help="score precomputed responses and write summary.json, results.jsonl, report.md, report.html",
        description="Score precomputed responses ({'id', 'response'} per line, joined on the test set's "
        "record id) with a reward, optionally against a baseline's responses on the same prompts.",
    )
    parser.add_argument("--dataset", required=True, help="test set JSONL (RFT format, one record per line)")
    parser.add_argument("--responses", required=True, help="responses JSONL of the model under test")
    parser.add_argument("--reward", required=True, help="the reward as MODULE:FUNCTION")
    parser.add_argument("--output", required=True, help="output directory")
    parser.add_argument("--baseline-responses", help="responses JSONL of the baseline on the same prompts")
    parser.add_argument(
        "--success-threshold", type=float, default=1.0, help="score counted as correct (default 1.0)"
    )
    parser.add_argument("--slice-field", help="metadata field for per-slice accuracy (auto-detected)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the evaluation; exit 0 on success, 1 on invalid input or a broken reward."""
    from bedrock_rft_provider.errors import BedrockRFTError
    from bedrock_rft_provider.evaluation.pipeline import WRITTEN_FILES, evaluate
    from bedrock_rft_provider.evaluation.scoring import reward_grader
    from bedrock_rft_provider.outputs import staged_dir
    from bedrock_rft_provider.rewards.runner import RewardSpecError, split_reward_spec

    try:
        split_reward_spec(args.reward)
    except RewardSpecError as exc:
        print(f"bedrock-rft evaluate: {exc}", file=sys.stderr)
        return 2
    if not math.isfinite(args.success_threshold):
        print(f"bedrock-rft evaluate: --success-threshold {args.success_threshold} is not a finite number",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        grader = reward_grader(args.reward)
        # All or nothing: the outputs are written into a new folder that replaces --output only when
        # the whole evaluation succeeded; a failed run leaves --output as it was (and no empty folders).
        with staged_dir(args.output, WRITTEN_FILES) as staging:
            summary = evaluate(
                dataset_path=args.dataset,
                responses_path=args.responses,
                grader=grader,
                output_dir=staging,
                baseline_responses_path=args.baseline_responses,
                success_threshold=args.success_threshold,
                seed=args.seed,
                slice_field=args.slice_field,
            )
    except (BedrockRFTError, OSError) as exc:
        print(f"bedrock-rft evaluate: {exc}; nothing was written", file=sys.stderr)
        return 1
    ci = summary["ci95"]
    print(
        f"n={summary['n']} mean_reward={summary['mean_reward']:.4f} "
        f"(95% CI {ci[0]:.4f}..{ci[1]:.4f}) accuracy={summary['accuracy']:.4f}"
    )
    if "delta" in summary:
        delta_ci = summary.get("delta_ci95") or [float("nan")] * 2
        print(
            f"baseline mean_reward={summary['baseline']['mean_reward']:.4f} delta={summary['delta']:+.4f} "
            f"(95% CI {delta_ci[0]:+.4f}..{delta_ci[1]:+.4f}) p={summary.get('p_value')}"
        )
    print(f"wrote summary.json, results.jsonl, report.md, report.html to {args.output}")
    return 0
