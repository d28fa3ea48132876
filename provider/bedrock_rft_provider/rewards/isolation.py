"""Run untrusted Python (model-written code) in a child process behind every isolation layer the host offers.

Threat model: the code is hostile and knows how it is run. Layers, outermost first:

- ``namespaces`` (strict; Linux workers with bubblewrap): own PID, network, IPC, UTS and user
  namespaces, a read-only view of only the interpreter's directories (no ``/etc``, ``/home``, ``/work``,
  no host ``/tmp``), a tmpfs working dir, no capabilities, killed with its parent. Not in AWS Lambda
  (no user namespaces there).
- ``landlock`` / ``seccomp`` (unprivileged kernel features, see :mod:`.confine`): file system limited to
  the interpreter and the private dir; no fork/exec, signals to other processes, sockets, ptrace.
- The floor, which works everywhere including Lambda: a clean environment (no credentials), a parent
  made non-dumpable (so ``/proc/<ppid>/environ`` and its memory are unreadable to a same-user child),
  root dropped to ``nobody`` when the parent is root, rlimits (CPU, address space, file size, open
  files, processes: no fork for a non-root user), a private 0700 working dir removed afterwards,
  stdout read incrementally under a byte cap, a wall-clock deadline that does not wait for EOF, and a
  kill of the child's process group plus every descendant found under ``/proc``.

Not stopped by the floor alone (so: run the code grader in its own Lambda whose role has no
permissions): reading world-readable files, signalling or killing the grader process (same user:
seccomp is the layer that stops it; :class:`.process.ProcessGrader` restarts a killed worker), and
wasting its own CPU/memory budget up to the limits.
:func:`available_layers` detects the layers once per process and logs them; ``isolation="strict"``
fails closed (:class:`IsolationUnavailable`) when namespaces are missing.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bedrock_rft_provider.rewards.confine import CONFINE_SOURCE

log = logging.getLogger("bedrock_rft_provider.rewards")

ISOLATION_MODES = ("auto", "strict", "basic")
NOBODY = 65534
_PROBE = "import sys\n" + CONFINE_SOURCE + "\nprint(','.join(_confine(*eval(sys.argv[1]))))"
_state: dict[str, Any] = {}
_state_lock = threading.Lock()


class IsolationUnavailable(RuntimeError):
    """The isolation a caller required (``strict``) is not available on this host."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run: wall seconds, memory MiB, stdout bytes, bytes per file, open files,
    and bytes of all files together (``disk_bytes``: enforced by the namespace's tmpfs; the floor only
    bounds each file)."""

    timeout_s: float = 10.0
    memory_mb: int = 512
    output_bytes: int = 1 << 20
    file_bytes: int = 1 << 24
    open_files: int = 64
    disk_bytes: int = 1 << 26


@dataclass(frozen=True)
class RunOutcome:
    """What a run produced: its stdout (at most the cap), and how it ended."""

    stdout: bytes
    timed_out: bool
    output_capped: bool
    returncode: int | None
    layers: tuple[str, ...]


def interpreter() -> str:
    """The real interpreter binary (a venv's ``python`` resolved to its base installation)."""
    return os.path.realpath(sys.executable)


def read_paths() -> list[str]:
    """Directories the child may read: the interpreter's installation and the system libraries
    (outermost only: a directory inside another listed one is left out)."""
    paths = {sys.base_prefix, sys.base_exec_prefix, os.path.dirname(interpreter()), "/usr", "/lib", "/lib64"}
    existing = sorted(p.rstrip("/") or "/" for p in paths if p and os.path.exists(p))
    return [p for p in existing if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in existing)]


