"""Run the benchmarks, print a table, write the results (JSON) and docs/benchmarks.md.

    python -m bench.run                    # everything (~22 min): bench/results.json, docs/benchmarks.md
    python -m bench.run --quick            # a short run (~6 min); results in its work folder, docs untouched
    python -m bench.run --only plan threads  # some sections, merged into the existing results
    python -m bench.run --report-only      # rewrite docs/benchmarks.md from bench/results.json

Sections: build, plan, naive, threads, cold, server, models, scale. Everything runs on this
machine against 127.0.0.1; each measurement sensitive to thread settings runs in its own child
process with a clean environment. Run it on a quiet machine: the numbers are wall-clock.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import models, naive, plan, report, scale, server, startup, threads
from .common import ROOT, Context, machine, others_testing, write_json

SECTIONS = ("build", "plan", "naive", "threads", "cold", "server", "models", "scale")
KEPT = ("use_latency", "plansize")  # written by `python -m bench.use_latency` and `python -m bench.plansize`
RESULTS = ROOT / "bench" / "results.json"
DOCS = ROOT / "docs" / "benchmarks.md"


def _say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class Watch:
    """Samples, while a section runs, whether someone else's test suite runs and the load average."""

    def __init__(self, every: float = 2.0) -> None:
        self.pytest, self.load = 0, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(every,), daemon=True)
        self._thread.start()

    def _loop(self, every: float) -> None:
        while not self._done.wait(every):
            self.pytest = max(self.pytest, others_testing())
            self.load = max(self.load, os.getloadavg()[0])

    def stop(self) -> dict:
        self._done.set()
        self._thread.join()
        return {"pytest_processes_seen": self.pytest, "max_load1": round(self.load, 2)}


def run_sections(ctx: Context, wanted: list[str], results: dict) -> None:
    if not (ctx.index / "CURRENT").exists() or "build" in wanted:
        _say("building the plan's index (and timing it)")
        results.setdefault("cold", {})["build"] = startup.build(ctx, 1 if ctx.quick or "build" not in wanted else 3)
    steps = {
        "plan": lambda: results.__setitem__("plan", plan.run(ctx)),
        "naive": lambda: results.__setitem__("naive", naive.run(ctx)),
        "threads": lambda: results.__setitem__("threads", threads.run(ctx)),
        "cold": lambda: results.setdefault("cold", {}).__setitem__("ask", startup.cold_ask(ctx, 2 if ctx.quick else 5)),
        "server": lambda: results.__setitem__("server", server.run(ctx)),
        "models": lambda: results.__setitem__("models", models.run(ctx)),
        "scale": lambda: results.__setitem__("scale", scale.run(ctx, models.bundled_vectors(ctx))),
    }
    for name in SECTIONS[1:]:
        if name in wanted:
            started = time.perf_counter()
            _say(f"{name} ...")
            watch = Watch()
            try:
                steps[name]()
            except (RuntimeError, OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
                # one broken section must not cost the others' numbers: record it and go on
                results.setdefault("errors", {})[name] = f"{type(e).__name__}: {e}"[-3000:]
                _say(f"{name} FAILED: {e}")
                continue
            finally:
                results.setdefault("disturbance", {})[name] = watch.stop()
            results.get("errors", {}).pop(name, None)
            _say(f"{name} done in {time.perf_counter() - started:.0f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer passes, shorter load, up to 100k passages")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections (merged into existing results)")
    ap.add_argument("--out", type=Path, default=None, help="results JSON (default bench/results.json; --quick: in the work folder)")
    ap.add_argument("--docs", type=Path, default=None, help="Markdown report (default docs/benchmarks.md; --quick: none)")
    ap.add_argument("--work", type=Path, default=None, help="work folder (default: a new temporary folder, removed after)")
    ap.add_argument("--report-only", action="store_true", help="only rewrite the Markdown report from the results JSON")
    args = ap.parse_args(argv)

    out = args.out or RESULTS
    docs = args.docs or (None if args.quick else DOCS)
    if args.report_only:
        results = json.loads(out.read_text(encoding="utf-8"))
        results["targets"] = report.targets(results)
        (docs or DOCS).write_text(report.markdown(results), encoding="utf-8")
        print(report.table(results))
        return 0

    work = args.work or Path(tempfile.mkdtemp(prefix="planqa-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    ctx = Context(quick=args.quick, work=work)
    if args.quick and args.out is None:
        out = work / "results.json"
    wanted = list(args.only or SECTIONS)
    results: dict = {}
    if args.only and out.exists():
        results = json.loads(out.read_text(encoding="utf-8"))
    elif out.exists():  # a full run keeps the parts other commands write (bench.use_latency, bench.plansize)
        previous = json.loads(out.read_text(encoding="utf-8"))
        results = {k: previous[k] for k in KEPT if k in previous}
    started, date, mach = time.perf_counter(), time.strftime("%Y-%m-%d %H:%M %Z"), machine()
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(["python -m bench.run", *given])
    try:
        run_sections(ctx, wanted, results)
    finally:
        if args.work is None and not args.quick:
            shutil.rmtree(work, ignore_errors=True)
    this = {"command": command, "quick": args.quick, "sections": wanted, "date": date,
            "duration_s": round(time.perf_counter() - started, 1), "machine": mach}
    if args.only and "meta" in results:  # a partial rerun: keep the full run's record, note this one
        results["meta"].setdefault("reruns", []).append(this)
    else:
        results["meta"] = this
    results["targets"] = report.targets(results)
    write_json(out, results)
    if docs:
        docs.write_text(report.markdown(results), encoding="utf-8")
    print(report.table(results))
    _say(f"results in {out}" + (f", report in {docs}" if docs else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
