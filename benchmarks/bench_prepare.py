"""Benchmark: ``prepare_dataset`` on GSM8K-sized records vs a plain json.loads + json.dumps loop.

Run: ``.venv/bin/python benchmarks/bench_prepare.py [--sizes 50000 200000] [--repeats 3]``

Input: the real GSM8K train set (../shared/data/gsm8k/train.jsonl) replicated to N records, each copy
with a fresh ``id`` and a short copy marker in the question (so duplicate-prompt removal keeps every
record and the work is end to end); the synthetic generator stands in when GSM8K is absent.
Every run is a separate child process, the three kinds interleaved and the median kept (the machine is
shared); peak RSS comes from ``os.wait4`` (the child's own rusage), whole-process time from the parent.
Each size also prints CPU-time ratios (user+sys: ``time.process_time`` in-process, the child's rusage
whole), which move less than wall time when other jobs share the cores.
Baseline (same run, same input): a loop that reads each line, ``json.loads`` it and ``json.dumps``
the result — no validation, hashing, splitting or writing; as a whole process it is ``python -c`` with
that loop (it imports only ``json`` and ``sys``). Our modules are compiled to bytecode first, as an
installed package is: with ``PYTHONDONTWRITEBYTECODE`` set, an editable checkout would otherwise
recompile every module from source in each CLI child (~0.1 s of CPU). Targets (issue 17): prepare no
slower than the baseline (<= 1.0x, in-process and as whole processes: ``bedrock-rft prepare-data`` vs
python + the loop), and peak RSS growing by <= 3 MiB from 50,000 to 200,000 records.
"""

from __future__ import annotations

import argparse
import compileall
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


#: The whole-process baseline: python, ``import json``, the loop (``child_baseline``'s, untimed).
BASELINE_LOOP = """import json, sys
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        json.dumps(json.loads(line))
"""


def child_baseline(input_path: str) -> dict[str, Any]:
    """The baseline: json.loads and json.dumps every line, nothing else."""
    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    with open(input_path, "rb") as handle:
        for line in handle:
            json.dumps(json.loads(line))
            count += 1
    return {"records": count, "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu}


def child_prepare(input_path: str, output_dir: str) -> dict[str, Any]:
    """The real thing: convert, validate, dedupe, split and write atomically to local files."""
    from bedrock_rft_provider.data import PrepareOptions, prepare_dataset

    started, cpu = time.perf_counter(), time.process_time()
    result = prepare_dataset(
        "gsm8k", input_path, output_dir, options=PrepareOptions(min_records=None, max_records=None)
    )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    kept = sum(result.counts[s] for s in ("train", "validation", "test"))
    return {"records": result.counts["read"], "kept": kept, "seconds": seconds, "cpu": cpu}


def run_child(args: list[str], command: list[str] | None = None) -> dict[str, Any]:
    """Run this script (or ``command``) as a child; its JSON result plus its own peak RSS (MiB) and its
    whole-process wall time (interpreter start to exit, as the parent saw it)."""
    argv = command or [sys.executable, __file__, "--child", *args]
    started = time.perf_counter()
    stderr = subprocess.DEVNULL if command else None  # the CLI's progress lines
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=REPO)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"child {argv} failed with exit code {process.returncode}")
    result: dict[str, Any] = json.loads(output) if command is None else {}
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    result["wall"] = wall
    result["cpu_whole"] = usage.ru_utime + usage.ru_stime  # less sensitive to load than wall time
    return result


