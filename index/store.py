"""The index on disk: a folder of plain files per build, and a pointer to the one in use.

    <root>/CURRENT              name of the build in use (replaced atomically)
    <root>/builds/<name>/       manifest.json, passages.jsonl, vectors.npy, dense.faiss, bm25/
    <root>/.lock                held while a build runs

A build writes a new folder and only then moves CURRENT, so a build killed halfway leaves the
previous index serving. Every file's SHA-256 is in the manifest and checked on load: FAISS reads
some corrupted files without complaint.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import IndexBusyError, IndexInvalidError, IndexMissingError, IndexStaleError
from .parse import seed_files
from .records import Passage

FORMAT_VERSION = 1


def corpus_hash(seeds_dir: Path) -> str:
    """SHA-256 over the names and bytes of the seed files: what an index was built from."""
    h = hashlib.sha256()
    for path in seed_files(seeds_dir):
        h.update(path.name.encode("utf-8") + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


@contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Hold the index folder's lock, or fail at once if another build holds it."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise IndexBusyError(f"another build of {root} is running; wait for it to finish") from e
            raise
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def current_build(root: Path, hint: str | None = None) -> Path:
    """The build folder CURRENT points to; `hint`, the rebuild command, ends every error message."""
    pointer = Path(root) / "CURRENT"
    if not pointer.is_file():
        raise IndexMissingError(f"no index at {root}" + (f"; build it: {hint}" if hint else ""))
    fix = f"; rebuild it: {hint}" if hint else ""
    try:
        # A flipped bit can make the pointer invalid UTF-8: that is a damaged index, not a crash.
        name = pointer.read_bytes().decode("utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise IndexInvalidError(f"the index pointer {pointer} cannot be read ({e}){fix}") from e
    if not _is_build_name(name):
        raise IndexInvalidError(f"the index pointer {pointer} is damaged{fix}")
    return Path(root) / "builds" / name


def _is_build_name(name: str) -> bool:
    """A plain folder name: nothing that could point outside builds/."""
    return bool(name) and name.isprintable() and not name.startswith(".") and not any(c in name for c in "/\\")


def _pointer_name(root: Path) -> str | None:
    """The build CURRENT names, or None when there is no readable pointer."""
    try:
        name = (root / "CURRENT").read_bytes().decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if _is_build_name(name) else None


def publish(root: Path, build_dir: Path) -> None:
    """Point CURRENT at a finished build; keep only it and the build it replaces.

    The replaced build stays because a reader may have read CURRENT just before the switch and
    be opening its files now. Which builds to keep is decided by name, not by sorting names as
    times: a clock stepped back must not delete the build in use.
    """
    previous = _pointer_name(root)
    write_atomic(root / "CURRENT", build_dir.name.encode("utf-8"))
    for old in (root / "builds").iterdir():
        if old.is_dir() and old.name not in (build_dir.name, previous):
            shutil.rmtree(old, ignore_errors=True)


def new_build_dir(root: Path) -> Path:
    """A fresh folder for a build; leftovers of killed builds are cleared first (the lock is held).

    Leftovers: build folders without a manifest, and temp files of a pointer switch cut short.
    """
    builds = root / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    for stale in builds.iterdir():
        if stale.is_dir() and not (stale / "manifest.json").exists():
            shutil.rmtree(stale, ignore_errors=True)
    for tmp in root.glob(".CURRENT.*.tmp"):
        tmp.unlink(missing_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    path = builds / name
    path.mkdir()
    return path


def write_passages(path: Path, passages: list[Passage]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for p in passages:
            f.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")


def read_passages(path: Path) -> list[Passage]:
    with open(path, encoding="utf-8") as f:
        return [Passage.from_dict(json.loads(line)) for line in f if line.strip()]


def write_manifest(build_dir: Path, info: dict) -> None:
    """The manifest is written last: a build folder without one is unfinished."""
    files = {}
    for path in sorted(build_dir.rglob("*")):
        if path.is_file() and path.name != "manifest.json":
            files[path.relative_to(build_dir).as_posix()] = file_sha256(path)
    manifest = {"format_version": FORMAT_VERSION, **info, "files": files}
    for path in build_dir.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    write_atomic(build_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))


def read_manifest(build_dir: Path, hint: str) -> dict:
    """The manifest of a build, after checking every file against its checksum."""
    path = build_dir / "manifest.json"
    if not path.is_file():
        raise IndexInvalidError(f"the index at {build_dir} is incomplete (no manifest); rebuild it: {hint}")
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
        files = manifest["files"]
        version = manifest["format_version"]
        # Valid JSON of the wrong shape is as damaged as invalid JSON.
        if not isinstance(files, dict) or not isinstance(manifest.get("model", {}), dict):
            raise TypeError("unexpected manifest layout")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise IndexInvalidError(f"the index manifest {path} is damaged; rebuild it: {hint}") from e
    if version != FORMAT_VERSION:
        raise IndexStaleError(
            f"the index at {build_dir} has format {version}, this planqa reads {FORMAT_VERSION}; rebuild it: {hint}"
        )
    for rel, digest in files.items():
        f = build_dir / rel
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise IndexInvalidError(f"the index manifest {path} names a file outside its build; rebuild it: {hint}")
        if not f.is_file():
            raise IndexInvalidError(f"the index file {f} is missing; rebuild it: {hint}")
        try:
            actual = file_sha256(f)
        except OSError as e:
            raise IndexInvalidError(f"the index file {f} cannot be read ({e}); rebuild it: {hint}") from e
        if actual != digest:
            raise IndexInvalidError(f"the index file {f} is corrupt (checksum mismatch); rebuild it: {hint}")
    # Every file the loaders may read must be vouched for: a manifest with its checksums cut
    # out would otherwise let a corrupt FAISS file load without complaint.
    present = {p.relative_to(build_dir).as_posix() for p in build_dir.rglob("*") if p.is_file()}
    unlisted = sorted(present - set(files) - {"manifest.json"})
    if unlisted:
        raise IndexInvalidError(f"the index at {build_dir} holds files its manifest has no checksum for "
                                f"({', '.join(unlisted[:3])}); rebuild it: {hint}")
    return manifest


def load_vectors(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


Progress = Callable[[str], None]
