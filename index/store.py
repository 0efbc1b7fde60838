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

from .errors import (
    DISK_FULL,
    PERMISSION,
    READ_ONLY,
    IndexBusyError,
    IndexInvalidError,
    IndexMissingError,
    IndexStaleError,
    SeedsError,
    StorageError,
    os_cause,
    os_fix,
)
from .parse import seed_documents
from .records import Passage

FORMAT_VERSION = 1
# A manifest is a few KB (one line per file and document); anything far larger, or nested deeper
# than its two levels, is damage, refused before the JSON parser recurses into it.
MAX_MANIFEST_BYTES = 8_000_000
MAX_MANIFEST_DEPTH = 8


def corpus_hash(seeds_dir: Path) -> str:
    """SHA-256 over the relative paths and bytes of the seed files: what an index was built from."""
    h = hashlib.sha256()
    for path, _ in seed_documents(seeds_dir):
        h.update(path.relative_to(seeds_dir).as_posix().encode("utf-8") + b"\0")
        try:
            h.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError as e:
            raise SeedsError(f"cannot read the plan file {path}: {os_cause(e)}; {os_fix(e, path)}") from e
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


def wait_for_build(root: Path) -> None:
    """Return once no build of `root` holds its lock: a reader that found no index waits for the
    build another process is writing, instead of starting a second one."""
    with open(Path(root) / ".lock", "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_SH)
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def current_build(root: Path, hint: str | None = None) -> Path:
    """The build folder CURRENT points to; `hint`, the rebuild command, ends every error message."""
    pointer = Path(root) / "CURRENT"
    try:
        exists = pointer.is_file()
    except OSError as e:  # a folder on the way that this user may not enter
        raise unreadable(pointer, e, hint) from e
    if not exists:
        raise IndexMissingError(f"no index at {root}" + (f"; build it: {hint}" if hint else ""))
    fix = f"; rebuild it: {hint}" if hint else ""
    try:
        # A flipped bit can make the pointer invalid UTF-8: that is a damaged index, not a crash.
        name = pointer.read_bytes().decode("utf-8").strip()
    except OSError as e:
        raise unreadable(pointer, e, hint) from e
    except UnicodeDecodeError as e:
        raise IndexInvalidError(f"the index pointer {pointer} is damaged (not text){fix}") from e
    if not _is_build_name(name):
        raise IndexInvalidError(f"the index pointer {pointer} is damaged{fix}")
    return Path(root) / "builds" / name


def unreadable(path: Path, e: OSError, hint: str | None) -> StorageError | IndexInvalidError:
    """The error for an index file the OS would not read: permission is not damage."""
    cause = os_cause(e)
    if cause == PERMISSION:
        return StorageError(f"cannot read the index file {path}: {cause}; {os_fix(e, path)}")
    return IndexInvalidError(f"cannot read the index file {path}: {cause}; {os_fix(e, path)}, then rebuild it"
                             + (f": {hint}" if hint else ""))


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
    damaged = f"the index manifest {path} is damaged"
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise IndexInvalidError(f"{damaged} (larger than {MAX_MANIFEST_BYTES // 1_000_000} MB); rebuild it: {hint}")
        data = path.read_bytes()
    except OSError as e:
        raise unreadable(path, e, hint) from e
    try:
        text = data.decode("utf-8")
        if json_depth(text) > MAX_MANIFEST_DEPTH:
            raise ValueError("nested too deeply")
        manifest = json.loads(text)
        files = manifest["files"]
        version = manifest["format_version"]
        # Valid JSON of the wrong shape is as damaged as invalid JSON.
        if not isinstance(files, dict) or not isinstance(manifest.get("model", {}), dict):
            raise TypeError("unexpected manifest layout")
    except (ValueError, KeyError, TypeError, RecursionError) as e:
        raise IndexInvalidError(f"{damaged}; rebuild it: {hint}") from e
    if not isinstance(version, int) or isinstance(version, bool):
        raise IndexInvalidError(f"{damaged} (its format_version is {json.dumps(version, ensure_ascii=False)[:40]}, "
                                f"not a number); rebuild it: {hint}")
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
            raise unreadable(f, e, hint) from e
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


def json_depth(text: str) -> int:
    """How deeply brackets nest in a JSON text (brackets inside strings do not count); linear."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def load_vectors(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


Progress = Callable[[str], None]

# A write that fails with less than this left on the disk failed because the disk is full, whatever
# the library said ("48000 requested and 25568 written").
NEARLY_FULL = 16 * 2**20


class BuildGuard:
    """Turns any OS or library error of a build into one StorageError line, removing the build folder.

    The build folder is removed unless CURRENT already names it (the switch happened: it is the
    index in use). The old index is never touched: CURRENT moves only after the manifest is written.
    """

    def __init__(self, root: Path, hint: str) -> None:
        self.root, self.hint, self.build_dir = Path(root), hint, None

    def track(self, build_dir: Path) -> Path:
        self.build_dir = build_dir
        return build_dir

    def __enter__(self) -> BuildGuard:
        return self

    def __exit__(self, kind, e, tb) -> bool:
        if e is None:
            return False
        if self.build_dir is not None and _pointer_name(self.root) != self.build_dir.name:
            shutil.rmtree(self.build_dir, ignore_errors=True)
        for tmp in self.root.glob(f".CURRENT.{os.getpid()}.tmp"):
            tmp.unlink(missing_ok=True)
        if isinstance(e, (OSError, RuntimeError, MemoryError)):
            raise self.error(e) from e
        return False

    def error(self, e: BaseException) -> StorageError:
        # faiss leads with its C++ signature and source line: keep what it says after "Error: ".
        detail = " ".join(str(e).split()).rsplit("Error: ", 1)[-1][:200] or type(e).__name__
        cause = os_cause(e)
        try:
            if self.root.exists() and shutil.disk_usage(self.root).free < NEARLY_FULL:
                cause = DISK_FULL
        except OSError:
            pass
        kept = " The index in use is unchanged." if _pointer_name(self.root) else ""
        if cause == DISK_FULL:
            need = folder_size(self.root / "builds" / (_pointer_name(self.root) or "-"))
            room = f" (the index in use takes {need / 2**20:.1f} MB; a build needs as much again)" if need else ""
            what = f"the disk holding {self.root} is full ({detail}); free some space{room}"
        elif cause in (PERMISSION, READ_ONLY):
            what = f"cannot write the index at {self.root}: {cause} ({detail}); {os_fix(e, self.root)}"
        elif isinstance(e, MemoryError):
            what = "the build ran out of memory; split the plans or build on a machine with more memory"
        else:
            what = f"writing the index at {self.root} failed ({detail}); {os_fix(e, self.root)}"
        return StorageError(f"{what}, then run: {self.hint}.{kept}")


def folder_size(folder: Path) -> int:
    """Bytes in the files under a folder (0 when it does not exist)."""
    try:
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    except OSError:
        return 0