def make_parent_nondumpable() -> bool:
    """``prctl(PR_SET_DUMPABLE, 0)`` on this process: a same-user child can no longer read its
    ``/proc/<pid>/environ``, ``mem`` or ``fd`` (credentials in a Lambda's environment). Idempotent."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(4, 0, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _bwrap_prefix() -> list[str]:
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return []
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    argv += ["--uid", str(NOBODY), "--gid", str(NOBODY)]
    for path in read_paths():
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        else:
            argv += ["--ro-bind", path, path]
    # No /proc and a /dev holding only /dev/null: nothing of the host's processes or devices is visible.
    return [*argv, "--dev-bind", "/dev/null", "/dev/null"]


def _private_tmp(disk_bytes: int) -> list[str]:
    """The namespace's only writable place: a tmpfs of ``disk_bytes``, also its working dir."""
    return ["--size", str(disk_bytes), "--tmpfs", "/tmp", "--chdir", "/tmp"]


def _probe(prefix: list[str], drop_root: bool, want: tuple[bool, bool]) -> list[str] | None:
    with tempfile.TemporaryDirectory(prefix="isolation-probe-") as workdir:
        args = repr(("/tmp" if prefix else workdir, read_paths(), *want))
        if drop_root:
            os.chown(workdir, NOBODY, NOBODY)
        try:
            proc = subprocess.run(
                [
                    *prefix,
                    *(_private_tmp(1 << 20) if prefix else []),
                    interpreter(),
                    "-I",
                    "-S",
                    "-c",
                    _PROBE,
                    args,
                ],
                capture_output=True,
                timeout=60,
                cwd=workdir,
                env=_clean_env(),
                preexec_fn=_preexec(Limits(timeout_s=30), drop_root, nproc=not prefix),
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
    if proc.returncode != 0:
        return None
    return [layer for layer in proc.stdout.decode().strip().split(",") if layer]


def available_layers() -> dict[str, bool]:
    """Which optional layers work on this host (probed once per process, then logged once)."""
    with _state_lock:
        if "layers" in _state:
            return dict(_state["layers"])
        root = os.name == "posix" and os.geteuid() == 0
        drop_root = root and _probe([], True, (False, False)) is not None
        kernel = _probe([], drop_root, (True, True)) or []
        prefix = _bwrap_prefix()
        namespaces = bool(prefix) and _probe(prefix, False, (False, False)) is not None
        layers = {
            "namespaces": namespaces,
            "landlock": "landlock" in kernel,
            "seccomp": "seccomp" in kernel,
            "drop_root": drop_root,
            "nondumpable_parent": make_parent_nondumpable(),
        }
        _state["layers"] = layers
        _state["bwrap"] = prefix if namespaces else []
        log.info(
            "code isolation layers: %s (floor: clean env, rlimits, private dir, output cap, group kill)",
            ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in layers.items()),
        )
        return dict(layers)


def plan(isolation: str = "auto") -> tuple[str, ...]:
    """The layers a run in ``isolation`` mode uses; ``strict`` raises when namespaces are missing.

    ``auto``: every available layer. ``strict``: the same, but namespaces are required. ``basic``: the
    floor only (no namespaces, seccomp or Landlock; for comparison and hosts where probing misbehaves).
    """
    if isolation not in ISOLATION_MODES:
        raise ValueError(f"isolation is {isolation!r}; expected one of {', '.join(ISOLATION_MODES)}")
    layers = available_layers()
    if isolation == "strict" and not layers["namespaces"]:
        raise IsolationUnavailable(
            "isolation='strict' needs Linux namespaces through bubblewrap (apt-get install bubblewrap) "
            "and user namespaces; they are not available here"
        )
    chosen = ["clean_env", "rlimits", "private_dir", "output_cap", "group_kill"]
    chosen += [k for k in ("nondumpable_parent", "drop_root") if layers[k]]
    if isolation != "basic":
        chosen += [k for k in ("seccomp", "landlock", "namespaces") if layers[k]]
    if "namespaces" in chosen and "drop_root" in chosen:
        chosen.remove("drop_root")  # the namespace maps the child to nobody itself
    return tuple(chosen)


def _clean_env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}


