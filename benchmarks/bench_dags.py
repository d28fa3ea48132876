"""Example DAG parse time and provider import time vs the amazon provider's Bedrock operators.

Baselines, measured in the same run and interleaved with ours (A, B, A, B, ...):

- ``benchmarks/baselines/amazon_bedrock_retraining.py``: ``dags/bedrock_rft_retraining.py`` rewritten
  with the amazon provider's Bedrock / Lambda operators and ``@task`` functions — same task ids, params,
  schedule and dependency edges (checked here: the run fails if they drift apart).
- ``benchmarks/baselines/amazon_bedrock_evaluation.py``: the one-task daily evaluation DAG, likewise.
- ``import airflow.providers.amazon.aws.operators.bedrock`` (and the modules the baseline DAG uses)
  for the import of our operator modules.

Every measurement runs in a fresh interpreter (so no import is cached) with a temporary
``AIRFLOW_HOME``, ``LOAD_EXAMPLES=False`` and ``UNIT_TEST_MODE=True``. Per DAG file: the child's whole
wall time, ``DagBag(dag_folder=file)`` inside it, and a second ``DagBag`` in the same process — the part
paid again on every parse once the modules are imported. Medians (and minima) of ``--runs`` runs.

Wall clock on a shared 2-core machine is noisy; ``--callgrind`` also counts the instructions of the
import rows under ``valgrind --tool=callgrind`` (one run each, ``PYTHONHASHSEED=0``: repeatable under
load, 10-30 minutes), whole process and as the delta over ``import airflow`` alone.

    .venv/bin/python benchmarks/bench_dags.py [--runs 7] [--callgrind]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

from rows import emit  # benchmarks/ is on sys.path: these files run as scripts

ROOT = Path(__file__).resolve().parents[1]
BASELINES = Path(__file__).resolve().parent / "baselines"
MARKER = "BENCH_DAGS_RESULT "
OURS = "bedrock_rft_provider"
AMAZON_BEDROCK = "airflow.providers.amazon.aws.operators.bedrock"
# Issue 17's baseline for our seven operator modules: the amazon operators the same DAGs would use.
AMAZON_BASELINE_MODULES = [
    AMAZON_BEDROCK,
    "airflow.providers.amazon.aws.operators.lambda_function",
    "airflow.providers.amazon.aws.operators.s3",
]
TARGET_IMPORT_RATIO = 1.0
TARGET_PARSE_RATIO = 1.1
DAG_PAIRS = (
    ("retraining", ROOT / "dags" / "bedrock_rft_retraining.py", BASELINES / "amazon_bedrock_retraining.py"),
    ("evaluation", ROOT / "dags" / "bedrock_rft_evaluation.py", BASELINES / "amazon_bedrock_evaluation.py"),
)
TIMINGS = ("wall", "parse", "reparse")

PARSE_CHILD = f"""
import json, sys, time
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow < 3.2
    from airflow.models.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
parsed = time.perf_counter()
DagBag(dag_folder=sys.argv[1])
reparsed = time.perf_counter()
edges = {{t.task_id: sorted(t.upstream_task_ids) for d in bag.dags.values() for t in d.tasks}}
print({MARKER!r} + json.dumps({{"parse": parsed - started, "reparse": reparsed - parsed,
    "dags": len(bag.dags), "errors": {{str(k): v for k, v in bag.import_errors.items()}}, "edges": edges}}))
"""

IMPORT_CHILD = f"""
import importlib, json, sys, time
for name in filter(None, sys.argv[2].split(",")):
    importlib.import_module(name)
started = time.perf_counter()
for name in sys.argv[1].split(","):
    importlib.import_module(name)
