"""The second encoder's cost, all from one run: new-question latency of the hybrid before issue 9
(e5 + BM25), the hand-weighted hybrid with USE and the fitted hybrid (ranker, English rendering,
abstainer), idle and with the other core busy (all questions, the English ones, repeated ones);
build throughput per encoder; USE's query threads; and cold `planqa ask` runs.

    python -m bench.use_latency               # bench/results.json ("use_latency") and its section of docs/benchmarks.md
    python -m bench.use_latency --no-docs     # print only; leave results.json and the docs alone
    python -m bench.use_latency --report-only # rewrite the docs section from bench/results.json
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .common import ROOT, busy_core, child_env, machine, replace_block, save_result

RESULTS = ROOT / "bench" / "results.json"
DOCS = ROOT / "docs" / "benchmarks.md"
MODES = ("e5+bm25", "hand", "hybrid")  # the hybrid before issue 9, the hand fusion with USE, the hybrid now
QUESTION = "今年新建几家养老服务驿站？"
COLD_RUNS = 3


def _pct(xs: list[float]) -> dict:
    a = np.array(xs) * 1000
    if not a.size:
        return {"n": 0}
    return {"n": int(a.size), "p50": round(float(np.percentile(a, 50)), 1), "p95": round(float(np.percentile(a, 95)), 1),
            "max": round(float(a.max()), 1)}


def _english(text: str) -> bool:
    return not any("\u4e00" <= ch <= "\u9fff" for ch in text)


def latency(s, questions: list[str], passes: int) -> dict:
    """Each mode: new questions (every cache cleared before each pass), the English ones apart, then
    the same questions again (every one cached)."""
    from planqa.qa.answer import answer

    out = {}
    for mode in MODES:
        times, english = [], []
        for _ in range(passes):
            s._embed_query.cache_clear()
            s._embed_use.cache_clear()
            s._rewrite.cache_clear()
            for q in questions:
                t = time.perf_counter()
                a = answer(s, q, mode=mode)
                times.append(time.perf_counter() - t)
                if _english(a.read_as):
                    english.append(times[-1])
        cached = []
        for _ in range(2):
            cached = []
            for q in questions:
                t = time.perf_counter()
                answer(s, q, mode=mode)
                cached.append(time.perf_counter() - t)
        out[mode] = {"new": _pct(times), "english": _pct(english), "cached": _pct(cached)}
    return out


def use_threads(questions: list[str], cache: Path) -> dict:
    """One question's USE encoding with one and with two BLAS threads."""
    from planqa.index.embed_use import UseEncoder

    out = {}
    for threads in (1, 2):
        enc = UseEncoder(threads=threads, cache=cache)
        enc.embed(["预热"])
        times = []
        for q in questions:
            t = time.perf_counter()
            enc.embed([q])
            times.append(time.perf_counter() - t)
        out[str(threads)] = _pct(times)
    return out


# Starts one `planqa ask` and reports its wall time and rusage. A small process of its own, because a
# child's peak RSS (ru_maxrss) starts at its parent's: started from this benchmark, it would read 470 MB.
_LAUNCH = """
import json, os, subprocess, sys, tempfile, time
with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
    started = time.perf_counter()
    proc = subprocess.Popen(json.loads(sys.argv[1]), stdout=out, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    print(json.dumps({"code": proc.returncode, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                      "peak_kb": usage.ru_maxrss, "stdout": out.read().decode(), "stderr": err.read().decode()[-2000:]}))
"""


def cold_ask(index: Path, cache: Path, runs: int = COLD_RUNS) -> dict:
    """`planqa ask` as a new process: wall time, CPU time and peak RSS of each run, and the load
    average just before it."""
    exe = Path(sys.executable).with_name("planqa")
    cmd = ([str(exe)] if exe.is_file() else [sys.executable, "-m", "planqa"]) + [
        "ask", "--index", str(index), "--seeds", str(ROOT / "seeds"), QUESTION]
    env = child_env(None, PLANQA_CACHE=str(cache))
    timed = []
    for _ in range(runs):
        load = round(os.getloadavg()[0], 2)
        got = subprocess.run([sys.executable, "-c", _LAUNCH, json.dumps(cmd)], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=300)
        if got.returncode != 0:
            raise RuntimeError(f"the cold-start launcher failed: {got.stderr[-2000:]}")
        r = json.loads(got.stdout)
        if r["code"] != 0 or "计划中" not in r["stdout"]:
            raise RuntimeError(f"planqa ask failed ({r['code']}): {r['stderr']}")
        timed.append({"wall_s": round(r["wall_s"], 2), "cpu_s": round(r["cpu_s"], 2), "peak_rss_mb": round(r["peak_kb"] / 1024),
                      "load1": load})
    return {"command": f"planqa ask \"{QUESTION}\"", "runs": timed}


