"""Warm query latency on the plan: dense, BM25, hybrid and the full answer, with planqa's own code.

Child process (default thread settings: what `planqa` does):
    python -m bench.plan --index DIR --passes 3 --out FILE

"uncached" clears the Searcher's query-embedding cache before each pass over the 173 eval
questions, so every question is encoded afresh (a new question); "cached" asks them again
(a repeated question, e.g. a clicked example). The answer path is answer() plus answer_text().
"""
from __future__ import annotations

from pathlib import Path

from .common import SEEDS, Context, busy_core, child_args, child_env, questions, run_child, summary, timed, write_json

MODES = ("dense", "bm25", "hybrid")


def _first_rank(q, hits) -> int | None:
    from planqa.eval.metrics import first_hit_rank

    return first_hit_rank(q, [{"text": h.passage.text, "document": h.passage.document} for h in hits])


def accuracy(ranks: list[int | None]) -> dict:
    return {f"accuracy@{k}": round(sum(1 for r in ranks if r and r <= k) / len(ranks), 4) for k in (1, 5)}


def measure(index: Path, passes: int) -> dict:
    from planqa.index.errors import InputError
    from planqa.index.search import Searcher
    from planqa.qa.answer import answer, clean_question
    from planqa.qa.render import answer_text

    searcher = Searcher.load(index, SEEDS)
    qset = []
    for q in questions():
        try:
            qset.append((q, clean_question(q.question)))
        except InputError:
            continue
    texts = [t for _, t in qset]
    cache = getattr(searcher, "_embed_query", None)
    if not hasattr(cache, "cache_clear"):
        raise RuntimeError("Searcher._embed_query is no longer an lru_cache: update bench/plan.py")

    for t in texts[:10]:  # warm up: first calls load jieba's dictionary, touch every page of the index
        answer(searcher, t)
    cache.cache_clear()

    def uncached(fn, n_passes: int) -> list[float]:
        out = []
        for _ in range(n_passes):
            cache.cache_clear()
            out += timed(fn, texts)
        return out

    result: dict = {"questions": len(texts), "passes": passes, "passages": len(searcher.passages),
                    "dense_index": type(searcher.dense).__name__,
                    "query_threads": getattr(searcher.embedder, "query_threads", None)}
    result["encode"] = summary(timed(lambda t: searcher.embedder.embed_queries([t]), texts, passes))
    for mode in MODES:
        def fn(t, mode=mode):
            return searcher.search(t, k=5, mode=mode)
        result[mode] = {"uncached": summary(uncached(fn, passes)), "cached": summary(timed(fn, texts, passes))}

    def full(t):
        return answer_text(answer(searcher, t, k=5))
    result["answer"] = {"uncached": summary(uncached(full, passes)), "cached": summary(timed(full, texts, passes))}

    with busy_core():
        result["busy"] = {
            "encode": summary(timed(lambda t: searcher.embedder.embed_queries([t]), texts, passes)),
            "hybrid": {"uncached": summary(uncached(lambda t: searcher.search(t, k=5), passes))},
        }

    ranks = [_first_rank(q, searcher.search(t, k=5)) for q, t in qset if q.answerable]
    result["accuracy"] = {"answerable": len(ranks), **accuracy(ranks)}
    return result


def run(ctx: Context) -> dict:
    return run_child("bench.plan", ["--index", str(ctx.index), "--passes", "1" if ctx.quick else "3"], child_env(ctx))


def main(argv: list[str] | None = None) -> int:
    args = child_args(__doc__, argv, ("--index", {"type": Path, "required": True}))
    write_json(args.out, measure(args.index, args.passes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
