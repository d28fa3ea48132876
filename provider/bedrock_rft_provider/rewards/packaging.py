"""Build the grader Lambda zip: the user's reward module, this ``rewards`` runtime and an entry module.

The zip is deterministic — sorted entries, fixed timestamps (1980-01-01) and permissions, fixed
compression — so the same inputs give byte-identical bytes and therefore the same ``CodeSha256``, which
is how the deploy operator knows there is nothing to update.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib.util
import io
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bedrock_rft_provider.rewards.runner import split_reward_spec

ENTRY_MODULE = "bedrock_rft_entry"
HANDLER = f"{ENTRY_MODULE}.handler"
MAX_ZIPPED_BYTES = 50 * 2**20  # Lambda quota for a direct zip upload
MAX_UNZIPPED_BYTES = 250 * 2**20  # Lambda quota for the unzipped function code
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16
_RUNTIME_PACKAGE = "bedrock_rft_provider"
_RUNTIME_DIR = Path(__file__).resolve().parent
_STUB_INIT = b'"""Stub shipped in a grader Lambda zip: only bedrock_rft_provider.rewards is included."""\n'
_SKIP_PARTS = frozenset({"__pycache__"})


class PackageError(ValueError):
    """The grader package cannot be built from the given inputs."""


class PackageTooLargeError(PackageError):
    """The grader package exceeds a Lambda deployment size limit."""


@dataclass(frozen=True)
class RewardPackage:
    """A built grader zip and what deploying it needs."""

    zip_bytes: bytes = b""
    code_sha256: str = ""
    handler: str = HANDLER
    reward: str = ""
    files: tuple[str, ...] = ()
    unzipped_bytes: int = 0

    def write(self, path: str | Path) -> Path:
        """Write the zip to ``path`` and return it."""
        target = Path(path)
        target.write_bytes(self.zip_bytes)
        return target


def code_sha256(zip_bytes: bytes) -> str:
    """The package hash the way Lambda reports ``CodeSha256`` (base64 of the SHA-256 digest)."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")


def _defines(source: str, attribute: str) -> bool:
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == attribute:
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == attribute for t in node.targets
        ):
            return True
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == attribute
        ):
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (alias.asname or alias.name.split(".")[0]) == attribute for alias in node.names
        ):
            return True
    return False


def _tree(root: Path, prefix: str) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        hidden = any(part.startswith(".") for part in relative.parts)  # .env, .DS_Store, .git
        if (
            path.is_file()
            and not hidden
            and not _SKIP_PARTS.intersection(relative.parts)
            and path.suffix != ".pyc"
        ):
            files[f"{prefix}{relative.as_posix()}"] = path.read_bytes()
    return files


def reward_sources(reward: str) -> tuple[str, dict[str, bytes]]:
    """``(module as imported in Lambda, {zip path: bytes})`` for the reward reference ``reward``.

    A ``path/to/file.py:function`` ships that file as a top-level module; ``package.module:function``
    ships the whole top-level package (or the single module); rewards from
    ``bedrock_rft_provider.rewards`` need nothing beyond the runtime.
    """
    target, attribute = split_reward_spec(reward)
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise PackageError(f"reward {reward!r}: file {target} does not exist")
        if not path.stem.isidentifier():
            raise PackageError(f"reward {reward!r}: {path.name} is not an importable module name")
        module, files, source_path = path.stem, {f"{path.stem}.py": path.read_bytes()}, path
    elif target == f"{_RUNTIME_PACKAGE}.rewards" or target.startswith(f"{_RUNTIME_PACKAGE}.rewards."):
        module, files = target, {}
        source_path = _RUNTIME_DIR.joinpath(*target.split(".")[2:]).with_suffix(".py")
        if not source_path.is_file():
            source_path = source_path.with_suffix("") / "__init__.py"
    elif target.split(".")[0] == _RUNTIME_PACKAGE:
        raise PackageError(
            f"reward {reward!r}: only bedrock_rft_provider.rewards ships inside the grader Lambda; "
            "move the reward into your own module"
        )
    else:
        module, files, source_path = target, *_module_files(reward, target)
    if not source_path.is_file():
        raise PackageError(f"reward {reward!r}: cannot find the source of module {module}")
    if not _defines(source_path.read_text(encoding="utf-8"), attribute):
        raise PackageError(f"reward {reward!r}: module {module} defines no top-level {attribute!r}")
    return module, files


def _module_files(reward: str, module: str) -> tuple[dict[str, bytes], Path]:
    top = module.split(".", maxsplit=1)[0]
    try:
        top_spec = importlib.util.find_spec(top)
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as exc:
        raise PackageError(f"reward {reward!r}: cannot locate module {module}: {exc}") from exc
    if top_spec is None or spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise PackageError(f"reward {reward!r}: module {module} is not a Python source module on sys.path")
    locations = list(top_spec.submodule_search_locations or [])
    if locations:
        files: dict[str, bytes] = {}
        for location in locations:
            files.update(_tree(Path(location), f"{top}/"))
        return files, Path(spec.origin)
    return {f"{top}.py": Path(spec.origin).read_bytes()}, Path(spec.origin)


