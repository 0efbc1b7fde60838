"""Plan size: parse and build time for 1, 5 and 20 MB plans, and what a default build does with them.

    python -m bench.plansize                  # 1, 5, 20 MB: bench/results.json ("plansize") and its section of docs/benchmarks.md
    python -m bench.plansize --sizes 1 --no-docs
    python -m bench.plansize --report-only    # rewrite the docs section from bench/results.json

What is synthetic: each plan is the real plan repeated until it reaches the size (each copy's
chapters continue the numbering, so every passage has its own id; the sentences repeat).

For each size:
- *parse*: `parse_seeds` of the folder, in this process.
- *build, stand-in model*: `build_index` with no passage limit and stand-ins for both encoders
  (the bundled model's and USE's widths, so every file has its real size), timed per phase
  from the build's own progress lines: parse, embed (the stand-in's, negligible), and the rest
  (passages file, FAISS, BM25, manifest, switch). This is everything in a build but the model.
- *real models*: the bundled model's and the second encoder's passages per second, measured here
  on a sample of the plan's passages as the build calls them; the projected build is the stand-in
  build's time without its embedding, plus the passages over those rates. Projected, not run: a 20 MB plan would embed
  for over an hour.
- *default build*: `build_index` with planqa's limits (MAX_PASSAGES): the time until it is
  refused, and the message, for plans over the limit.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .common import ROOT, SEEDS, machine, md_section, replace_block, save_result

RESULTS = ROOT / "bench" / "results.json"
DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- plansize: written by python -m bench.plansize -->", "<!-- /plansize -->"
PLAN = SEEDS / "tongzhou-2024-work-plan.md"


class StandIn:
    """A hashing stand-in for the model: the build's every other step at its real size."""

    name = "bench-stand-in"
    dim = 384

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, t in zip(out, texts):
            row[int(hashlib.md5(t.encode()).hexdigest()[:6], 16) % self.dim] = 1.0
        return out

    embed_queries = embed_passages


class StandInUse:
    """The same for the second encoder (USE, 512 dimensions)."""

    name = "bench-stand-in-use"
    dim = 512

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        out[:, 0] = 1.0
        return out


def make_plan(folder: Path, megabytes: float) -> Path:
    text = PLAN.read_text(encoding="utf-8")
    copies = int(megabytes * 1e6 / len(text.encode("utf-8"))) + 1
    folder.mkdir(parents=True)
    (folder / "plan.md").write_text("\n\n".join([text] * copies), encoding="utf-8")
    return folder


def timed_build(seeds: Path, root: Path, **kw) -> tuple[float, dict[str, float]]:
    """Seconds of a build, and the time of each progress line's first occurrence from the start."""
    from planqa.index.build import build_index

    marks: dict[str, float] = {}
    started = time.perf_counter()

    def note(line: str) -> None:
        key = re.split(r"[ :]", line, maxsplit=1)[0]
        marks.setdefault(key, time.perf_counter() - started)
        if key == "embedded" and line.split()[1].split("/")[0] == line.split()[1].split("/")[1]:
            marks["embedded-all"] = time.perf_counter() - started

    build_index(seeds, root, progress=note, **kw)
    return time.perf_counter() - started, marks


def model_rate(sample: int) -> tuple[float, float]:
    """Passages per second of the bundled model, and of the second encoder (USE), over `sample` of
    the plan's own passages, each as the build calls it."""
    from planqa.index.build import embedding_text
    from planqa.index.embed import load_embedder
    from planqa.index.parse import parse_text

    from planqa.config import settings

    s = settings({})
    embedder = load_embedder(None, s.query_threads, s.build_threads)
    texts = [embedding_text(p) for p in parse_text(PLAN.read_text(encoding="utf-8") * 8, "p")][:sample]
    embedder.embed_passages(texts[:8])  # warm up
    started = time.perf_counter()
    for i in range(0, len(texts), 64):
        embedder.embed_passages(texts[i:i + 64])
    rate = len(texts) / (time.perf_counter() - started)
    from planqa.index.embed_use import load_use

    use = load_use()
    use.embed(texts[:8])
    started = time.perf_counter()
    use.embed(texts)
    return rate, len(texts) / (time.perf_counter() - started)


def measure(size: float, work: Path, rate: float, use_rate: float) -> dict:
    from planqa.index.errors import SeedsError
    from planqa.index.parse import parse_seeds

    seeds = make_plan(work / f"seeds-{size}", size)
    mb = (seeds / "plan.md").stat().st_size / 1e6
    started = time.perf_counter()
    passages = len(parse_seeds(seeds))
    parse_s = time.perf_counter() - started
    total, marks = timed_build(seeds, work / f"index-{size}", embedder=StandIn(), use=StandInUse(), max_passages=10**9)
    embed_s = marks["embedded-all"] - marks["parsed"]
    rest_s = total - marks["embedded-all"]
    row = {"mb": round(mb, 2), "passages": passages, "parse_s": round(parse_s, 2),
           "build_standin_s": round(total, 2), "build_parse_s": round(marks["parsed"], 2),
           "build_embed_standin_s": round(embed_s, 2), "build_rest_s": round(rest_s, 2),
           "model_embed_projected_s": round(passages / rate + passages / use_rate, 1),
           "build_real_projected_s": round(total - embed_s + passages / rate + passages / use_rate, 1)}
    started = time.perf_counter()
    try:
        timed_build(seeds, work / f"index-default-{size}", embedder=StandIn(), use=StandInUse())
        row["default"] = {"outcome": "builds", "seconds": row["build_real_projected_s"], "projected": True}
    except SeedsError as e:
        row["default"] = {"outcome": "refused", "seconds": round(time.perf_counter() - started, 2), "message": str(e)}
    return row


