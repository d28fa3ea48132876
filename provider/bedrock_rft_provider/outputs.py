"""All-or-nothing local outputs: a folder is written complete beside its target, then swapped in.

Used by ``prepare-data`` and ``evaluate`` (folders) and ``test-reward --output`` (one file). A failed or
interrupted run leaves the previous output untouched and no partial files or empty folders behind.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from bedrock_rft_provider.errors import BedrockRFTError


class OutputError(BedrockRFTError):
    """The output location cannot take the result (not a folder, holds foreign files, not writable)."""


def _hidden_sibling(target: Path, tag: str) -> Path:
    return target.parent / f".{target.name}.{tag}-{uuid.uuid4().hex[:8]}"


def _missing_parents(target: Path) -> list[Path]:
    return [folder for folder in target.parents if not folder.exists()]


def _remove_created(folders: list[Path]) -> None:
    for folder in folders:  # nearest first: only folders this run created, and only when empty
        with contextlib.suppress(OSError):
            folder.rmdir()


def check_output_dir(target: str | Path, owned: Collection[str]) -> None:
    """Raise OutputError unless ``target`` is absent or a folder holding only ``owned`` names.

    Checked before any work, so a bad ``--output`` fails fast; a folder with other files is never
    replaced, since the swap would delete them.
    """
    path = Path(target)
    if not path.exists() and not path.is_symlink():
        return
    if not path.is_dir():
        raise OutputError(f"{target}: exists and is not a folder")
    foreign = sorted(name for name in os.listdir(path) if name not in owned and not name.startswith("."))
    if foreign:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise OutputError(
            f"{target}: folder holds files this command did not write ({shown}); choose another --output"
        )


@contextmanager
def staged_dir(target: str | Path, owned: Collection[str]) -> Iterator[Path]:
    """Yield an empty folder beside ``target``; on success it replaces ``target`` whole.

    On any exception (including KeyboardInterrupt) the staging folder and any parent folders created
    for it are removed and ``target`` is left as it was. Raises OutputError when ``target`` is not
    replaceable (see :func:`check_output_dir`) or cannot be created.
    """
    path = Path(target).absolute()
    check_output_dir(path, owned)
    created = _missing_parents(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = _hidden_sibling(path, "partial")
        staging.mkdir()
    except OSError as exc:
        _remove_created(created)
        raise OutputError(f"{target}: cannot create the output folder ({exc.strerror or exc})") from None
    done = False
    try:
        yield staging
        swap_in(staging, path)
        done = True
    finally:
        if not done:
            _remove_tree(staging)
            _remove_created(created)


def swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` (absent or a folder) by ``staging`` with two renames on the same filesystem."""
    if not target.exists() and not target.is_symlink():
        os.rename(staging, target)
        return
    retired = _hidden_sibling(target, "old")
    os.rename(target, retired)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(retired, target)  # put the previous output back
        raise
    if retired.is_symlink():  # --output was a link to a folder: the link is replaced, its target kept
        retired.unlink()
    else:
        _remove_tree(retired)


def _remove_tree(folder: Path) -> None:
    import shutil  # only when something is left to delete: a first run into a new folder never is

    shutil.rmtree(folder, ignore_errors=True)


def write_file_atomic(target: str | Path, text: str) -> None:
    """Write ``text`` to ``target`` through a temporary sibling and a rename; raises OSError."""
    path = Path(target)
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder", str(path))
    created = _missing_parents(path.absolute())
    tmp = _hidden_sibling(path, "tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        _remove_created(created)
        raise
