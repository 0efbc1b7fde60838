"""Index build time and cold start of `planqa ask`: whole processes, timed from outside.

The breakdown child repeats what `planqa ask` does and stamps each phase with the wall clock:
    python -m bench.startup --index DIR --question Q --out FILE
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .common import ROOT, SEEDS, Context, child_env, summary, write_json

QUESTION = "今年新建多少家养老服务驿站？"


def planqa_cmd() -> list[str]:
    """The installed `planqa` script (what a user runs), else `python -m planqa`."""
    exe = shutil.which("planqa")
    return [exe] if exe else [sys.executable, "-m", "planqa"]


def build(ctx: Context, runs: int) -> dict:
    """`planqa index` into the work folder, `runs` times after one untimed warm-up build."""
    cmd = planqa_cmd() + ["index", "--seeds", str(SEEDS), "--out", str(ctx.index)]
    walls, inside = [], []
    for i in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=child_env(ctx), check=True, capture_output=True, timeout=600)
        if i:  # the first build fills jieba's cache and the page cache
            walls.append(time.perf_counter() - started)
            current = (ctx.index / "CURRENT").read_text().strip()
            manifest = json.loads((ctx.index / "builds" / current / "manifest.json").read_text(encoding="utf-8"))
            inside.append(manifest["build_seconds"])
            passages = manifest["passages"]
    return {"runs": runs, "passages": passages, "process_ms": summary(walls), "build_seconds_in_manifest": inside}


def cold_ask(ctx: Context, runs: int) -> dict:
    cmd = planqa_cmd() + ["ask", "--index", str(ctx.index), "--seeds", str(SEEDS), QUESTION]
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=child_env(ctx), capture_output=True, text=True, timeout=120)
        walls.append(time.perf_counter() - started)
        if proc.returncode != 0 or "计划中" not in proc.stdout:
            raise RuntimeError(f"planqa ask failed: {proc.stderr[-2000:]}")
    launched = time.time()
    phases = json.loads(subprocess.run(
        [sys.executable, "-m", "bench.startup", "--index", str(ctx.index), "--question", QUESTION, "--out", "-"],
        cwd=ROOT, env=child_env(ctx), check=True, capture_output=True, text=True, timeout=120).stdout)
    stamps = phases.pop("stamps")
    marks = [("launch", launched)] + list(stamps.items())
    breakdown = {name: round(t - marks[i][1], 3) for i, (name, t) in enumerate(marks[1:], start=0)}
    return {"command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)), "runs": runs,
            "wall_ms": summary(walls), "breakdown_s": breakdown, "top_imports": top_imports(ctx, cmd)}


def top_imports(ctx: Context, cmd: list[str], n: int = 6) -> list[tuple[str, float]]:
    """The slowest top-level imports of one `planqa ask` (python -X importtime), in seconds."""
    argv = [sys.executable, "-X", "importtime", "-m", "planqa"] + cmd[cmd.index("ask"):]
    err = subprocess.run(argv, cwd=ROOT, env=child_env(ctx), capture_output=True, text=True, timeout=120).stderr
    found = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m and len(m.group(3)) <= 2:  # top-level packages only
            found.append((m.group(4), round(int(m.group(2)) / 1e6, 3)))
    return sorted(found, key=lambda x: -x[1])[:n]


def run(ctx: Context) -> dict:
    return {"build": build(ctx, 1 if ctx.quick else 3), "ask": cold_ask(ctx, 2 if ctx.quick else 5)}


def phases(index: Path, question: str) -> dict:
    """`planqa ask`'s work, with the parts Searcher.load does first done one by one and stamped."""
    stamps = {"python start, bench imports (numpy)": time.time()}
    from planqa.index.search import Searcher
    from planqa.qa.answer import answer
    from planqa.qa.render import answer_text
    stamps["imports (index, qa)"] = time.time()
    import bm25s  # noqa: F401
    import faiss  # noqa: F401
    stamps["import faiss, bm25s"] = time.time()
    from planqa.index.embed import load_embedder
    load_embedder()
    stamps["load the bundled model"] = time.time()
    from planqa.index.lexical import tokenize
    tokenize("预热")
    stamps["jieba dictionary"] = time.time()
    searcher = Searcher.load(index, SEEDS)
    stamps["rest of Searcher.load (files, checksums, FAISS, BM25, passage tokens)"] = time.time()
    text = answer_text(answer(searcher, question))
    stamps["first answer"] = time.time()
    return {"stamps": stamps, "answered": "计划中有" in text}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--question", default=QUESTION)
    ap.add_argument("--out", required=True, help="a file, or - for stdout")
    args = ap.parse_args(argv)
    result = phases(args.index, args.question)
    if args.out == "-":
        print(json.dumps(result, ensure_ascii=False))
    else:
        write_json(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
