"""``bedrock-rft sandbox`` (run the local sandbox) and ``bedrock-rft sandbox-bootstrap`` (prepare one)."""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
from typing import Any
from urllib.parse import urlsplit


def register(subparsers: Any) -> None:
    """Add the ``sandbox`` subcommand (each flag overrides its ``BEDROCK_RFT_SANDBOX_*`` env var)."""
    parser = subparsers.add_parser(
        "sandbox",
        help="run the local AWS sandbox (moto + emulated Bedrock RFT) in the foreground",
        description="Serve S3, IAM, STS, SSM and Lambda (moto) plus an emulated Bedrock and Bedrock Runtime "
        "on one local endpoint. Training dynamics and model answers are simulated.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port (default 5000; 0 picks a free port)")
    parser.add_argument("--time-scale", type=float, help="multiplier of nominal durations; 0 = fastest")
    parser.add_argument("--latency-ms", help="injected latency per API, e.g. 'Converse=200,*=10'")
    parser.add_argument("--throttle-rate", help="ThrottlingException share per API, e.g. 'Converse=0.2'")
    parser.add_argument("--fail-jobs", help="force jobs matching GLOB[@STAGE] to fail")
    parser.add_argument("--seed", type=int, help="seed of the simulated policies and throttling")
    parser.add_argument("--max-training-steps", type=int, help="cap on emulated training steps")
    parser.add_argument("--max-validation-records", type=int, help="validation prompts scored per evaluation")
    parser.add_argument("--grader-batch-size", type=int, help="samples per reward Lambda invocation")
    parser.add_argument("--base-models", help="comma-separated base model ids the sandbox serves")
    parser.add_argument(
        "--allowed-origins", help="browser origins allowed to call the sandbox (default: none; '*' = any)"
    )
    parser.add_argument(
        "--api-keys", help="bearer keys the OpenAI-compatible API under /v1 accepts (comma-separated)"
    )
    parser.add_argument("--max-request-mb", type=float, help="cap on one request body in MiB (default 128)")
    parser.add_argument("--read-timeout-s", type=float, help="drop connections idle this long (default 60)")
    parser.add_argument(
        "--judge-accuracy", type=float, help="how often the simulated LLM judge agrees with the reference"
    )
    parser.add_argument(
        "--bootstrap",
        action="store_true",
        help="prepare it for your DAGs once started: bucket(s), Bedrock service role, grader role",
    )
    _bucket_option(parser)
    parser.set_defaults(handler=run)

    bootstrap = subparsers.add_parser(
        "sandbox-bootstrap",
        help="prepare a running sandbox for your DAGs and print the Airflow connection line",
        description="Create the bucket(s), the Bedrock service role and the grader role in a running "
        "sandbox (idempotent), then print AIRFLOW_CONN_AWS_DEFAULT with the dummy credentials it accepts.",
    )
    bootstrap.add_argument(
        "--endpoint-url", required=True, type=_endpoint_url, help="the sandbox, e.g. http://127.0.0.1:5000"
    )
    _bucket_option(bootstrap)
    bootstrap.set_defaults(handler=run_bootstrap)


def _bucket_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bucket",
        action="append",
        dest="buckets",
        type=_bucket_name,
        metavar="NAME",
        help="bucket to create (repeatable; default bedrock-rft-demo, the example DAGs' bucket)",
    )


# The bucket part of the operators' S3 URI check: a bucket they would refuse is a usage error here
# (exit 2), not a bucket the sandbox creates and every task then rejects.
BUCKET_NAME = re.compile(r"[a-z0-9][-.a-z0-9]{1,61}[a-z0-9]")


def _bucket_name(value: str) -> str:
    if not BUCKET_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an S3 bucket name (3-63 lowercase letters, digits, '.' or '-')"
        )
    return value


def _endpoint_url(value: str) -> str:
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL, e.g. http://127.0.0.1:5000")
    return value


def run_bootstrap(args: argparse.Namespace) -> int:
    """Prepare the sandbox at ``--endpoint-url``; exit 1 when it cannot be reached."""
    from botocore.exceptions import BotoCoreError, ClientError

    from bedrock_rft_provider.sandbox.bootstrap import DEFAULT_BUCKET, bootstrap_sandbox

    try:
        resources = bootstrap_sandbox(args.endpoint_url, args.buckets or [DEFAULT_BUCKET])
    except (BotoCoreError, ClientError, ValueError) as exc:
        print(f"bedrock-rft sandbox-bootstrap: cannot prepare {args.endpoint_url}: {exc}", file=sys.stderr)
        return 1
    print("\n".join(resources.shell_lines()), flush=True)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Start the sandbox, print its endpoint and what is real vs simulated, serve until Ctrl-C."""
    from bedrock_rft_provider.sandbox.config import SandboxConfig
    from bedrock_rft_provider.sandbox.server import BANNER, Sandbox

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = SandboxConfig.from_env(
            time_scale=args.time_scale,
            latency_ms=args.latency_ms,
            throttle_rate=args.throttle_rate,
            fail_jobs=args.fail_jobs,
            seed=args.seed,
            max_training_steps=args.max_training_steps,
            max_validation_records=args.max_validation_records,
            grader_batch_size=args.grader_batch_size,
            base_models=args.base_models,
            allowed_origins=args.allowed_origins,
            api_keys=args.api_keys,
            max_request_mb=args.max_request_mb,
            read_timeout_s=args.read_timeout_s,
            judge_accuracy=args.judge_accuracy,
        )
    except ValueError as exc:
        print(f"bedrock-rft sandbox: {exc}", file=sys.stderr)
        return 2
    sandbox = Sandbox(host=args.host, port=args.port, config=config)
    # `docker stop` and process managers send SIGTERM: stop jobs and Lambda workers cleanly.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        sandbox.start()
    except OSError as exc:
        print(f"bedrock-rft sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(BANNER, flush=True)
    print(f"\nendpoint: {sandbox.endpoint_url}", flush=True)
    print(f"airflow:  AIRFLOW_CONN_AWS_DEFAULT='{sandbox.airflow_conn_uri()}'", flush=True)
    print(
        f"openai:   base_url={sandbox.openai_base_url} api_key={sandbox.api_key} "
        "(or a short-term Bedrock API key made from the credentials above)",
        flush=True,
    )
    if args.bootstrap:
        from bedrock_rft_provider.sandbox.bootstrap import DEFAULT_BUCKET, bootstrap_sandbox

        resources = bootstrap_sandbox(sandbox.endpoint_url, args.buckets or [DEFAULT_BUCKET])
        print("\n".join(resources.shell_lines()[1:]), flush=True)
    else:
        print("          (empty: no bucket, no roles; add --bootstrap to create them)", flush=True)
    print(
        f"knobs:    time_scale={config.time_scale} seed={config.seed} "
        f"max_training_steps={config.max_training_steps} (Ctrl-C to stop)",
        flush=True,
    )
    try:
        sandbox.serve()
    except KeyboardInterrupt:
        sandbox.stop()
    return 0
