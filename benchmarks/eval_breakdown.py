"""Where an evaluation request's time goes: client and sandbox timestamps joined per request.

Runs the real ``ConverseRunner`` against a sandbox child with 100 ms injected Converse latency (as
``bench_evaluation`` does) with both sides instrumented; both processes read ``time.monotonic()``, one
clock on one machine, so each request's stamps line up across them. Requests are joined on botocore's
``amz-sdk-invocation-id`` header. Phases of one request (ms; medians, means and p90 per concurrency):

    pre_send      the runner's call starts -> botocore hands the signed request to urllib3 (serialize, sign)
    to_sandbox    -> the request's bytes reached the sandbox's socket (the client's send, GIL waits)
    to_thread     -> the sandbox's thread has the request line (its wake-up, the sandbox's GIL)
    late          -> the sandbox's sleep ended, minus the injected 100 ms (its work + sleep overshoot)
    answer        -> the response is written and flushed (encode, headers, socket write)
    to_client     -> botocore has read the response (the client thread's wake-up, GIL wait, read)
    parse         -> the call returned to the runner (parse, events)
    between       -> the same worker's next call starts (the output line, the runner's loop)

``late`` counts from the sandbox's arrival time (the kernel's receipt; where the sandbox only stamps the
request line, ``to_thread`` is 0 and the thread's wait is in ``to_sandbox``). Also per request: context
switches and CPU of each process, and the cyclic-GC pauses of both. A/B against another checkout:
``PYTHONPATH=<checkout>/provider`` (the sandbox child inherits it). ``BREAKDOWN_SANDBOX_GC=off|freeze``
runs the sandbox without its cyclic GC or with its start-up heap frozen; ``BREAKDOWN_DUMP=<file>`` keeps
the raw stamps.

    .venv/bin/python benchmarks/eval_breakdown.py [--concurrency 1 8 32] [--requests-per-slot 40]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from bedrock_rft_provider.evaluation.inference import ConverseRunner
from bench_evaluation import MODEL_ID, free_port, records, runtime_client  # benchmarks/ is on sys.path

INVOCATION = "amz-sdk-invocation-id"


def gc_pauses() -> list[tuple[int, float]]:
    """(generation, wall seconds) of every cyclic-GC collection in this process from now on."""
    pauses: list[tuple[int, float]] = []
    started = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], time.perf_counter() - started[0]))

    gc.callbacks.append(callback)
    return pauses


def gc_summary(pauses: list[Any]) -> str:
    parts = []
    for gen in (0, 1, 2):
        times = [t for g, t in pauses if g == gen]
        if times:
            parts.append(f"gen{gen} {len(times)}x {sum(times) * 1000:.1f} ms (max {max(times) * 1000:.1f})")
    return ", ".join(parts) or "none"


PHASES = ("pre_send", "to_sandbox", "to_thread", "late", "answer", "to_client", "parse", "between")


def serve(port: int, out: Path, latency: str) -> None:
    """The sandbox child: record (invocation id, arrived, woke, sent) per request; dump them on SIGTERM."""
    import signal

    from bedrock_rft_provider.sandbox import app, keepalive
    from bedrock_rft_provider.sandbox.config import SandboxConfig
    from bedrock_rft_provider.sandbox.server import Sandbox

    stamps: list[tuple[str, float, float, float, float]] = []
    pauses: list[tuple[int, float]] = []
    local = threading.local()
    pace, plain_serve = app.SandboxApp._pace, keepalive.serve

    def timed_pace(self: Any, api: str, arrived: float | None) -> None:
        pace(self, api, arrived)
        local.woke = time.monotonic()

    def timed_serve(handler: Any) -> None:
        local.woke = 0.0
        plain_serve(handler)
        invocation = handler.headers.get(INVOCATION, "")
        stamps.append((invocation, handler.arrived, handler.line_read, local.woke, time.monotonic()))

    def timed_handler_class(*args: Any) -> type[Any]:
        class Timed(plain_handler_class(*args)):  # type: ignore[misc]
            def parse_request(self) -> bool:
                self.line_read = time.monotonic()
                return bool(super().parse_request())

        return Timed

    plain_handler_class = keepalive.handler_class
    app.SandboxApp._pace = timed_pace  # type: ignore[method-assign]
    keepalive.serve = timed_serve
    keepalive.handler_class = timed_handler_class
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    config = SandboxConfig.from_env(time_scale=0.0, latency_ms=latency)
    with Sandbox(port=port, config=config):
        if os.environ.get("BREAKDOWN_SANDBOX_GC") == "freeze":
            gc.freeze()
        elif os.environ.get("BREAKDOWN_SANDBOX_GC") == "off":
            gc.disable()
        pauses = gc_pauses()
        done.wait(600)
    out.write_text(json.dumps({"stamps": stamps, "gc": pauses}))


@contextmanager
def instrumented_sandbox(out: Path, latency: str) -> Iterator[tuple[str, Any]]:
    import socket
    import subprocess

    port = free_port()
    cmd = [sys.executable, __file__, "--serve", str(port), str(out), "--latency", latency]
    child = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", child
    finally:
        child.terminate()
        child.wait(timeout=30)


def client_stamps(client: Any) -> dict[str, dict[str, float]]:
    """Hook botocore's events: start, send, response read, end per invocation id (and thread)."""
    calls: dict[str, dict[str, float]] = {}
    local = threading.local()

    def start(**_: Any) -> None:
        local.t = {"start": time.monotonic(), "thread": threading.get_ident()}

    def send(request: Any, **_: Any) -> None:
        local.t["send"] = time.monotonic()
        calls[request.headers[INVOCATION].decode()] = local.t

    def received(**_: Any) -> None:
        local.t["recv"] = time.monotonic()

    def end(**_: Any) -> None:
        local.t["end"] = time.monotonic()

    events = client.meta.events
    events.register("before-parameter-build.bedrock-runtime.Converse", start)
    events.register("before-send.bedrock-runtime.Converse", send)
    events.register("before-parse.bedrock-runtime.Converse", received)
    events.register("after-call.bedrock-runtime.Converse", end)
    return calls


