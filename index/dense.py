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

# Exact search up to here: it is linear in the passages, 0.77 ms p50 at 10,000 and 15.4 ms at 100,000
# (docs/benchmarks.md, "Scale"), so about 8 ms at 50,000, still well inside the query budget.
EXACT_LIMIT = 50_000
# IVF lists: nlist = LISTS_PER_ROOT·√n, the low end of FAISS's guideline (4 to 16·√n), the only
# one bench/scale.py measures: at 1,000,000 passages 4000 lists reach recall@10 0.962 at 19 ms p50.
LISTS_PER_ROOT = 4
# Training vectors per list: FAISS warns below 39; 64 trained 4000 lists (256,000 vectors) in 46 s
# at 1,000,000 passages (docs/benchmarks.md, "Scale", build s).
TRAIN_PER_LIST = 64
# nprobe floor: 256 of 1264 lists gave recall@10 0.965 at 100,000 passages (docs/benchmarks.md).
MIN_NPROBE = 256


def nlist_for(n: int) -> int:
    """IVF lists for n passages."""
    return int(LISTS_PER_ROOT * math.sqrt(n))


def nprobe_for(nlist: int) -> int:
    """Lists to visit per search: an eighth of them, at least MIN_NPROBE (recall@10 >= 0.95)."""
    return min(nlist, max(MIN_NPROBE, nlist // 8))


def make_ivf(vectors: np.ndarray, nlist: int):
    """An IVF index of `nlist` lists over the vectors, trained on a fixed sample, searching nprobe_for(nlist)."""
    import faiss

    n, dim = vectors.shape
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    index.train(vectors[rng.choice(n, size=min(n, TRAIN_PER_LIST * nlist), replace=False)])
    index.nprobe = nprobe_for(nlist)
    index.add(vectors)
    return index


def make_dense_index(vectors: np.ndarray):
    """Exact inner-product search up to EXACT_LIMIT passages, IVF past it."""
    import faiss

    n, dim = vectors.shape
    if n > EXACT_LIMIT:
        return make_ivf(vectors, nlist_for(n))
    index = faiss.IndexFlatIP(dim)
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