print({MARKER!r} + json.dumps({{"import": time.perf_counter() - started}}))
"""

Profile = list[tuple[int, int, str, str]]


def child_env(airflow_home: str) -> dict[str, str]:
    """The environment every child starts with: a private, example-free, unit-test Airflow home."""
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=airflow_home,
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="True",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return env


def run_child(code: str, args: list[str], env: dict[str, str]) -> tuple[dict[str, Any], float]:
    """Run ``code`` in a fresh interpreter; return its result line and its whole wall time."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    wall = time.perf_counter() - started
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :]), wall
    raise RuntimeError(
        f"child failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )


def parse_once(path: Path, env: dict[str, str]) -> dict[str, Any]:
    """One fresh-process parse of ``path``; fails loudly when the file does not load."""
    result, wall = run_child(PARSE_CHILD, [str(path)], env)
    if result["errors"] or result["dags"] != 1:
        raise RuntimeError(f"{path.relative_to(ROOT)} did not load: {result['errors']}")
    return {**result, "wall": wall}


def import_once(modules: list[str], preimport: str, env: dict[str, str]) -> float:
    """Seconds to import ``modules`` in a fresh process where ``preimport`` is already imported."""
    result, _ = run_child(IMPORT_CHILD, [",".join(modules), preimport], env)
    return float(result["import"])


def whole_process_once(modules: list[str], env: dict[str, str]) -> float:
    """Wall seconds of a fresh interpreter that imports ``modules`` and exits (startup included)."""
    _, wall = run_child(IMPORT_CHILD, [",".join(modules), ""], env)
    return wall


def instructions_once(modules: list[str], env: dict[str, str]) -> int:
    """Instructions (callgrind) of a fresh interpreter that imports airflow, then ``modules``, and exits."""
    code = "; ".join(f"import {m}" for m in ["airflow", *modules])
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**env, "PYTHONHASHSEED": "0"},
        cwd=ROOT,
        timeout=3 * 3600,  # ~10 min idle; three run at once on a loaded machine
        check=False,
    )
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode or not found:
        raise RuntimeError(f"callgrind run failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return int(found.group(1))


def callgrind_rows(ours: list[str], env: dict[str, str]) -> None:
    """Instruction counts of the import rows: whole process and delta after ``import airflow``."""
    cases = {"airflow alone": [], "ours": ours, "amazon": AMAZON_BASELINE_MODULES}
    with ThreadPoolExecutor(len(cases)) as pool:
        counts = dict(zip(cases, pool.map(lambda m: instructions_once(m, env), cases.values()), strict=True))
    base = counts["airflow alone"]
    whole = counts["ours"] / counts["amazon"]
    delta = (counts["ours"] - base) / (counts["amazon"] - base)
    print("\nInstructions (valgrind --tool=callgrind, PYTHONHASHSEED=0), millions:")
    print(
        f"  import airflow alone {base / 1e6:.0f}; + ours (all {len(ours)} operator modules) "
        f"{counts['ours'] / 1e6:.0f} (delta {(counts['ours'] - base) / 1e6:.1f}); + amazon "
        f"{counts['amazon'] / 1e6:.0f} (delta {(counts['amazon'] - base) / 1e6:.1f})"
    )
    print(f"  ratio ours / amazon: whole process {whole:.3f}x, delta after `import airflow` {delta:.2f}x")
    for label, ratio in (("whole process", whole), ("delta after `import airflow`", delta)):
        emit(
            f"import {len(ours)} operator modules, {label} (instructions)",
            "amazon bedrock + lambda_function + s3 operators",
            f"{ratio:.2f}x",
            f"<= {TARGET_IMPORT_RATIO:.1f}x",
            ratio <= TARGET_IMPORT_RATIO,
        )


def our_operator_modules() -> list[str]:
    """Every ``bedrock_rft_provider.operators`` module that defines an operator (what a DAG imports)."""
    folder = ROOT / "provider" / OURS / "operators"
    defines = re.compile(r"^class \w+Operator\b", re.MULTILINE)
    found = sorted(p for p in folder.glob("*.py") if defines.search(p.read_text()))
    return [f"{OURS}.operators.{p.stem}" for p in found]


def import_profile(modules: list[str], env: dict[str, str]) -> Profile:
    """``-X importtime`` rows ``(own_us, cumulative_us, module, importer)`` for ``modules`` after airflow."""
    imports = "; ".join(f"import {m}" for m in modules)
    code = f"import airflow, sys; print({MARKER!r}, file=sys.stderr, flush=True); {imports}"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    rows, seen = [], False
    for line in proc.stderr.splitlines():
        seen = seen or line.startswith(MARKER)
        if seen and line.startswith("import time:"):
            own, cumulative, name = line[len("import time:") :].split("|")
            if own.strip().isdigit():
                rows.append((int(own), int(cumulative), len(name) - len(name.lstrip(" ")), name.strip()))
    # importtime prints a module after the modules it imports, one indent deeper: walk back for importers.
    profile: Profile = []
    stack: list[tuple[int, str]] = []
    for own, cumulative, indent, name in reversed(rows):
        while stack and stack[-1][0] >= indent:
            stack.pop()
        profile.append((own, cumulative, name, stack[-1][1] if stack else ""))
        stack.append((indent, name))
    return profile


def print_profile(title: str, profile: Profile) -> None:
    """What dominates an import: the heaviest outside modules ours pull in, and own time per package."""
    total_us = sum(own for own, *_ in profile)
    print(f"\n`python -X importtime` of {title} after `import airflow`: {total_us / 1000:.1f} ms own time")
    print("  top 5 outside modules imported directly by ours (cumulative ms, charged to the first importer):")
    boundary = [row for row in profile if row[3].startswith(OURS) and not row[2].startswith(OURS)]
    for _own, cumulative, name, importer in sorted(boundary, key=lambda row: -row[1])[:5]:
        print(f"    {cumulative / 1000:7.1f}  {name:<46} <- {importer}")
    heaviest = sorted((row for row in profile if row[2].startswith(OURS)), key=lambda row: -row[0])[:5]
    print(
        "  our modules by own time (top 5): "
        + ", ".join(f"{r[2].removeprefix(OURS + '.')} {r[0] / 1000:.1f} ms" for r in heaviest)
    )
    by_package: dict[str, int] = defaultdict(int)
    for own, _cumulative, name, _importer in profile:
        parts = name.split(".")
        by_package[".".join(parts[:3]) if parts[:2] == ["airflow", "providers"] else parts[0]] += own
    top = sorted(by_package.items(), key=lambda item: -item[1])[:5]
    print("  own time by package (top 5): " + ", ".join(f"{k} {v / 1000:.1f} ms" for k, v in top))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def print_parse_table(runs: int, parses: dict[Path, list[dict[str, Any]]]) -> int:
    """The DAG parse table with ratios; returns 1 when the retraining baseline's edges drifted."""
    print("DAG parse, fresh process per run; baseline = the same DAG with amazon provider operators only")
    print(f"medians of {runs} runs (min in brackets), ms")
    header = f"{'DAG file':<52}{'tasks':>6}{'child wall':>20}{'DagBag parse':>18}{'re-parse':>16}"
    print(header)
    print("-" * len(header))
    drift = 0
    for name, ours, baseline in DAG_PAIRS:
        medians = {}
        for path in (ours, baseline):
            values = {key: [run[key] for run in parses[path]] for key in TIMINGS}
            medians[path] = {key: statistics.median(values[key]) for key in TIMINGS}
            cells = [f"{ms(medians[path][key])} ({ms(min(values[key]))})" for key in TIMINGS]
            tasks = len(parses[path][0]["edges"])
            print(f"{path.relative_to(ROOT)!s:<52}{tasks:>6}{cells[0]:>20}{cells[1]:>18}{cells[2]:>16}")
        ratios = [f"{medians[ours][key] / medians[baseline][key]:.2f}x" for key in TIMINGS]
        label = f"  ratio {name}: ours / amazon baseline"
        print(f"{label:<58}{ratios[0]:>20}{ratios[1]:>18}{ratios[2]:>16}")
        ours_edges, base_edges = parses[ours][0]["edges"], parses[baseline][0]["edges"]
        if name == "retraining":
            print(f"  same task ids and dependency edges: {'yes' if ours_edges == base_edges else 'NO'}")
            for task_id in sorted(set(ours_edges) | set(base_edges)):
                if ours_edges.get(task_id) != base_edges.get(task_id):
                    drift = 1
                    print(
                        f"    {task_id}: ours {ours_edges.get(task_id)}, baseline {base_edges.get(task_id)}"
                    )
    return drift


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh-process repeats per measurement")
    parser.add_argument("--callgrind", action="store_true", help="also count import instructions")
    args = parser.parse_args()
    if args.callgrind and not shutil.which("valgrind"):
        parser.error("--callgrind needs valgrind (apt-get install valgrind)")
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    ours_all = our_operator_modules()
    # An installed provider (ours from a wheel, the amazon one) imports from .pyc; with
    # PYTHONDONTWRITEBYTECODE set (as here) an editable checkout would recompile ours in every child.
    for folder in (ROOT / "provider" / OURS, ROOT / "dags", BASELINES):
        compileall.compile_dir(folder, quiet=1)
    import_cases = {  # label: (modules timed, module imported before the timer starts)
        "ours: operators.rft_job": ([f"{OURS}.operators.rft_job"], "airflow"),
        "amazon: operators.bedrock": ([AMAZON_BEDROCK], "airflow"),
        f"ours: all {len(ours_all)} operator modules": (ours_all, "airflow"),
        "amazon: bedrock + lambda_function + s3 operators": (AMAZON_BASELINE_MODULES, "airflow"),
        "ours: rft_job when amazon bedrock is loaded": ([f"{OURS}.operators.rft_job"], AMAZON_BEDROCK),
    }

    with tempfile.TemporaryDirectory(prefix="bench-dags-airflow-home-") as airflow_home:
        env = child_env(airflow_home)
        parses: dict[Path, list[dict[str, Any]]] = defaultdict(list)
        imports: dict[str, list[float]] = defaultdict(list)
        whole: dict[str, list[float]] = defaultdict(list)
        for _ in range(args.runs):
            for _name, ours, baseline in DAG_PAIRS:
                for path in (ours, baseline):
                    parses[path].append(parse_once(path, env))
            for label, (modules, preimport) in import_cases.items():
                imports[label].append(import_once(modules, preimport, env))
            for label, modules in (("ours", ours_all), ("amazon", AMAZON_BASELINE_MODULES)):
                whole[label].append(whole_process_once(modules, env))
        profiles = {  # -X importtime is one noisy sample: keep the quickest of three
            title: min((import_profile(modules, env) for _ in range(3)), key=lambda p: sum(r[0] for r in p))
            for title, modules in (
                ("operators.rft_job", [f"{OURS}.operators.rft_job"]),
                (f"all {len(ours_all)} operator modules", ours_all),
            )
        }

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores shared with other agents "
        f"(load {load_before:.2f} -> {os.getloadavg()[0]:.2f}); Python {platform.python_version()}, "
        f"apache-airflow {version('apache-airflow')}, "
        f"amazon provider {version('apache-airflow-providers-amazon')}"
    )
    print(
        f"{args.runs} runs per row, each in a fresh process, interleaved with its baseline; "
        "bytecode compiled first for ours, the DAG files and the baselines\n"
    )
    drift = print_parse_table(args.runs, parses)

    print(f"\nProvider import in a fresh process after `import airflow` (delta), {args.runs} runs, ms")
    print(f"{'import':<48}{'median':>10}{'min':>10}")
    for label, values in imports.items():
        print(f"{label:<48}{ms(statistics.median(values)):>10}{ms(min(values)):>10}")
    labels = list(imports)
    for ours_label, amazon_label in ((labels[0], labels[1]), (labels[2], labels[3])):
        ratio = statistics.median(imports[ours_label]) / statistics.median(imports[amazon_label])
        print(f"  ratio {ours_label} / {amazon_label}: {ratio:.2f}x")
    delta_ratio = statistics.median(imports[labels[2]]) / statistics.median(imports[labels[3]])
    whole_ratio = statistics.median(whole["ours"]) / statistics.median(whole["amazon"])
    print(
        f"\nWhole process (python -c 'import ...', interpreter start to exit), {args.runs} runs: "
        f"ours (all {len(ours_all)} operator modules) {ms(statistics.median(whole['ours']))} ms, "
        f"amazon (bedrock + lambda_function + s3 operators) {ms(statistics.median(whole['amazon']))} ms "
        f"(medians): {whole_ratio:.2f}x"
    )

    for title, profile in profiles.items():
        print_profile(title, profile)
    if args.callgrind:
        with tempfile.TemporaryDirectory(prefix="bench-dags-airflow-home-") as airflow_home:
            callgrind_rows(ours_all, child_env(airflow_home))
    print(f"\ntotal benchmark time {time.perf_counter() - started:.0f} s")
    amazon_names = "amazon bedrock + lambda_function + s3 operators"
    emit(
        f"import {len(ours_all)} operator modules, whole process",
        amazon_names,
        f"{whole_ratio:.2f}x",
        f"<= {TARGET_IMPORT_RATIO:.1f}x",
        whole_ratio <= TARGET_IMPORT_RATIO,
    )
    emit(
        f"import {len(ours_all)} operator modules, delta after `import airflow`",
        amazon_names,
        f"{delta_ratio:.2f}x",
        f"<= {TARGET_IMPORT_RATIO:.1f}x",
        delta_ratio <= TARGET_IMPORT_RATIO,
    )
    parse_ratio = statistics.median(r["parse"] for r in parses[DAG_PAIRS[0][1]]) / statistics.median(
        r["parse"] for r in parses[DAG_PAIRS[0][2]]
    )
    emit(
        "DagBag parse of bedrock_rft_retraining",
        "same DAG from amazon operators",
        f"{parse_ratio:.2f}x",
        f"<= {TARGET_PARSE_RATIO:.1f}x",
        parse_ratio <= TARGET_PARSE_RATIO,
    )
    return drift


if __name__ == "__main__":
    sys.exit(main())