def _preexec(limits: Limits, drop_root: bool, *, nproc: bool = True) -> Callable[[], None]:
    def setup() -> None:  # pragma: no cover - runs in the forked child before exec
        import resource

        if drop_root:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        memory = limits.memory_mb * 2**20
        cpu = int(limits.timeout_s) + 1
        for limit, value in (
            (resource.RLIMIT_AS, memory),
            (resource.RLIMIT_CPU, cpu),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(limit, (value, value))
        if nproc:  # after setuid: no fork for a non-root user (bwrap itself must fork: it has a PID ns)
            resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))

    return setup


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_all(proc: subprocess.Popen[bytes]) -> None:
    for pid in _descendants(proc.pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        proc.kill()


def run_isolated(
    source: str, stdin: bytes, limits: Limits, *, isolation: str = "auto", argv: tuple[str, ...] = ()
) -> RunOutcome:
    """Run ``python -I -S -c CONFINE+source *argv`` with ``stdin``; never raises for what the code does.

    Keep ``source`` import-light (``marshal`` for input, literals for output): interpreter start-up and
    imports are most of a run's cost.

    The source sees ``_CONFINE_ARGS`` = ``(workdir, read_paths, landlock, seccomp)`` and must call
    ``_confine(*_CONFINE_ARGS)`` itself before running untrusted code. Raises
    :class:`IsolationUnavailable` when ``isolation="strict"`` cannot be met.
    """
    layers = plan(isolation)
    namespaces = "namespaces" in layers
    drop_root = "drop_root" in layers
    workdir = tempfile.mkdtemp(prefix="code-tests-")
    os.chmod(workdir, 0o700)
    if drop_root:
        os.chown(workdir, NOBODY, NOBODY)
    child_dir = "/tmp" if namespaces else workdir
    # A literal, not JSON: the child never imports json (its import costs more than the rest of the run).
    confine_args = (child_dir, read_paths(), "landlock" in layers, "seccomp" in layers)
    program = f"_CONFINE_ARGS = {confine_args!r}\n{CONFINE_SOURCE}\n{source}"
    sandbox = [*_state["bwrap"], *_private_tmp(limits.disk_bytes)] if namespaces else []
    command = [*sandbox, interpreter(), "-I", "-S", "-c", program, *argv]
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=workdir,
            env=_clean_env(),
            start_new_session=True,
            preexec_fn=_preexec(limits, drop_root, nproc=not namespaces),  # noqa: PLW1509
        )
        try:
            threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True).start()
            output, timed_out, capped = _read_output(proc, limits)
        finally:  # also when a time budget (RewardTimeout) interrupts us: never leave the child running
            _kill_all(proc)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            with contextlib.suppress(OSError):
                proc.stdout.close()  # type: ignore[union-attr]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return RunOutcome(output, timed_out, capped, proc.returncode, layers)


def _read_output(proc: subprocess.Popen[bytes], limits: Limits) -> tuple[bytes, bool, bool]:
    """``(stdout up to the cap, timed_out, capped)``: reads until EOF, the deadline or the cap.

    Once the child has exited, what is already in the pipe is drained without waiting for EOF (a
    descendant may hold the pipe open).
    """
    fd = proc.stdout.fileno()  # type: ignore[union-attr]
    deadline = time.monotonic() + limits.timeout_s
    chunks: list[bytes] = []
    size = 0
    exited = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"".join(chunks), True, False
        ready, _, _ = select.select([fd], [], [], 0 if exited else min(remaining, 0.05))
        if not ready:
            if exited:
                return b"".join(chunks), False, False
            exited = proc.poll() is not None
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks), False, False
        size += len(chunk)
        if size > limits.output_bytes:
            chunks.append(chunk[: max(0, limits.output_bytes - (size - len(chunk)))])
            return b"".join(chunks), False, True
        chunks.append(chunk)


def _feed(stream: Any, data: bytes) -> None:
    with contextlib.suppress(OSError, ValueError):
        stream.write(data)
        stream.close()
