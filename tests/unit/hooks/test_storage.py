"""StorageHook: the same calls behave the same on ``s3://`` (moto) and on local paths."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bedrock_rft_provider.hooks.storage import StorageHook, join_uri, write_local_atomically


def test_write_read_exists_and_sha256(base: str, storage: StorageHook) -> None:
    uri = join_uri(base, "a/b.json")
    assert storage.exists(uri) is False
    storage.write_text(uri, "héllo\n")
    assert storage.exists(uri) is True
    assert storage.read_text(uri) == "héllo\n"
    assert storage.read_bytes(uri) == "héllo\n".encode()
    assert storage.sha256(uri) == hashlib.sha256("héllo\n".encode()).hexdigest()
    storage.write_text(uri, "replaced")
    assert storage.read_text(uri) == "replaced"


def test_list_and_read_a_prefix(base: str, storage: StorageHook) -> None:
    for name in ("x/metrics.csv", "x/other.txt", "y/metrics.csv"):
        storage.write_text(join_uri(base, name), name)
    found = storage.read_texts_under(base, lambda key: key.endswith(".csv"))
    assert sorted(found.values()) == ["x/metrics.csv", "y/metrics.csv"]
    assert list(found) == sorted(found) and all(uri.startswith(base) for uri in found)
    assert len(storage.list_uris(base)) == 3
    assert storage.list_uris(join_uri(base, "missing")) == []


def test_fetch_and_put(base: str, storage: StorageHook, tmp_path: Path) -> None:
    local = tmp_path / "work" / "in.txt"
    local.parent.mkdir()
    local.write_text("payload")
    storage.put_file(local, join_uri(base, "in.txt"))
    storage.put_dir(local.parent, join_uri(base, "dir"), ["in.txt", "absent.txt"])
    assert storage.list_uris(join_uri(base, "dir")) == [join_uri(base, "dir/in.txt")]
    fetched = storage.fetch(join_uri(base, "dir/in.txt"), tmp_path / "back" / "out.txt")
    assert fetched.read_text() == "payload"
    assert storage.fetch_if_exists(join_uri(base, "nope.txt"), tmp_path / "n.txt") is None


def test_a_failed_local_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(TypeError):  # not bytes: the write fails after the temporary file was created
        write_local_atomically(target, object())  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_every_operator_reaches_files_through_the_storage_hook() -> None:
    """No operator or hook outside storage.py builds its own S3Hook or splits s3:// URIs itself."""
    package = Path(__file__).resolve().parents[3] / "provider" / "bedrock_rft_provider"
    offenders = [
        f"{path.relative_to(package)}: {needle}"
        for folder in ("operators", "hooks")
        for path in sorted((package / folder).glob("*.py"))
        if path.name != "storage.py"
        for needle in ("S3Hook(", "parse_s3_url", ".get_object(", "download_file(", "load_string(")
        if needle in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_create_once_writes_only_the_first_time_and_returns_what_is_stored(
    base: str, storage: StorageHook
) -> None:
    uri = join_uri(base, "job/handled-by.json")
    assert storage.create_once(uri, b"first") == b"first"
    assert storage.create_once(uri, b"second") == b"first"  # the earlier writer's claim stands
    assert storage.read_bytes(uri) == b"first"
