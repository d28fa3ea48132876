"""Benchmark: ``prepare_dataset`` on GSM8K-sized records vs a plain json.loads + json.dumps loop.

Run: ``.venv/bin/python benchmarks/bench_prepare.py [--sizes 50000 200000] [--repeats 2]``

Input: the real GSM8K train set (../shared/data/gsm8k/train.jsonl) replicated to N records, each copy
with a fresh ``id`` and a short copy marker in the question (so duplicate-prompt removal keeps every
record and the work is end to end); the synthetic generator stands in when GSM8K is absent.
Every run is a separate child process; its peak RSS comes from ``os.wait4`` (the child's own rusage).
Baseline (same run, same input): a loop that reads each line, ``json.loads`` it and ``json.dumps``
the result — no validation, hashing, splitting or writing. Targets (issue 17): prepare no slower than the
baseline (<= 1.0x), and peak RSS growing by <= 3 MiB from 50,000 to 200,000 records.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rows import emit  # benchmarks/ is on sys.path: these files run as scripts

REPO = Path(__file__).resolve().parents[1]
GSM8K_TRAIN = REPO.parent / "shared" / "data" / "gsm8k" / "train.jsonl"
TARGET_RATIO = 1.0  # issue 17: faster than the naive loop, with all validation, dedupe, split, hashing
TARGET_RSS_GROWTH_MIB = 3.0


def _base_records() -> tuple[list[dict[str, Any]], str]:
    if GSM8K_TRAIN.exists():
        lines = GSM8K_TRAIN.read_text().splitlines()
        return [json.loads(line) for line in lines], f"GSM8K train ({len(lines)} records, replicated)"
    sys.path.insert(0, str(REPO / "provider"))
    from bedrock_rft_provider.data.synthetic import generate

    return [{"question": p["question"], "answer": p["answer"]} for p in generate(7473, 0)], "synthetic"


def write_input(path: Path, size: int, base: list[dict[str, Any]]) -> None:
    """``size`` GSM8K raw lines: copies of ``base`` with fresh ids and a per-copy question marker."""
    with open(path, "w") as handle:
        for index in range(size):
            raw = base[index % len(base)]
            copy = index // len(base)
            question = raw["question"] if copy == 0 else f"{raw['question']} (variant {copy})"
            record = {"id": f"bench-{index:07d}", "question": question, "answer": raw["answer"]}
            handle.write(json.dumps(record) + "\n")


def child_baseline(input_path: str) -> dict[str, Any]:
    """The baseline: json.loads and json.dumps every line, nothing else."""
    started = time.perf_counter()
    count = 0
    with open(input_path, "rb") as handle:
        for line in handle:
            json.dumps(json.loads(line))
            count += 1
    return {"records": count, "seconds": time.perf_counter() - started}


def child_prepare(input_path: str, output_dir: str) -> dict[str, Any]:
    """The real thing: convert, validate, dedupe, split and write atomically to local files."""
    from bedrock_rft_provider.data import PrepareOptions, prepare_dataset

    started = time.perf_counter()
    result = prepare_dataset(
        "gsm8k", input_path, output_dir, options=PrepareOptions(min_records=None, max_records=None)
    )
    seconds = time.perf_counter() - started
    kept = sum(result.counts[s] for s in ("train", "validation", "test"))
    return {"records": result.counts["read"], "kept": kept, "seconds": seconds}


def run_child(args: list[str]) -> dict[str, Any]:
    """Run this script as a child; returns its JSON result plus its own peak RSS (MiB)."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"child {args} failed with exit code {process.returncode}")
    result: dict[str, Any] = json.loads(output)
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--repeats", type=int, default=2, help="runs per measurement; the fastest counts")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *paths = args.child
        print(json.dumps(child_baseline(*paths) if kind == "baseline" else child_prepare(*paths)))
        return 0

    base, description = _base_records()
    print(f"input: {description}; {os.cpu_count()} CPU(s); best of {args.repeats} run(s), each in a child")
    header = (
        f"{'records':>9} | {'baseline s':>10} {'rec/s':>9} {'RSS MiB':>8} | {'prepare s':>9} {'rec/s':>9}"
    )
    print(f"{header} {'RSS MiB':>8} | {'ratio':>5}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp:
        for size in args.sizes:
            input_path = Path(tmp) / f"gsm8k-{size}.jsonl"
            write_input(input_path, size, base)
            runs: dict[str, dict[str, Any]] = {}
            for kind in ("baseline", "prepare"):
                results = []
                for repeat in range(args.repeats):
                    extra = [str(Path(tmp) / f"out-{size}-{repeat}")] if kind == "prepare" else []
                    results.append(run_child([kind, str(input_path), *extra]))
                best = min(results, key=lambda r: r["seconds"])
                best["peak_rss_mib"] = max(r["peak_rss_mib"] for r in results)
                runs[kind] = best
            baseline, prepare = runs["baseline"], runs["prepare"]
            assert prepare["kept"] == size, f"expected every record kept, got {prepare['kept']}"
            ratio = prepare["seconds"] / baseline["seconds"]
            rows.append({"records": size, "baseline": baseline, "prepare": prepare, "ratio": ratio})
            print(
                f"{size:>9} | {baseline['seconds']:>10.2f} {size / baseline['seconds']:>9.0f} "
                f"{baseline['peak_rss_mib']:>8.1f} | {prepare['seconds']:>9.2f} "
                f"{size / prepare['seconds']:>9.0f} {prepare['peak_rss_mib']:>8.1f} | {ratio:>5.2f}x"
            )
    worst = max(row["ratio"] for row in rows)
    small, large = rows[0], rows[-1]
    growth = large["prepare"]["peak_rss_mib"] - small["prepare"]["peak_rss_mib"]
    print(
        f"prepare / baseline time: worst {worst:.2f}x (target <= {TARGET_RATIO:.0f}x: "
        f"{'met' if worst <= TARGET_RATIO else 'MISSED'}); peak RSS {small['records']:,} -> "
        f"{large['records']:,} records: {small['prepare']['peak_rss_mib']:.1f} -> "
        f"{large['prepare']['peak_rss_mib']:.1f} MiB "
        f"({growth:+.1f} MiB: the two KeySets of 64-bit prompt and id digests are the only per-record state)"
    )
    emit(
        f"prepare-data gsm8k, {large['records']:,} records (worst size)",
        "stdlib json.loads+dumps loop",
        f"{worst:.2f}x",
        f"<= {TARGET_RATIO:.1f}x",
        worst <= TARGET_RATIO,
    )
    emit(
        f"peak RSS growth {small['records']:,} -> {large['records']:,} records",
        "-",
        f"{growth:+.1f} MiB",
        f"<= {TARGET_RSS_GROWTH_MIB:.0f} MiB",
        growth <= TARGET_RSS_GROWTH_MIB,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
