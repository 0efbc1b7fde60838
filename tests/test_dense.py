"""The dense index type follows corpus size: exact up to EXACT_LIMIT, IVF past it."""
import numpy as np
from planqa.index.dense import (
    EXACT_LIMIT,
    dense_search,
    make_dense_index,
    nlist_for,
    nprobe_for,
    read_dense_index,
    write_dense_index,
)


def test_nlist_and_nprobe_rules():
    assert [nlist_for(n) for n in (10_000, 100_000, 1_000_000)] == [400, 1264, 4000]  # the sizes bench/scale.py measures
    assert [nprobe_for(n) for n in (100, 1264, 4000, 8000)] == [100, 256, 500, 1000]


def test_ivf_past_the_exact_limit_round_trips_and_finds_neighbours(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(64, 32)).astype(np.float32)
    vectors = centres[rng.integers(0, 64, EXACT_LIMIT + 1000)] + 0.3 * rng.normal(size=(EXACT_LIMIT + 1000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = make_dense_index(vectors)
    assert type(index).__name__ == "IndexIVFFlat" and index.nlist == nlist_for(len(vectors)) == 903
    assert index.nprobe == nprobe_for(index.nlist) == 256
    write_dense_index(index, tmp_path / "d.faiss")
    again = read_dense_index(tmp_path / "d.faiss")
    assert again.nprobe == index.nprobe and again.ntotal == len(vectors)
    queries = vectors[:20] + 0.01
    found = 0
    for q in queries:
        q = q / np.linalg.norm(q)
        exact = set(np.argsort(-(vectors @ q))[:10])
        found += len(exact & set(dense_search(again, q, 10)[1].tolist()))
    assert found / 200 >= 0.95


def test_small_corpus_is_exact():
    vectors = np.eye(8, dtype=np.float32)
    index = make_dense_index(vectors)
    assert type(index).__name__ == "IndexFlatIP"
    scores, ids = dense_search(index, vectors[3], 3)
    assert ids[0] == 3 and scores[0] == 1.0