def entry_module_source(module: str, attribute: str, max_workers: int | None = None) -> bytes:
    """The generated ``bedrock_rft_entry`` module exposing ``handler`` for the reward."""
    workers = f", max_workers={int(max_workers)}" if max_workers else ""
    return (
        f'"""Grader Lambda entry point generated by bedrock-rft for {module}:{attribute}."""\n\n'
        "import logging\n\n"
        "from bedrock_rft_provider.rewards import as_handler\n"
        f"from {module} import {attribute} as _reward\n\n"
        'logging.getLogger("bedrock_rft_provider.rewards").setLevel(logging.INFO)\n'
        f"handler = as_handler(_reward{workers})\n"
    ).encode()


def runtime_files() -> dict[str, bytes]:
    """The ``bedrock_rft_provider.rewards`` runtime plus a stub package ``__init__``."""
    files = {f"{_RUNTIME_PACKAGE}/__init__.py": _STUB_INIT}
    files.update(
        {
            name: data
            for name, data in _tree(_RUNTIME_DIR, f"{_RUNTIME_PACKAGE}/rewards/").items()
            if name.endswith(".py")
        }
    )
    return files


def install_requirements(
    requirements: Sequence[str], target: Path, *, architecture: str, python_version: str
) -> dict[str, bytes]:
    """Install ``requirements`` as manylinux wheels for the Lambda platform; returns their files."""
    platform = ARCHITECTURES.get(architecture)
    if platform is None:
        raise PackageError(f"architecture is {architecture!r}; expected one of {sorted(ARCHITECTURES)}")
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check",
        "--target", str(target), "--platform", f"manylinux2014_{platform}", "--implementation", "cp",
        "--python-version", python_version, "--only-binary=:all:", *requirements,
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise PackageError(
            f"requirements {list(requirements)} could not be installed for python{python_version} "
            f"on {architecture} (manylinux wheels only):\n{completed.stderr.strip()[-2000:]}"
        )
    return {name: data for name, data in _tree(target, "").items() if not name.startswith("bin/")}


def zip_files(files: Mapping[str, bytes]) -> bytes:
    """A deterministic zip of ``files`` (sorted names, fixed dates, modes and compression)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.external_attr = _FILE_MODE
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()


def _largest_parts(files: Mapping[str, bytes]) -> str:
    sizes: dict[str, int] = {}
    for name, data in files.items():
        top = name.split("/")[0]
        sizes[top] = sizes.get(top, 0) + len(data)
    ranked = sorted(sizes.items(), key=lambda item: -item[1])[:5]
    return ", ".join(f"{name} {size / 2**20:.1f} MB" for name, size in ranked)


def check_size(files: Mapping[str, bytes], zip_bytes: bytes) -> None:
    """Raise :class:`PackageTooLargeError` when the package exceeds Lambda's zipped or unzipped limit."""
    unzipped = sum(len(data) for data in files.values())
    if len(zip_bytes) > MAX_ZIPPED_BYTES:
        raise PackageTooLargeError(
            f"grader package is {len(zip_bytes) / 2**20:.1f} MB zipped; Lambda accepts at most "
            f"{MAX_ZIPPED_BYTES // 2**20} MB. Largest parts: {_largest_parts(files)}"
        )
    if unzipped > MAX_UNZIPPED_BYTES:
        raise PackageTooLargeError(
            f"grader package is {unzipped / 2**20:.1f} MB unzipped; Lambda accepts at most "
            f"{MAX_UNZIPPED_BYTES // 2**20} MB. Largest parts: {_largest_parts(files)}"
        )


def build_reward_package(
    reward: str,
    *,
    requirements: Sequence[str] = (),
    architecture: str = "x86_64",
    python_version: str = "3.11",
    max_workers: int | None = None,
) -> RewardPackage:
    """Build the deterministic grader zip for ``reward`` (``module:function`` or ``file.py:function``)."""
    if architecture not in ARCHITECTURES:
        raise PackageError(f"architecture is {architecture!r}; expected one of {sorted(ARCHITECTURES)}")
    module, user_files = reward_sources(reward)
    attribute = split_reward_spec(reward)[1]
    layers: list[dict[str, bytes]] = []
    if requirements:
        with tempfile.TemporaryDirectory(prefix="grader-requirements-") as target:
            layers.append(
                install_requirements(
                    requirements, Path(target), architecture=architecture, python_version=python_version
                )
            )
    layers += [
        runtime_files(),
        user_files,
        {f"{ENTRY_MODULE}.py": entry_module_source(module, attribute, max_workers)},
    ]
    files: dict[str, bytes] = {}
    for layer in layers:
        clashes = sorted(set(files) & set(layer))
        if clashes:
            raise PackageError(f"reward {reward!r}: files {clashes[:5]} are provided twice (name clash)")
        files.update(layer)
    zip_bytes = zip_files(files)
    check_size(files, zip_bytes)
    return RewardPackage(
        zip_bytes=zip_bytes,
        code_sha256=code_sha256(zip_bytes),
        handler=HANDLER,
        reward=f"{module}:{attribute}",
        files=tuple(sorted(files)),
        unzipped_bytes=sum(len(data) for data in files.values()),
    )


def python_version_of(runtime: str) -> str:
    """``python3.12`` -> ``3.12`` (the interpreter version wheels are chosen for)."""
    return runtime.removeprefix("python")