def breakdown(calls: dict[str, dict[str, float]], served: list[Any], latency_s: float) -> dict[str, Any]:
    phases: dict[str, list[float]] = {p: [] for p in PHASES}
    early: list[float] = []  # answers released sooner than the injected latency after the client sent
    by_thread: dict[float, list[dict[str, float]]] = {}
    for invocation, arrived, line_read, woke, sent in served:
        c = calls.get(invocation)
        if c is None or "end" not in c:
            continue  # the warm-up calls
        phases["pre_send"].append(c["send"] - c["start"])
        phases["to_sandbox"].append(arrived - c["send"])
        if woke - c["send"] < latency_s:
            early.append(woke - c["send"])
        phases["to_thread"].append(line_read - arrived)
        phases["late"].append(woke - arrived - latency_s)
        phases["answer"].append(sent - woke)
        phases["to_client"].append(c["recv"] - sent)
        phases["parse"].append(c["end"] - c["recv"])
        by_thread.setdefault(c["thread"], []).append(c)
    for thread_calls in by_thread.values():
        thread_calls.sort(key=lambda c: c["start"])
        phases["between"] += [b["start"] - a["end"] for a, b in itertools.pairwise(thread_calls)]
    if early:
        print(f"      EARLY: {len(early)} answers released {min(early) * 1000:.1f}+ ms after the send")
    return {
        p: {
            "median_ms": round(statistics.median(v) * 1000, 2),
            "mean_ms": round(statistics.fmean(v) * 1000, 2),
            "p90_ms": round(sorted(v)[int(0.9 * (len(v) - 1))] * 1000, 2),
        }
        for p, v in phases.items()
        if v
    }


