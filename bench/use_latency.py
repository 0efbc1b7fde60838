"""New-question latency of the hybrid before issue 9 (e5 + BM25), the hand-weighted hybrid with USE
and the fitted hybrid (ranker, English rendering, abstainer), idle and with the other core busy
(all questions, the English ones, and repeated questions), and build throughput. One run, one process.

    python -m bench.use_latency [--passes 2]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _pct(xs: list[float]) -> dict:
    a = np.array(xs) * 1000
    return {"p50": round(float(np.percentile(a, 50)), 1), "p95": round(float(np.percentile(a, 95)), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=2, help="passes over the dev questions per setting")
    args = parser.parse_args(argv)
    from planqa.index.build import build_index
    from planqa.index.lexical import use_cache_dir
    from planqa.index.search import Searcher
    from planqa.qa.answer import answer

    tmp = Path(tempfile.mkdtemp(prefix="planqa-bench-"))
    use_cache_dir(tmp / "cache")
    t = time.perf_counter()
    build_index(ROOT / "seeds", tmp / "idx")
    build_s = time.perf_counter() - t
    s = Searcher.load(tmp / "idx", ROOT / "seeds")
    from planqa.index.embed_use import load_use
    texts = [p.text for p in s.passages] * 4
    t = time.perf_counter()
    load_use().embed(texts)
    use_rate = len(texts) / (time.perf_counter() - t)
    t = time.perf_counter()
    s.embedder.embed_passages(texts)
    e5_rate = len(texts) / (time.perf_counter() - t)
    questions = [json.loads(line)["question"] for line in open(ROOT / "eval" / "dev.jsonl", encoding="utf-8")]
    out = {"build_seconds": round(build_s, 2), "passages": len(s.passages),
           "e5_passages_per_s": round(e5_rate, 1), "use_passages_per_s": round(use_rate, 1)}
    for busy in (False, True):
        proc = None
        if busy:
            proc = mp.get_context("spawn").Process(target=_spin, args=(600,))
            proc.start()
        try:
            for mode in ("e5+bm25", "hand", "hybrid"):  # hand: the hybrid before the fitted ranker
                times, english = [], []
                for _ in range(args.passes):
                    s._embed_query.cache_clear()
                    s._embed_use.cache_clear()
                    s._rewrite.cache_clear()
                    for q in questions:
                        t = time.perf_counter()
                        a = answer(s, q, mode=mode)
                        times.append(time.perf_counter() - t)
                        if not any("\u4e00" <= ch <= "\u9fff" for ch in a.read_as):
                            english.append(times[-1])
                out[f"{mode} {'busy' if busy else 'idle'}"] = _pct(times)
                out[f"{mode} {'busy' if busy else 'idle'} english"] = _pct(english)
                for _ in range(2):  # the same questions again: every question cached
                    times = []
                    for q in questions:
                        t = time.perf_counter()
                        answer(s, q, mode=mode)
                        times.append(time.perf_counter() - t)
                out[f"{mode} {'busy' if busy else 'idle'} cached"] = _pct(times)
        finally:
            if proc is not None:
                proc.terminate()
                proc.join()
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
