"""Download files for the commitments tab, in a folder of planqa's own cache.

One folder per filter (a hash of the filter), each file written once and then reused: typing in the
keyword box does not pile up files, and no request makes a new temporary folder. The folder is
emptied when the server starts and holds at most `cap` filters; the least recently used go first.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

DEFAULT_CAP = 64  # filters kept; each is two files of ~30 KB (CSV + XLSX of the whole plan)


def downloads_dir(cache: Path) -> Path:
    """Where the server writes download files: <cache>/downloads."""
    return Path(cache) / "downloads"


class Downloads:
    def __init__(self, root: Path, cap: int = DEFAULT_CAP) -> None:
        if cap < 1:
            raise ValueError(f"cap must be >= 1, got {cap}")
        self.root = Path(root)
        self.cap = cap
        self._lock = threading.Lock()
        self.sweep()

    def sweep(self) -> None:
        """Empty the folder (files of an earlier run may describe another plan)."""
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True, mode=0o700)

    def path(self, key: str, name: str, write: Callable[[Path], object]) -> Path:
        """The file `name` for the filter `key`, written by `write(path)` the first time it is asked for."""
        folder = self.root / hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
        target = folder / name
        with self._lock:
            if not target.exists():
                folder.mkdir(exist_ok=True)
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
