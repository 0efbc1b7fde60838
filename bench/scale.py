"""Scale: FAISS exact vs approximate and BM25 at 10k, 100k and 1M passages, on synthetic data.

Vectors are SYNTHETIC: normalised float32 drawn from a Gaussian with the mean and covariance of
real multilingual-e5-small embeddings of plan-like sentences (the bundled model on the synthetic
corpus of common.corpus_sentences). It has no topical clusters, which makes it harder for IVF
than real text. Queries are perturbed corpus vectors, x + ALPHA·(Gaussian with the same
covariance), renormalised; ALPHA is set so that a query's source stands out from the rest of the
corpus about as much as a real question's best passage stands out from the plan (z-score; both
reported). Recall@10 is against exact search (IndexFlatIP) for the same queries.

BM25 docs are SYNTHETIC too: token ids drawn from the plan's own jieba vocabulary with its
frequencies and the plan's passage lengths; queries are the eval questions' real tokens. A
vocabulary of ~1k words makes posting lists long: pessimistic for BM25 at 1M.

Each (kind, size) runs in its own child, so memory is that child's alone:
    python -m bench.scale vectors --n 1000000 --fit PREFIX --out FILE
    python -m bench.scale bm25 --n 1000000 --out FILE
"""
from __future__ import annotations

import argparse
import gc
import math
import time
from pathlib import Path

import numpy as np

from .common import SEEDS, Context, child_env, questions, rss_kb, run_child, summary, timed, write_json

ALPHA = 1.5
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
NPROBES = (16, 32, 64, 128, 256, 384, 512, 640, 768, 1024)
EF_SEARCH = (16, 32, 64, 128, 256, 512, 1024)
RECALL_TARGET = 0.95
SECTION, CHAPTER = 4, 16  # sentences per section and per chapter, as in the plan (125 in 31 sections, 7 chapters)
LATENCY_TARGET_MS = 50.0


