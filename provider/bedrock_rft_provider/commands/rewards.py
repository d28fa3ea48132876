"""``bedrock-rft test-reward`` (0 ok, 1 contract broken or reward errors, 2 usage) and ``iam-policy``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return number


def register(subparsers: Any) -> None:
    """Add the ``test-reward`` and ``iam-policy`` parsers."""
    test = subparsers.add_parser(
        "test-reward",
        help="run a reward through the exact Lambda grader contract on sample events",
        description=(
            "Score grader events (one JSON sample per line, as Bedrock sends them) with a reward through "
            "the same handler the Lambda runs; report scores, errors, metrics and latency. "
            "Exit 0 ok, 1 when the contract is broken or the reward raised, 2 usage."
        ),
    )
    test.add_argument(
        "--reward", required=True, metavar="MODULE:FUNC", help="e.g. my_rewards:gsm8k or file.py:fn"
    )
    test.add_argument(
        "--samples",
        required=True,
        metavar="PATH",
        help="JSONL of grader event samples, or sample:gsm8k_events (shipped with the package)",
    )
    test.add_argument("--output", metavar="PATH", help="write the full JSON report (with every result) here")
    test.add_argument(
        "--batch-size", type=_positive, default=64, help="samples per handler call (default 64)"
    )
    test.add_argument(
        "--max-workers", type=_positive, default=None, help="threads per batch (I/O-bound rewards)"
    )
    test.add_argument(
        "--allow-errors", action="store_true", help="exit 0 even when the reward raised on samples"
    )
    test.add_argument(
        "--adversarial",
        action="store_true",
        help="also try built-in reward-hacking responses on the samples; exit 1 if the reward pays for any",
    )
    test.set_defaults(handler=run_test_reward)

    iam = subparsers.add_parser(
        "iam-policy",
        help="print least-privilege IAM policies for the Bedrock service role, the grader and Airflow",
        description="Print trust and permission policies (JSON) for a Bedrock RFT setup.",
    )
    iam.add_argument("--bucket", required=True, help="S3 bucket holding the training data and job output")
    iam.add_argument("--reward-function", required=True, metavar="NAME", help="grader Lambda name or ARN")
    iam.add_argument(
        "--account", metavar="ID", help="12-digit AWS account id (default: ACCOUNT_ID placeholder)"
    )
    iam.add_argument("--region", default="us-east-1", metavar="R", help="AWS region (default us-east-1)")
    iam.add_argument("--judge-model", action="append", default=[], metavar="MODEL_ID", help="LLM-judge model")
    iam.add_argument("--data-prefix", default="", help="key prefix of the training/validation data")
    iam.add_argument("--output-prefix", default="", help="key prefix of the job output")
    iam.add_argument(
        "--open-weight",
        action="store_true",
        help="also let the caller train open-weight models (gpt-oss, Qwen3, Nemotron) through "
        "Bedrock's OpenAI-compatible API (bedrock-mantle actions; they take no resource ARNs)",
    )
    iam.add_argument(
        "--notify-topic",
        action="append",
        default=[],
        metavar="NAME_OR_ARN",
        help="SNS topic the notifier publishes to (the DAG's notify_topic_arn): adds sns:Publish on it",
    )
    iam.set_defaults(handler=run_iam_policy)


def _print_summary(summary: dict[str, Any]) -> None:
    scores, latency = summary["scores"], summary["latency_ms_per_batch"]
    print(f"samples: {summary['n']}  scored: {summary['scored']}  reward errors: {summary['reward_errors']}")
    if scores["mean"] is not None:
        print(
            f"score: mean {scores['mean']:.4f}  min {scores['min']:g}  "
            f"p50 {scores['p50']:g}  max {scores['max']:g}"
        )
        for bin_ in (b for b in scores["histogram"] if b["count"]):
            print(f"  [{bin_['low']:.3g}, {bin_['high']:.3g}]  {bin_['count']}")
    for name, mean in summary["metric_means"].items():
        print(f"metric {name}: mean {mean:.4f}")
    print(
        f"latency per batch of {latency['batch_size']}: p50 {latency['p50']:.2f} ms  "
        f"p99 {latency['p99']:.2f} ms  max {latency['max']:.2f} ms"
    )
    for problem in summary["contract_problems"] + summary["failed_batches"]:
        print(f"CONTRACT: {problem}")


def run_test_reward(args: argparse.Namespace) -> int:
    """Score the samples file with the reward; print the report."""
    from bedrock_rft_provider.rewards.process import ProcessGrader
    from bedrock_rft_provider.rewards.runner import RewardSpecError, load_events, load_reward, score_events
    from bedrock_rft_provider.samples import resolve as resolve_sample

    try:
        samples = resolve_sample(args.samples)  # a path, or sample:NAME shipped with the package
    except ValueError as exc:
        print(f"bedrock-rft test-reward: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        reward = load_reward(args.reward)
        if not callable(reward):
            raise TypeError(f"reward {args.reward!r} is not callable")
        events = load_events(samples)
    except RewardSpecError as exc:
        print(f"bedrock-rft test-reward: {exc}", file=sys.stderr)
        return EXIT_USAGE if exc.usage else EXIT_BROKEN
    except OSError as exc:
        print(
            f"bedrock-rft test-reward: {exc.filename or args.samples}: {exc.strerror or exc}", file=sys.stderr
        )
        return EXIT_BROKEN
    except TypeError as exc:
        print(f"bedrock-rft test-reward: {args.reward}: {exc}", file=sys.stderr)
        return EXIT_BROKEN
    except ValueError as exc:
        print(f"bedrock-rft test-reward: {exc}", file=sys.stderr)
        return EXIT_BROKEN
    if not events:  # a reward checked on nothing has not passed
        print(
            f"bedrock-rft test-reward: {args.samples}: no samples (one JSON sample per line)", file=sys.stderr
        )
        return EXIT_BROKEN
    try:
        # The same process separation as the deployed grader: the reward runs in a worker process.
        handler = ProcessGrader(args.reward, max_workers=args.max_workers)
        handler.start()
    except (RewardSpecError, TypeError, ValueError, OSError) as exc:
        print(f"bedrock-rft test-reward: {args.reward}: {exc}", file=sys.stderr)
        return EXIT_BROKEN
    with handler:
        report = score_events(handler, events, batch_size=args.batch_size)
        attacks = _run_attacks(handler, events) if args.adversarial else []
    summary = report.to_dict()
    _print_summary(summary)
    if args.output:
        from bedrock_rft_provider.outputs import write_file_atomic

        try:
            write_file_atomic(args.output, json.dumps(report.to_dict(include_results=True), indent=2) + "\n")
        except OSError as exc:
            print(
                f"bedrock-rft test-reward: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr
            )
            return EXIT_BROKEN
        print(f"report written to {args.output}")
    if not report.contract_ok:
        print("FAIL: the grader contract is broken", file=sys.stderr)
        return EXIT_BROKEN
    if report.reward_errors and not args.allow_errors:
        print(
            f"FAIL: the reward raised on {report.reward_errors} sample(s) (see the log above): {args.reward}",
            file=sys.stderr,
        )
        return EXIT_BROKEN
    not_applicable = _not_applicable(report.results)
    if report.n and not_applicable == report.n:
        print(
            f"FAIL: the reward applied to none of the {report.n} sample(s) (reward_not_applicable on "
            "every one): it found no reference where it looks for one - check the samples' layout "
            "against the places the reward reads (e.g. code_tests reads metadata.reference_answer, "
            "reference_answer, metadata.test_cases, test_cases)",
            file=sys.stderr,
        )
        return EXIT_BROKEN
    if not_applicable:
        print(f"note: the reward did not apply to {not_applicable} of {report.n} sample(s)")
    paid = [a for a in attacks if a.paid]
    if paid:
        names = ", ".join(f"{a.name} ({a.best_score:g})" for a in paid)
        print(f"FAIL: the reward pays for {len(paid)} reward-hacking attempt(s): {names}", file=sys.stderr)
        return EXIT_BROKEN
    print("OK")
    return EXIT_OK


def _not_applicable(results: list[Any]) -> int:
    from bedrock_rft_provider.rewards.handler import NOT_APPLICABLE_METRIC

    return sum(
        1
        for result in results
        if result
        and any(
            m.get("name") == NOT_APPLICABLE_METRIC and m.get("value") == 1.0
            for m in result.get("metrics_list") or []
            if isinstance(m, dict)
        )
    )


def _run_attacks(handler: Any, events: list[Any]) -> list[Any]:
    from bedrock_rft_provider.rewards.adversarial import run_attacks

    attacks = run_attacks(handler, events)
    for attack in attacks:
        verdict = "PAID" if attack.paid else "ok"
        print(
            f"attack {attack.name}: best score {attack.best_score:g} on {attack.samples} sample(s): {verdict}"
        )
    return attacks


def run_iam_policy(args: argparse.Namespace) -> int:
    """Print the policy bundle as JSON."""
    from bedrock_rft_provider.iam import ACCOUNT_PLACEHOLDER, policy_bundle

    try:
        bundle = policy_bundle(
            bucket=args.bucket,
            reward_function=args.reward_function,
            account=args.account,
            region=args.region,
            judge_models=args.judge_model,
            data_prefix=args.data_prefix,
            output_prefix=args.output_prefix,
            open_weight=args.open_weight,
            notify_topics=args.notify_topic,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(bundle, indent=2))
    if ACCOUNT_PLACEHOLDER in json.dumps(bundle):
        print(
            f"note: replace {ACCOUNT_PLACEHOLDER} with your account id (or pass --account)", file=sys.stderr
        )
    return EXIT_OK