def _cli(input_path: Path, output: Path) -> list[str]:
    """``bedrock-rft prepare-data --source gsm8k`` as a user runs it (no record bounds, like the bench)."""
    return [
        sys.executable, "-m", "bedrock_rft_provider.cli", "prepare-data", "--source", "gsm8k",
        "--input", str(input_path), "--output", str(output), "--min-records", "0", "--max-records", "none",
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per measurement (median)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *paths = args.child
        print(json.dumps(child_baseline(*paths) if kind == "baseline" else child_prepare(*paths)))
        return 0

    compileall.compile_dir(REPO / "provider" / "bedrock_rft_provider", quiet=1)
    base, description = _base_records()
    load = os.getloadavg()[0]
    print(
        f"input: {description}; {os.cpu_count()} CPU(s), 1-min load {load:.1f}; medians of {args.repeats} "
        "interleaved runs, each in a child (baseline, prepare in-process, `bedrock-rft prepare-data`, "
        "`python -c` with the baseline loop)"
    )
    header = f"{'records':>9} | {'baseline s':>10} {'RSS MiB':>8} | {'prepare s':>9} {'RSS MiB':>8}"
    print(f"{header} | {'ratio':>5} | {'CLI wall s':>10} {'base wall s':>11} {'ratio':>5}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp:
        for size in args.sizes:
            input_path = Path(tmp) / f"gsm8k-{size}.jsonl"
            write_input(input_path, size, base)
            runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "prepare": [], "cli": [], "loop": []}
            for repeat in range(args.repeats):  # interleaved, so load changes hit all three alike
                out = Path(tmp) / f"out-{size}-{repeat}"
                runs["baseline"].append(run_child(["baseline", str(input_path)]))
                runs["prepare"].append(run_child(["prepare", str(input_path), str(out)]))
                runs["cli"].append(run_child([], _cli(input_path, Path(f"{out}-cli"))))
                runs["loop"].append(run_child([], [sys.executable, "-c", BASELINE_LOOP, str(input_path)]))
            baseline, prepare, cli, loop = (_median(runs[k]) for k in ("baseline", "prepare", "cli", "loop"))
            assert prepare["kept"] == size, f"expected every record kept, got {prepare['kept']}"
            ratio = prepare["seconds"] / baseline["seconds"]
            whole = cli["wall"] / loop["wall"]
            rows.append(
                {"records": size, "baseline": baseline, "prepare": prepare, "ratio": ratio, "whole": whole}
            )
            cpu_ratio = _median_of(runs, "prepare", "cpu") / _median_of(runs, "baseline", "cpu")
            cpu_whole = _median_of(runs, "cli", "cpu_whole") / _median_of(runs, "loop", "cpu_whole")
            print(
                f"{size:>9} | {baseline['seconds']:>10.2f} {baseline['peak_rss_mib']:>8.1f} | "
                f"{prepare['seconds']:>9.2f} {prepare['peak_rss_mib']:>8.1f} | {ratio:>5.2f}x | "
                f"{cli['wall']:>10.2f} {loop['wall']:>11.2f} {whole:>5.2f}x"
            )
            print(f"{'':>9}   CPU (user+sys): {cpu_ratio:.2f}x in-process, {cpu_whole:.2f}x whole process")
    worst = max(row["ratio"] for row in rows)
    whole_worst = max(row["whole"] for row in rows)
    small, large = rows[0], rows[-1]
    growth = large["prepare"]["peak_rss_mib"] - small["prepare"]["peak_rss_mib"]
    print(
        f"prepare / baseline time: worst {worst:.2f}x in-process, {whole_worst:.2f}x whole process "
        f"(target <= {TARGET_RATIO:.0f}x: {'met' if worst <= TARGET_RATIO else 'MISSED'}); "
        f"peak RSS {small['records']:,} -> "
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
        "prepare-data gsm8k, whole process (CLI)",
        "python + the same loop, whole process",
        f"{whole_worst:.2f}x",
        f"<= {TARGET_RATIO:.1f}x",
        whole_worst <= TARGET_RATIO,
    )
    emit(
        f"peak RSS growth {small['records']:,} -> {large['records']:,} records",
        "-",
        f"{growth:+.1f} MiB",
        f"<= {TARGET_RSS_GROWTH_MIB:.0f} MiB",
        growth <= TARGET_RSS_GROWTH_MIB,
    )
    return 0


def _median_of(runs: dict[str, list[dict[str, Any]]], kind: str, key: str) -> float:
    values = sorted(run[key] for run in runs[kind])
    return float(values[len(values) // 2])


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median time (in-process seconds when measured, else wall); peak RSS the max."""
    key = "seconds" if "seconds" in runs[0] else "wall"
    ordered = sorted(runs, key=lambda r: r[key])
    median = dict(ordered[len(ordered) // 2])
    median["wall"] = sorted(r["wall"] for r in runs)[len(runs) // 2]
    median["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
    return median


if __name__ == "__main__":
    sys.exit(main())