def run(passes: int, limit: int | None = None) -> dict:
    info = machine()
    tmp = Path(tempfile.mkdtemp(prefix="planqa-bench-"))
    try:
        return _run(tmp, info, passes, limit)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # an index and the cache copies: about 100 MB


def _run(tmp: Path, info: dict, passes: int, limit: int | None) -> dict:
    from planqa.index import caches
    from planqa.index.build import build_index
    from planqa.index.embed_use import load_use
    from planqa.index.lexical import new_tokenizer, use_cache_dir
    from planqa.index.search import Searcher

    cache = tmp / "cache"
    cache.mkdir(mode=0o700)
    use_cache_dir(cache)
    # The first question a user ever asks writes jieba's and USE's copies (index/caches.py): time it
    # once, then everything below reads them, as every later process does.
    first = tmp / "cache-first"
    first.mkdir(mode=0o700)
    caches.init_jieba(new_tokenizer(), cache)
    caches.use_backend(cache, caches.use_tokenizer(cache), 1)
    t = time.perf_counter()
    build_index(ROOT / "seeds", tmp / "idx")
    build_s = time.perf_counter() - t
    cold = cold_ask(tmp / "idx", cache)
    cold["first"] = cold_ask(tmp / "idx", first, runs=1)["runs"][0]
    s = Searcher.load(tmp / "idx", ROOT / "seeds")
    texts = [p.text for p in s.passages] * 4
    t = time.perf_counter()
    load_use().embed(texts)
    use_rate = len(texts) / (time.perf_counter() - t)
    t = time.perf_counter()
    s.embedder.embed_passages(texts)
    e5_rate = len(texts) / (time.perf_counter() - t)
    questions = [json.loads(line)["question"] for line in open(ROOT / "eval" / "dev.jsonl", encoding="utf-8")][:limit]
    out = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": info, "passes": passes,
           "questions": len(questions), "build": {"seconds": round(build_s, 2), "passages": len(s.passages),
                                                   "e5_passages_per_s": round(e5_rate, 1), "use_passages_per_s": round(use_rate, 1)},
           "cold_ask": cold}
    idle = latency(s, questions, passes)
    threads = {"idle": use_threads(questions, cache)}
    with busy_core():
        busy = latency(s, questions, passes)
        threads["busy"] = use_threads(questions, cache)
    out["latency"] = {mode: {"idle": idle[mode]["new"], "english": idle[mode]["english"], "cached": idle[mode]["cached"],
                             "busy": busy[mode]["new"], "busy_english": busy[mode]["english"], "busy_cached": busy[mode]["cached"]}
                      for mode in MODES}
    out["english_questions"] = idle["hybrid"]["english"]["n"] // passes
    out["use_threads"] = threads
    out["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return out


def write_docs(results: dict, docs: Path) -> None:
    """Replace this section's block in docs/benchmarks.md (or add it before the plan-size block)."""
    from . import plansize
    from .report import USE_END, USE_START, use_section

    replace_block(docs, USE_START, USE_END, use_section(results), before=plansize.START)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.use_latency", description=__doc__.splitlines()[0])
    ap.add_argument("--passes", type=int, default=1, help="passes over the dev questions per setting (default 1)")
    ap.add_argument("--no-docs", action="store_true", help="print only; leave results.json and the docs alone")
    ap.add_argument("--report-only", action="store_true", help="rewrite the docs section from bench/results.json")
    ap.add_argument("--limit", type=int, default=None, help="only the first N dev questions (a smoke test; implies --no-docs)")
    args = ap.parse_args(argv)
    if args.passes < 1:
        ap.error(f"--passes must be >= 1, got {args.passes}")
    if args.report_only:
        write_docs(json.loads(RESULTS.read_text(encoding="utf-8")), DOCS)
        return 0
    result = run(args.passes, args.limit)
    result["command"] = " ".join(["python -m bench.use_latency", *(sys.argv[1:] if argv is None else argv)])
    from .report import use_section

    print("\n".join(use_section({"use_latency": result})))
    if not args.no_docs and args.limit is None:
        save_result("use_latency", result, write_docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
