"""Thread policy for encoding one question: 1 vs 2 OpenMP threads, spinning or passive.

Each policy runs in its own child process (OpenMP reads its settings when the engine loads), and
is measured idle and with the other core kept busy by a bounded background spinner:
    PLANQA_QUERY_THREADS=2 OMP_WAIT_POLICY=passive python -m bench.threads --passes 3 --out FILE
Batch passage encoding (all cores, as in a build) is timed too: a wait policy applies to both.
"""
from __future__ import annotations

import os
import time

from .common import Context, busy_core, child_args, child_env, corpus_sentences, questions, run_child, summary, timed, write_json

POLICIES = {
    "1 thread": {"PLANQA_QUERY_THREADS": "1"},
    "2 threads": {"PLANQA_QUERY_THREADS": "2"},
    "2 threads, OMP_WAIT_POLICY=passive": {"PLANQA_QUERY_THREADS": "2", "OMP_WAIT_POLICY": "passive"},
}


def measure(passes: int, batch_sentences: int) -> dict:
    from planqa.index.build import BATCH
    from planqa.index.embed import load_embedder

    embedder = load_embedder()
    texts = [q.question for q in questions()]
    for t in texts[:10]:
        embedder.embed_queries([t])

    def encode(t: str) -> None:
        embedder.embed_queries([t])

    sentences = corpus_sentences(batch_sentences, seed=1)
    started = time.perf_counter()
    for i in range(0, len(sentences), BATCH):
        embedder.embed_passages(sentences[i:i + BATCH])
    batch_rate = len(sentences) / (time.perf_counter() - started)
    result = {"env": {k: os.environ.get(k) for k in ("PLANQA_QUERY_THREADS", "OMP_WAIT_POLICY")},
              "query_threads": getattr(embedder, "query_threads", None), "passes": passes,
              "idle": summary(timed(encode, texts, passes)), "batch_passages_per_s": round(batch_rate, 1)}
    with busy_core():  # one pass: two spinning threads on a busy core take up to seconds a question
        result["busy"] = summary(timed(encode, texts, 1))
    return result


def run(ctx: Context) -> dict:
    args = ["--passes", "1" if ctx.quick else "3", "--batch", "64" if ctx.quick else "256"]
    return {name: run_child("bench.threads", args, child_env(ctx, **env)) for name, env in POLICIES.items()}


def recommend(res: dict) -> str:
    """The policy with the best p99 with the other core busy, unless it costs >20% idle p50 for <10% gain."""
    by_tail = sorted(res, key=lambda k: res[k]["busy"]["p99"])
    best = by_tail[0]
    one = "1 thread"
    if best != one and one in res:
        gain = 1 - res[best]["busy"]["p99"] / res[one]["busy"]["p99"]
        if gain < 0.10 and res[best]["idle"]["p50"] > res[one]["idle"]["p50"] * 1.2:
            return one
    return best


def main(argv: list[str] | None = None) -> int:
    args = child_args(__doc__, argv, ("--batch", {"type": int, "default": 256, "help": "sentences for the batch encoding rate"}))
    write_json(args.out, measure(args.passes, args.batch))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
