"""Lambda deployment packages: their limits, checked like Lambda checks them at upload, and extraction.

Lambda refuses, with HTTP 400 ``InvalidParameterValueException``, a package it cannot unzip, one whose
members would land outside the function folder, and one (plus its layers) that unzips to more than
250 MB (262,144,000 bytes, the Lambda quotas page). The sizes come from the zip's central directory,
so a 2 MiB zip that claims 2 GiB is refused without inflating a byte; extraction then writes at most
what the directory declared (``zipfile`` stops each member at its declared size).
"""

from __future__ import annotations

import atexit
import hashlib
import io
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterable
from pathlib import Path

from bedrock_rft_provider.sandbox.protocol import ServiceError

MAX_UNZIPPED_BYTES = 262_144_000  # function + layers, "250 MB" on the Lambda quotas page
# Lambda's request limit for CreateFunction/UpdateFunctionCode with an inline (base64) 50 MB zip.
MAX_INLINE_UPLOAD_REQUEST_BYTES = 70_167_211
MAX_INVOKE_REQUEST_BYTES = 6 * 1024 * 1024  # 6,291,456: synchronous Invoke request payload
MAX_INVOKE_RESPONSE_BYTES = 6_291_556  # the response limit Lambda reports in Function.ResponseSizeTooLarge


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValueException", message, 400)


def _unsafe(name: str) -> bool:
    """True when a member name is absolute or climbs out of the folder it is extracted into."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or (len(parts[0]) == 2 and parts[0][1] == ":") or ".." in parts


def unzipped_size(zip_bytes: bytes) -> int:
    """The package's declared unzipped size in bytes; raises InvalidParameterValueException when unusable.

    Unusable: not a zip, or a member with an absolute path or a ``..`` segment (zip-slip).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise invalid_parameter(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None
    for member in members:
        if _unsafe(member.filename):
            raise invalid_parameter(
                f"Could not unzip uploaded file: member {member.filename[:200]!r} would be extracted outside "
                "the function folder. Please check your file, then try to upload again."
            )
    return sum(member.file_size for member in members)


def check_packages(packages: Iterable[bytes]) -> None:
    """Check a function's zip and its layers' zips together against the 250 MB unzipped quota."""
    total = sum(unzipped_size(package) for package in packages)
    if total > MAX_UNZIPPED_BYTES:
        raise invalid_parameter(
            f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes (this package and its layers "
            f"unzip to {total} bytes)"
        )


scratch_lock = threading.Lock()
_scratch: dict[str, Path] = {}


def scratch_root() -> Path:
    """The process's folder for extracted packages (removed at exit)."""
    with scratch_lock:
        root = _scratch.get("root")
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="bedrock-rft-sandbox-lambda-"))
            atexit.register(shutil.rmtree, root, True)
            _scratch["root"] = root
        return root


def extract_zip(zip_bytes: bytes) -> Path:
    """Extract a deployment package once per content hash.

    Raises ``ServiceError`` (InvalidParameterValueException) for a package Lambda would refuse (not a
    zip, zip-slip, over 250 MB unzipped), before creating anything; a failed extraction leaves no folder.
    """
    digest = hashlib.sha256(zip_bytes).hexdigest()[:16]
    root = scratch_root()
    target = root / f"code-{digest}"
    with scratch_lock:
        if target.exists():
            return target
        check_packages([zip_bytes])
        staging = Path(tempfile.mkdtemp(dir=root))
        try:
            with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
                archive.extractall(staging)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target
