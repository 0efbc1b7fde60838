"""Download files for the commitments tab, in a folder of planqa's own cache.

One folder per filter (a hash of the filter), each file written once and then reused: typing in the
keyword box does not pile up files, and no request makes a new temporary folder. Each server has a
folder of its own under <cache>/downloads, locked (flock) while it runs, so two servers sharing a
cache folder never delete each other's files; a server starting removes the folders of servers that
are gone (their lock is free). A server's folder holds at most `cap` filters; the least recently
used go first.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

LOCK = ".lock"  # <downloads>/<server>.lock beside <downloads>/<server>/, held by that server

DEFAULT_CAP = 64  # filters kept; each is two files of ~30 KB (CSV + XLSX of the whole plan)


def downloads_dir(cache: Path) -> Path:
    """Where the server writes download files: <cache>/downloads."""
    return Path(cache) / "downloads"


class Downloads:
    """This server's download files: `root`, a folder of its own under `parent`."""

    def __init__(self, parent: Path, cap: int = DEFAULT_CAP) -> None:
        if cap < 1:
            raise ValueError(f"cap must be >= 1, got {cap}")
        self.parent = Path(parent)
        self.cap = cap
        self._lock = threading.Lock()
        self.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._fd, name = self._claim()
        self.root = self.parent / name
        self.sweep()
        self.root.mkdir(mode=0o700)

    def _claim(self) -> tuple[int, str]:
        """A new name and its lock file, locked by this process until it ends (or `close`)."""
        while True:
            name = f"server-{os.getpid()}-{secrets.token_hex(4)}"
            lock = self.parent / (name + LOCK)
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            # A sweep may have taken the new file for a dead server's before it was locked, and removed it.
            if lock.exists() and os.stat(lock).st_ino == os.fstat(fd).st_ino:
                return fd, name
            os.close(fd)

    def sweep(self) -> None:
        """Remove what servers that are gone left in `parent` (files of an earlier run may describe
        another plan): each folder whose lock no process holds, and loose files from before."""
        names = {e.name[: -len(LOCK)] if e.name.endswith(LOCK) else e.name for e in self.parent.iterdir()}
        for name in sorted(names - {self.root.name}):
            lock = self.parent / (name + LOCK)
            try:
                fd = os.open(lock, os.O_RDWR)
            except FileNotFoundError:
                fd = None  # no lock: nobody's (a server writes its lock before its folder)
            try:
                if fd is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # its server is running
                entry = self.parent / name
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                lock.unlink(missing_ok=True)
            finally:
                if fd is not None:
                    os.close(fd)

    def close(self) -> None:
        """Give up the folder: the next server to start removes it."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def path(self, key: str, name: str, write: Callable[[Path], object]) -> Path:
        """The file `name` for the filter `key`, written by `write(path)` the first time it is asked for."""
        folder = self.root / hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
        target = folder / name
        with self._lock:
            if not target.exists():
                folder.mkdir(parents=True, exist_ok=True)
                tmp = folder / f".{name}.{threading.get_ident()}.tmp"
                write(tmp)
                os.replace(tmp, target)
            now = time.time()
            os.utime(folder, (now, now))
            self._cap()
        return target

    def _cap(self) -> None:
        folders = sorted((f for f in self.root.iterdir() if f.is_dir()), key=lambda f: f.stat().st_mtime)
        for old in folders[: max(0, len(folders) - self.cap)]:
            shutil.rmtree(old, ignore_errors=True)

    def count(self) -> int:
        """How many filters have files on disk."""
        return sum(1 for f in self.root.iterdir() if f.is_dir())