class Synthetic:
    """A Gaussian fitted to real embeddings, with the plan's section structure; draws normalised vectors.

    A vector is mean + √f_ch·chapter + √(f_sec − f_ch)·section + √(1 − f_sec)·own, each term drawn
    with the real covariance, so sentences of one section (SECTION of them) and one chapter (CHAPTER
    sentences) are as much alike as in the plan (`structure`).
    """

    def __init__(self, real: np.ndarray, seed: int, f_chapter: float, f_section: float) -> None:
        self.mean = real.mean(axis=0).astype(np.float32)
        _, s, vt = np.linalg.svd(real - self.mean, full_matrices=False)
        self.basis = ((s[:, None] * vt) / math.sqrt(len(real) - 1)).astype(np.float32)  # cov = basisᵀ·basis
        self.rng = np.random.default_rng(seed)
        self.weights = [math.sqrt(f_chapter), math.sqrt(max(0.0, f_section - f_chapter)), math.sqrt(max(0.0, 1 - f_section))]

    def noise(self, n: int) -> np.ndarray:
        return self.rng.standard_normal((n, self.basis.shape[0]), dtype=np.float32) @ self.basis

    def vectors(self, n: int, chunk: int = 100_000) -> np.ndarray:
        out = np.empty((n, self.basis.shape[1]), np.float32)
        w_ch, w_sec, w_own = self.weights
        for i in range(0, n, chunk):
            m = min(chunk, n - i)
            x = self.mean + w_own * self.noise(m)
            x += w_sec * np.repeat(self.noise(-(-m // SECTION)), SECTION, axis=0)[:m]
            x += w_ch * np.repeat(self.noise(-(-m // CHAPTER)), CHAPTER, axis=0)[:m]
            out[i:i + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
        return out

    def queries(self, xb: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        src = self.rng.choice(len(xb), size=n, replace=False)
        q = xb[src] + ALPHA * self.noise(n)
        return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32), src


def structure(vectors: np.ndarray, passages: list) -> dict:
    """Shared-variance fractions of the real plan: sentences in one chapter, and in one section.

    f = (mean cosine within the group − mean cosine across chapters) / (1 − the latter).
    """
    sec = np.array([(p.chapter_no, p.section_no) for p in passages])
    same_ch = sec[:, None, 0] == sec[None, :, 0]
    same_sec = same_ch & (sec[:, None, 1] == sec[None, :, 1])
    upper = np.triu(np.ones(same_ch.shape, dtype=bool), 1)
    cos = vectors @ vectors.T
    base = cos[upper & ~same_ch].mean()
    frac = {name: float((cos[upper & mask].mean() - base) / (1 - base))
            for name, mask in (("f_chapter", same_ch & ~same_sec), ("f_section", same_sec))}
    return {k: round(max(0.0, v), 3) for k, v in frac.items()}


def zscores(queries: np.ndarray, corpus: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """How far each query's target passage stands above the corpus mean (a 20k sample), in standard deviations."""
    rng = np.random.default_rng(1)
    s = queries @ corpus[rng.choice(len(corpus), size=min(len(corpus), 20_000), replace=False)].T
    return (np.sum(queries * corpus[targets], axis=1) - s.mean(axis=1)) / s.std(axis=1)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / truth.shape[1] for a, b in zip(found, truth)]))


def latency(index, queries: np.ndarray) -> dict:
    out = []
    for q in queries:
        t = time.perf_counter()
        index.search(q.reshape(1, -1), 10)
        out.append(time.perf_counter() - t)
    return summary(out)


def _built(make):
    gc.collect()
    before = rss_kb()
    started = time.perf_counter()
    index = make()
    seconds = time.perf_counter() - started
    gc.collect()
    return index, {"build_s": round(seconds, 2), "rss_delta_mb": round((rss_kb() - before) / 1024, 1)}


def index_mb(index) -> float:
    """What a FAISS index holds, computed from its parts (RSS deltas miss reused memory)."""
    import faiss

    n, d = index.ntotal, index.d
    size = n * d * 4  # Flat, and the vectors inside IVFFlat and HNSWFlat
    if isinstance(index, faiss.IndexIVF):
        size += n * 8 + index.nlist * d * 4  # ids, centroids
    elif isinstance(index, faiss.IndexHNSW):
        size += index.hnsw.neighbors.size() * 4 + n * 4 + (n + 1) * 8  # links, levels, offsets
    return round(size / 2**20, 1)


def best(sweep: list[dict]) -> dict | None:
    """The fastest setting that reaches the recall target."""
    ok = [r for r in sweep if r["recall@10"] >= RECALL_TARGET]
    return min(ok, key=lambda r: r["latency"]["p50"]) if ok else None


def vectors(n: int, fit: Path, n_queries: int, n_latency: int, hnsw: bool, f_chapter: float, f_section: float) -> dict:
    import faiss
    from planqa.index.dense import EXACT_LIMIT, make_ivf, nlist_for, nprobe_for

    syn = Synthetic(np.load(f"{fit}-corpus.npy"), seed=n, f_chapter=f_chapter, f_section=f_section)
    started = time.perf_counter()
    xb = syn.vectors(n)
    q, src = syn.queries(xb, n_queries)
    out: dict = {"n": n, "dim": xb.shape[1], "generate_s": round(time.perf_counter() - started, 1),
                 "queries": n_queries, "latency_queries": n_latency, "faiss_threads": faiss.omp_get_max_threads(),
                 "query_source_z_median": round(float(np.median(zscores(q[:200], xb, src[:200]))), 2)}
    lat_q = q[:n_latency]

    flat, out["flat"] = _built(lambda: _flat(xb))
    out["flat"]["size_mb"] = index_mb(flat)
    started = time.perf_counter()
    truth = flat.search(q, 10)[1]
    out["flat"]["batch_search_s"] = round(time.perf_counter() - started, 2)
    out["flat"]["latency"] = latency(flat, lat_q)
    out["flat"]["source_in_top10"] = round(float(np.mean([s in t for s, t in zip(src, truth)])), 3)
    del flat

    nlist = nlist_for(n)
    # planqa's own IVF recipe; below EXACT_LIMIT planqa searches exactly, and the IVF is for comparison
    ivf, stats = _built(lambda: make_ivf(xb, nlist))
    stats["built_by"] = "index.dense.make_ivf" + ("" if n > EXACT_LIMIT else " (planqa uses Flat at this size)")
    default = nprobe_for(nlist)
    stats.update(type=type(ivf).__name__, nlist=nlist, default_nprobe=default, size_mb=index_mb(ivf), sweep=[])
    for nprobe in sorted(p for p in {*NPROBES, default} if p <= nlist):
        ivf.nprobe = nprobe
        stats["sweep"].append({"nprobe": nprobe, "recall@10": round(recall(ivf.search(q, 10)[1], truth), 4),
                               "latency": latency(ivf, lat_q)})
    stats["at_default"] = next((r for r in stats["sweep"] if r["nprobe"] == default), None)
    stats["best"] = best(stats["sweep"])
    out["ivf"] = stats
    del ivf

    if hnsw:
        index, stats = _built(lambda: _hnsw(xb))
        stats.update(M=HNSW_M, efConstruction=HNSW_EF_CONSTRUCTION, size_mb=index_mb(index), sweep=[])
        for ef in EF_SEARCH:
            index.hnsw.efSearch = ef
            stats["sweep"].append({"efSearch": ef, "recall@10": round(recall(index.search(q, 10)[1], truth), 4),
                                   "latency": latency(index, lat_q)})
        stats["best"] = best(stats["sweep"])
        out["hnsw"] = stats
        del index
    out["peak_rss_mb"] = round(rss_kb(key="VmHWM") / 1024, 1)
    out["vectors_mb"] = round(xb.nbytes / 2**20, 1)
    return out


def _flat(xb: np.ndarray):
    import faiss

    index = faiss.IndexFlatIP(xb.shape[1])
    index.add(xb)
    return index


def _hnsw(xb: np.ndarray):
    import faiss

    index = faiss.IndexHNSWFlat(xb.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(xb)
    return index


def bm25(n: int, passes: int) -> dict:
    from collections import Counter

    from planqa.index.lexical import LexicalIndex, tokenize
    from planqa.index.parse import parse_seeds

    plan = [tokenize(p.text) for p in parse_seeds(SEEDS)]
    counts = Counter(t for doc in plan for t in doc)
    vocab = sorted(counts)
    p = np.array([counts[t] for t in vocab], dtype=np.float64)
    rng = np.random.default_rng(n)
    lengths = rng.choice([max(1, len(d)) for d in plan], size=n)
    ids = rng.choice(len(vocab), size=int(lengths.sum()), p=p / p.sum())
    ends = np.cumsum(lengths)
    started = time.perf_counter()
    docs = [[vocab[i] for i in ids[e - m:e]] for e, m in zip(ends, lengths)]
    make_s = time.perf_counter() - started
    del ids
    lexical, stats = _built(lambda: LexicalIndex.build(docs))
    docs = []  # free the token lists before timing queries
    gc.collect()
    qtok = [tokenize(q.question) for q in questions()]

    def scores(t):
        return lexical.scores(t)

    def searcher_top(t):  # what Searcher.search does with the scores
        s = lexical.scores(t)
        return np.argsort(-s)[:50]

    def partition_top(t):
        s = lexical.scores(t)
        return np.argpartition(-s, 50)[:50]

    for t in qtok[:5]:
        scores(t)
    out = {"n": n, "vocabulary": len(vocab), "tokens": int(lengths.sum()), "docs_s": round(make_s, 1), **stats}
    for name, fn in (("scores", scores), ("scores_argsort_top50", searcher_top), ("scores_argpartition_top50", partition_top)):
        out[name] = summary(timed(fn, qtok, passes))
    out["peak_rss_mb"] = round(rss_kb(key="VmHWM") / 1024, 1)
    return out


def real_stats(ctx: Context, fit: Path) -> dict:
    """From the real plan index: its structure, and how far a real question's best passage stands out."""
    from planqa.index.parse import parse_seeds

    current = (ctx.index / "CURRENT").read_text().strip()
    plan = np.load(ctx.index / "builds" / current / "vectors.npy")
    qv = np.load(f"{fit}-queries.npy")
    keep = np.array([q.answerable for q in questions()])
    s = qv[keep] @ plan.T
    z = float(np.median((s.max(axis=1) - s.mean(axis=1)) / s.std(axis=1)))
    return {"real_question_z_median": round(z, 2), **structure(plan, parse_seeds(SEEDS))}


def run(ctx: Context, fit: Path) -> dict:
    sizes = (10_000, 100_000) if ctx.quick else (10_000, 100_000, 1_000_000)
    nq, nl = (200, 50) if ctx.quick else (500, 100)
    out = {"alpha": ALPHA, "section": SECTION, "chapter": CHAPTER, **real_stats(ctx, fit), "vectors": [], "bm25": []}
    for n in sizes:
        args = ["vectors", "--n", str(n), "--fit", str(fit), "--queries", str(nq), "--latency-queries", str(nl),
                "--f-chapter", str(out["f_chapter"]), "--f-section", str(out["f_section"])]
        out["vectors"].append(run_child("bench.scale", args, child_env(ctx), timeout=3600))
    for n in sizes:
        out["bm25"].append(run_child("bench.scale", ["bm25", "--n", str(n), "--passes", "1" if ctx.quick else "2"],
                                     child_env(ctx), timeout=3600))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kind", choices=("vectors", "bm25"))
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--fit", type=Path, help="prefix of real vectors (PREFIX-corpus.npy) to fit the Gaussian on")
    ap.add_argument("--queries", type=int, default=500, help="queries for recall")
    ap.add_argument("--latency-queries", type=int, default=200, help="single queries timed")
    ap.add_argument("--no-hnsw", action="store_true")
    ap.add_argument("--f-chapter", type=float, default=0.0, help="shared variance of a chapter's sentences")
    ap.add_argument("--f-section", type=float, default=0.0, help="shared variance of a section's sentences")
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.kind == "vectors":
        result = vectors(args.n, args.fit, args.queries, args.latency_queries, not args.no_hnsw, args.f_chapter, args.f_section)
    else:
        result = bm25(args.n, args.passes)
    write_json(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
