"""Dense side of the index: FAISS inner product over L2-normalised vectors.

Exact search (IndexFlatIP) up to EXACT_LIMIT passages; past that an IVF index, so that a
million passages stays usable. How many lists a search visits is the recall/speed trade-off,
measured in bench/ (docs/benchmarks.md): at 1,000,000 passages, nlist 4000 with nprobe 32 found
only half of the exact top 10; nprobe 512 found 0.964 at 20 ms p50, and 256 of 1264 lists 0.965
at 100,000.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

EXACT_LIMIT = 50_000
MIN_NPROBE = 256


def nprobe_for(nlist: int) -> int:
    """Lists to visit per search: an eighth of them, at least MIN_NPROBE (recall@10 >= 0.95)."""
    return min(nlist, max(MIN_NPROBE, nlist // 8))


def make_dense_index(vectors: np.ndarray):
    import faiss

    n, dim = vectors.shape
    if n <= EXACT_LIMIT:
        index = faiss.IndexFlatIP(dim)
    else:
        nlist = int(4 * math.sqrt(n))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(n, size=min(n, 64 * nlist), replace=False)]
        index.train(sample)
        index.nprobe = nprobe_for(nlist)
    index.add(vectors)
    return index


def write_dense_index(index, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def read_dense_index(path: Path):
    import faiss

    index = faiss.read_index(str(path))
    if hasattr(index, "nprobe"):
        index.nprobe = nprobe_for(index.nlist)
    return index


def dense_search(index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) for one normalised query vector; ids of -1 are dropped."""
    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    scores, ids = index.search(query.reshape(1, -1).astype(np.float32), k)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]
