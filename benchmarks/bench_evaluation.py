"""Evaluation inference throughput: achieved requests/s vs the bound concurrency / latency.

Runs the real ``ConverseRunner`` against the Bedrock RFT sandbox (``bedrock_rft_provider.sandbox``,
started in a child process on 127.0.0.1 so that its request handling does not share this process's
GIL) with 100 ms injected Converse latency, at concurrency 1, 8 and 32, then at concurrency 32 with
10% injected throttling. Baseline, measured in the same run: the bound ``concurrency / latency``
(nominal 100 ms, and the per-request latency actually measured at concurrency 1).
Targets (issue 17): >= 97% of the nominal bound at 8 and 32; with throttling, every prompt answered, none
lost (the run exits 1 only for a lost, duplicated or unanswered prompt). To show what eats the margin,
each row also gives the CPU milliseconds per request spent by this process (the client: botocore,
the runner, the output file) and by the sandbox child, how far the measured per-request latency at
concurrency 1 sits above the injected 100 ms, the mean latency the client saw per request, and the
share of the run the slots spent inside a request (the rest: between requests, start-up and tail).

    .venv/bin/python benchmarks/bench_evaluation.py [--requests-per-slot 40] [--in-process]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from botocore.config import Config

from bedrock_rft_provider.evaluation.inference import ConverseRunner, InferenceStats
from bedrock_rft_provider.evaluation.records import EvalRecord
from rows import emit  # benchmarks/ is on sys.path: these files run as scripts

LATENCY_S = 0.100
TARGET_RATIO = 0.97
MODEL_ID = "amazon.nova-2-lite-v1:0"
REPO_ROOT = Path(__file__).resolve().parents[1]


def records(n: int, tag: str) -> list[EvalRecord]:
    return [
        EvalRecord(f"{tag}-{i:05d}", [{"role": "user", "content": f"{tag}: what is {i} + {i}?"}], str(2 * i))
        for i in range(n)
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sandbox_endpoint(
    throttle_rate: float, in_process: bool, latency: str = f"Converse={LATENCY_S * 1000:.0f}"
) -> Iterator[tuple[str, int]]:
    """A sandbox with 100 ms Converse latency (or ``latency``, per API, and optional throttling);
    yields its URL and its PID."""
    throttle = f"Converse={throttle_rate}" if throttle_rate else ""
    if in_process:
        from bedrock_rft_provider.sandbox.config import SandboxConfig
        from bedrock_rft_provider.sandbox.server import Sandbox

        config = SandboxConfig.from_env(time_scale=0.0, latency_ms=latency, throttle_rate=throttle or None)
        with Sandbox(config=config) as sandbox:
            yield sandbox.endpoint_url, os.getpid()
        return
    port = free_port()
    cmd = [sys.executable, "-m", "bedrock_rft_provider.cli", "sandbox", "--port", str(port)]
    cmd += ["--time-scale", "0", "--latency-ms", latency]
    if throttle:
        cmd += ["--throttle-rate", throttle]
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if child.poll() is not None:
                raise RuntimeError(f"the sandbox exited with {child.returncode}: {' '.join(cmd)}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("the sandbox did not start listening within 60 s")
        yield f"http://127.0.0.1:{port}", child.pid
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=15)


def runtime_client(endpoint: str, concurrency: int) -> Any:
    import boto3

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    # The same client settings the evaluation hook uses: no botocore retries, a pool per worker.
    config = Config(read_timeout=30, retries={"total_max_attempts": 1}, max_pool_connections=concurrency + 2)
    return session.client("bedrock-runtime", endpoint_url=endpoint, config=config)


def _cpu_s(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def run(
    endpoint: str, sandbox_pid: int, concurrency: int, n: int, tag: str, *, out_dir: Path
) -> tuple[InferenceStats, Path, dict[str, float]]:
    """One timed run; also the CPU ms per request of this process and of the sandbox (same if in-process)."""
    out = out_dir / f"{tag}.jsonl"
    client = runtime_client(endpoint, concurrency)
    # Warm the connection pool and the sandbox's first-request setup outside the timed run.
    client.converse(modelId=MODEL_ID, messages=[{"role": "user", "content": [{"text": "warm up"}]}])
    runner = ConverseRunner(
        client, MODEL_ID, concurrency=concurrency, max_attempts=30, base_delay_s=0.05, max_delay_s=2.0, seed=0
    )
    client_before, sandbox_before = _cpu_s(os.getpid()), _cpu_s(sandbox_pid)
    stats = runner.run(records(n, tag), out)
    calls = max(1, n + stats.retries)
    latencies = [json.loads(line).get("latency_ms") for line in out.read_text().splitlines()]
    answered = [float(ms) for ms in latencies if ms is not None]
    cpu = {
        "client_cpu_ms_per_request": (_cpu_s(os.getpid()) - client_before) * 1000 / calls,
        "sandbox_cpu_ms_per_request": (_cpu_s(sandbox_pid) - sandbox_before) * 1000 / calls,
        # Where a slot's time goes: in a request (the client's mean latency) or between requests.
        "mean_latency_ms": sum(answered) / max(1, len(answered)),
        "slot_busy_share": sum(answered) / 1000 / max(1e-9, stats.elapsed_s * concurrency),
    }
    return stats, out, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests-per-slot", type=int, default=40, help="requests per unit of concurrency")
    parser.add_argument("--in-process", action="store_true", help="run the sandbox in this process")
    args = parser.parse_args()
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    mode = "in-process" if args.in_process else "child process"
    print(
        f"bench_evaluation: ConverseRunner vs the bedrock-rft sandbox ({mode}), "
        f"{LATENCY_S * 1000:.0f} ms injected latency"
    )
    results: dict[str, Any] = {
        "runtime": f"bedrock_rft_provider.sandbox ({mode})",
        "latency_ms": LATENCY_S * 1000,
    }
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(tmp)
        with sandbox_endpoint(0.0, args.in_process) as (endpoint, sandbox_pid):
            measured_latency = LATENCY_S
            for concurrency in (1, 8, 32):
                n = max(20, concurrency * args.requests_per_slot)
                stats, _, cpu = run(endpoint, sandbox_pid, concurrency, n, f"c{concurrency}", out_dir=out_dir)
                if concurrency == 1:
                    measured_latency = 1 / stats.requests_per_s
                bound = concurrency / LATENCY_S
                measured_bound = concurrency / measured_latency
                ratio = stats.requests_per_s / bound
                print(
                    f"  concurrency {concurrency:>2}: {n:>4} requests in {stats.elapsed_s:6.2f} s = "
                    f"{stats.requests_per_s:7.1f} req/s; bound {bound:6.1f} req/s -> {ratio:6.1%} "
                    f"(measured-latency bound {measured_bound:6.1f}: "
                    f"{stats.requests_per_s / measured_bound:6.1%}); CPU per request: client "
                    f"{cpu['client_cpu_ms_per_request']:.2f} ms, "
                    f"sandbox {cpu['sandbox_cpu_ms_per_request']:.2f} ms; mean latency "
                    f"{cpu['mean_latency_ms']:.1f} ms, slots busy {cpu['slot_busy_share']:.1%}"
                )
                results[f"c{concurrency}"] = {
                    "requests": n,
                    "requests_per_s": stats.requests_per_s,
                    "bound_requests_per_s": bound,
                    "ratio_to_bound": round(ratio, 4),
                    "ratio_to_measured_latency_bound": round(stats.requests_per_s / measured_bound, 4),
                    **{k: round(v, 3) for k, v in cpu.items()},
                }
            results["measured_latency_ms_at_c1"] = round(measured_latency * 1000, 2)

        with sandbox_endpoint(0.10, args.in_process) as (endpoint, sandbox_pid):
            n = 32 * args.requests_per_slot
            stats, out, _ = run(endpoint, sandbox_pid, 32, n, "throttled", out_dir=out_dir)
            keys = [(r["id"], r["sample"]) for r in map(json.loads, out.read_text().splitlines())]
            answered = sum(1 for r in map(json.loads, out.read_text().splitlines()) if r.get("response"))
            lost = n - len(set(keys))
            duplicated = len(keys) - len(set(keys))
            print(
                f"  10% throttling, concurrency 32: {n} prompts, {answered} answered, {lost} lost, "
                f"{duplicated} duplicated; {stats.throttles} throttles, {stats.retries} retries, "
                f"lowest adaptive limit {stats.lowest_concurrency_limit}, {stats.requests_per_s:.1f} req/s"
            )
            results["throttled"] = {
                "prompts": n,
                "answered": answered,
                "lost": lost,
                "duplicated": duplicated,
                "throttles": stats.throttles,
                "retries": stats.retries,
                "lowest_concurrency_limit": stats.lowest_concurrency_limit,
                "requests_per_s": stats.requests_per_s,
            }
            ok = ok and lost == 0 and duplicated == 0 and answered == n
    print(json.dumps(results, indent=2))
    for concurrency in (8, 32):
        ratio = results[f"c{concurrency}"]["ratio_to_bound"]
        emit(
            f"evaluation, 100 ms latency, concurrency {concurrency}",
            "concurrency / latency bound",
            f"{ratio:.1%}",
            f">= {TARGET_RATIO:.0%}",
            ratio >= TARGET_RATIO,
        )
    throttled = results["throttled"]
    emit(
        "evaluation, 10% throttling, concurrency 32",
        f"{throttled['prompts']} prompts",
        f"{throttled['lost']} lost, {throttled['duplicated']} duplicated",
        "0 lost",
        ok,
    )
    print("every prompt answered once" if ok else "PROMPTS LOST, DUPLICATED OR UNANSWERED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