@md_section("plansize", title="Plan size: parse and build time")
def section(p: dict) -> list[str]:
    """The Markdown section (also used by bench/report.py on a full run)."""
    from planqa.index.build import MAX_PASSAGES

    rows = p["rows"]
    out = [f"`python -m bench.plansize` on {p['date']} (commit {p['machine'].get('commit')}, load average at start "
           f"{p['machine'].get('load_average_at_start')}). Each plan is the real plan repeated to the size (**synthetic**: "
           "chapters continue their numbering, sentences repeat). *Stand-in build* = `build_index` with a hashing stand-in "
           "for both encoders (the bundled model's and USE's widths, so every file has its real size) and no passage "
           "limit: every step but the models. *Real models* = the rates measured here, bundled model "
           f"{p['model_passages_per_s']:.1f} passages/s (build threads) and second encoder (USE) "
           f"{p['use_passages_per_s']:.1f} passages/s, applied to the passages: **projected**, not run.", "",
           "| plan | passages | parse s | s per MB | stand-in build s | of which parse | FAISS + BM25 + files | "
           "real models embed (projected) | default `planqa index` |",
           "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for x in rows:
        d = x["default"]
        default = (f"refused after {d['seconds']:.1f} s" if d["outcome"] == "refused"
                   else f"builds, about {d['seconds'] / 60:.0f} min (projected)")
        out.append(f"| {x['mb']:.1f} MB | {x['passages']:,} | {x['parse_s']:.2f} | {x['parse_s'] / x['mb']:.2f} | "
                   f"{x['build_standin_s']:.1f} | {x['build_parse_s']:.1f} | {x['build_rest_s']:.1f} | "
                   f"{x['model_embed_projected_s'] / 60:.1f} min | {default} |")
    first, last = rows[0], rows[-1]
    grow = last["mb"] / first["mb"]
    out += ["", f"From {first['mb']:.1f} to {last['mb']:.1f} MB ({grow:.0f}× the text), parsing took "
            f"{last['parse_s'] / first['parse_s']:.0f}× as long and the stand-in build "
            f"{last['build_standin_s'] / first['build_standin_s']:.0f}×: linear (before issue 13 the parser rescanned "
            "every passage at each section heading: 0.96 MB took 6.5 s, 1.93 MB 21 s).",
            "", f"**Bounded time.** A build takes at most {MAX_PASSAGES:,} passages (`MAX_PASSAGES` in index/build.py): "
            f"about {MAX_PASSAGES * (1 / p['model_passages_per_s'] + 1 / p['use_passages_per_s']) / 60:.0f} minutes of "
            "embedding at the rates above. A larger "
            "plan is refused after parsing, before any file is written, with the reason and what to do; seeds over 64 MB "
            "are refused before they are read. Progress is printed every 10 s while embedding, with the time left."]
    load = (p["machine"].get("load_average_at_start") or [0])[0]
    if load > 1.5:
        out += ["", f"**Load.** The machine was busy (load average {load} on two cores: other test suites were running), "
                "so the models' rates are lower than on an idle machine (the bundled model embedded 35.5 passages/s in "
                "*Embedding engines* above) and every time here is an upper bound."]
    refused = [x for x in rows if x["default"]["outcome"] == "refused"]
    if refused:
        out += ["", f"The refusal ({refused[-1]['mb']:.0f} MB): `planqa: {refused[-1]['default']['message']}`"]
    return out


def write_docs(results: dict, docs: Path) -> None:
    replace_block(docs, START, END, section(results))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.plansize", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[1, 5, 20], help="plan sizes in MB")
    ap.add_argument("--sample", type=int, default=512, help="passages to measure the model's rate on")
    ap.add_argument("--no-docs", action="store_true", help="print only; leave results.json and the docs alone")
    ap.add_argument("--report-only", action="store_true", help="rewrite the docs section from bench/results.json")
    args = ap.parse_args(argv)
    if args.report_only:
        write_docs(json.loads(RESULTS.read_text(encoding="utf-8")), DOCS)
        return 0
    from planqa.index.lexical import use_cache_dir

    info = machine()
    with tempfile.TemporaryDirectory(prefix="planqa-plansize-") as tmp:
        work = Path(tmp)
        use_cache_dir(work / "cache")
        rate, use_rate = model_rate(args.sample)
        print(f"bench: bundled model {rate:.1f} passages/s, second encoder {use_rate:.1f}", file=sys.stderr)
        rows = []
        for size in args.sizes:
            rows.append(measure(size, work, rate, use_rate))
            print(f"bench: {json.dumps(rows[-1], ensure_ascii=False)}", file=sys.stderr)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": info,
              "model_passages_per_s": round(rate, 1), "use_passages_per_s": round(use_rate, 1), "rows": rows}
    print("\n".join(section({"plansize": result})))
    if not args.no_docs:
        save_result("plansize", result, write_docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
