"""The errors planqa raises; the CLI and the page turn them into messages for people."""
from __future__ import annotations

import errno


class PlanQAError(Exception):
    """Base class: the message is written for the person using planqa."""


class InputError(PlanQAError):
    """A question or option the user gave cannot be used as it is."""


class IndexMissingError(PlanQAError):
    """No index has been built at the given place."""


class IndexInvalidError(PlanQAError):
    """The index on disk is corrupt, half written, or in an unknown format."""


class IndexStaleError(PlanQAError):
    """The index was built from other seeds or with another model."""


class IndexOutdatedError(IndexStaleError):
    """The index was built by an earlier planqa (files or manifest fields it lacks): rebuilding it
    from the same seeds loses nothing, so the commands that build a missing index rebuild this one."""


class IndexBusyError(PlanQAError):
    """Another build holds the index lock."""


class StorageError(PlanQAError):
    """The disk refused a build or a load: full, read-only, not ours to read or write, or failing."""


class ModelError(PlanQAError):
    """The embedding model could not be loaded or used."""


class SeedsError(PlanQAError):
    """The seeds folder is missing or holds no plan text."""


def rebuild_hint(seeds_dir: object, index_dir: object, model: str | None = None) -> str:
    """The command that rebuilds an index, quoted in error messages."""
    cmd = f"planqa index --seeds {seeds_dir} --out {index_dir}"
    if model and model != "e5-small-q4":
        cmd += f" --model {model}"
    return cmd


DISK_FULL = "the disk is full"
PERMISSION = "permission denied"
READ_ONLY = "the file system is read-only"
DISK_ERROR = "the disk reported an error"
# What a library says when the disk fills under it: faiss ("No space left on device"), numpy's
# tofile ("48000 requested and 25568 written"): no errno to go by.
_FULL_WORDS = ("no space left", "requested and", "disk quota")


def os_cause(e: BaseException) -> str:
    """The cause of an OS or library error in a few words: disk full, permission, read-only, I/O."""
    no = getattr(e, "errno", None)
    text = str(e).lower()
    if no in (errno.ENOSPC, errno.EDQUOT) or any(w in text for w in _FULL_WORDS):
        return DISK_FULL
    if no in (errno.EACCES, errno.EPERM) or "permission denied" in text:
        return PERMISSION
    if no == errno.EROFS or "read-only file system" in text:
        return READ_ONLY
    if no == errno.EIO or "input/output error" in text:
        return DISK_ERROR
    return f"{type(e).__name__}: {e}" if not str(e) else str(e)


def os_fix(e: BaseException, path: object) -> str:
    """What to do about an OS error at `path`, as a short imperative."""
    cause = os_cause(e)
    if cause == DISK_FULL:
        return f"free some space on the disk holding {path}"
    if cause == PERMISSION:
        return f"run planqa as the user who owns {path}, or give that user access to it (chown/chmod)"
    if cause == READ_ONLY:
        return f"{path} is on a read-only disk: use a writable folder"
    if cause == DISK_ERROR:
        return f"check the disk holding {path} (dmesg, smartctl)"
    return f"check {path}"