def switches(pid: int) -> tuple[int, int]:
    """(voluntary, involuntary) context switches of a process, summed over its live threads."""
    totals = [0, 0]
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that just ended
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches"):
                    totals[0] += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    totals[1] += int(line.split()[1])
    return totals[0], totals[1]


def process_counters(sandbox_pid: int) -> dict[str, tuple[float, float, float]]:
    """(voluntary switches, involuntary switches, CPU seconds) of the client and the sandbox."""
    own = resource.getrusage(resource.RUSAGE_SELF)  # every thread's, the ended workers' too
    cpu = psutil.Process(sandbox_pid).cpu_times()
    return {
        "client": (own.ru_nvcsw, own.ru_nivcsw, own.ru_utime + own.ru_stime),
        "sandbox": (*switches(sandbox_pid), cpu.user + cpu.system),
    }


def per_request(before: dict[str, tuple[float, float, float]], after: dict[str, Any], n: int) -> str:
    parts = []
    for name, (vol, invol, cpu) in before.items():
        vol_now, invol_now, cpu_now = after[name]
        parts.append(
            f"{name} {(vol_now - vol) / n:.1f} voluntary + {(invol_now - invol) / n:.2f} involuntary "
            f"switches, {(cpu_now - cpu) * 1000 / n:.2f} ms CPU"
        )
    return "; ".join(parts)


def measure(concurrency: int, per_slot: int, latency_ms: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        stamps_file = Path(tmp) / "served.json"
        with instrumented_sandbox(stamps_file, f"Converse={latency_ms:.0f}") as (endpoint, child):
            client = runtime_client(endpoint, concurrency)
            calls = client_stamps(client)
            warm_up = {"modelId": MODEL_ID, "messages": [{"role": "user", "content": [{"text": "warm"}]}]}
            threads = [threading.Thread(target=client.converse, kwargs=warm_up) for _ in range(concurrency)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            calls.clear()  # the warm-up's calls (new connections) are not the run's
            n = max(20, concurrency * per_slot)
            runner = ConverseRunner(client, MODEL_ID, concurrency=concurrency, max_attempts=30, seed=0)
            load = os.getloadavg()[0]
            client_gc = gc_pauses()
            before = process_counters(child.pid)
            stats = runner.run(records(n, f"c{concurrency}"), Path(tmp) / "out.jsonl")
            counters = per_request(before, process_counters(child.pid), n)
            gc.callbacks.clear()
        served = json.loads(stamps_file.read_text())
    if os.environ.get("BREAKDOWN_DUMP"):  # the raw stamps, to look at one run's timeline
        Path(os.environ["BREAKDOWN_DUMP"]).write_text(json.dumps({"calls": calls, "served": served}))
    return {
        "concurrency": concurrency,
        "requests_per_s": stats.requests_per_s,
        "ratio_to_bound": round(stats.requests_per_s * latency_ms / 1000 / concurrency, 4),
        "load_1min": round(max(load, os.getloadavg()[0]), 1),
        **breakdown(calls, served["stamps"], latency_ms / 1000),
        "per_request": counters,
        "client_gc": gc_summary(client_gc),
        "sandbox_gc": gc_summary(served["gc"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests-per-slot", type=int, default=40)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--latency", default="Converse=100", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), Path(args.serve[1]), args.latency)
        return 0
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for concurrency in args.concurrency:
        row = measure(concurrency, args.requests_per_slot, args.latency_ms)
        phases = "  ".join(
            f"{p} {row[p]['median_ms']:.2f}/{row[p]['mean_ms']:.2f}/{row[p]['p90_ms']:.2f}"
            for p in PHASES
            if p in row
        )
        print(
            f"c={concurrency:>2} {row['requests_per_s']:5.0f} req/s, {row['ratio_to_bound']:6.1%} of the "
            f"bound, load {row['load_1min']:4.1f} | "
            f"median/mean/p90 ms: {phases}",
            flush=True,
        )
        print(f"      per request: {row['per_request']}", flush=True)
        print(f"      GC pauses: client {row['client_gc']}; sandbox {row['sandbox_gc']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
