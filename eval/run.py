"""Run a question set through the answer API with each retriever; report and gate the metrics.

Tune on the dev split, report the test split: the CI gate judges test."""
from __future__ import annotations

import json
import time
from pathlib import Path

from planqa.index.errors import InputError
from planqa.index.search import MODES, Searcher
from planqa.qa.answer import answer

from .metrics import CUT, LIST, SINGLE, TYPES, UNANSWERABLE, Question, load_questions, summarize

HERE = Path(__file__).parent
SPLITS = {"dev": HERE / "dev.jsonl", "test": HERE / "test.jsonl"}

# The CI gate for hybrid retrieval on the test split ("group metric": floor), each a few questions
# under the measurement in eval/README.md (`planqa eval --split test`, bundled e5-small-q4 + USE).
GATE = {
    "single accuracy@1": 0.88,  # measured 0.922 (154 of 167 answerable single-answer questions): 7 of slack
    "colloquial accuracy@1": 0.82,  # measured 0.880 (44 of 50): 3 of slack
    "english accuracy@5": 0.90,  # measured 0.975 (39 of 40): 3 of slack
    "list recall@10": 0.80,  # measured 0.849 (mean over 24 list questions): about one question of slack
    "all abstention_recall": 0.80,  # measured 0.850 (34 of 40 unanswerable): 2 of slack
}
# Ceilings: the share of answerable questions refused stays at or below this.
GATE_MAX = {
    "all refused": 0.045,  # measured 0.026 (5 of 191 answerable; issue 9 asks for 0.03): 3 of slack
}


def load_split(name: str) -> list[Question]:
    """The dev or test questions, or "all" of them (dev first)."""
    if name == "all":
        return [q for s in SPLITS for q in load_split(s)]
    if name not in SPLITS:
        raise ValueError(f"split must be dev, test or all, got {name!r}")
    return load_questions(SPLITS[name], split=name)


def _hit(h) -> dict:
    return {"id": h.passage.id, "text": h.passage.text, "document": h.passage.document, "score": round(h.score, 4)}


def run_question(searcher: Searcher, q: Question, mode: str) -> dict:
    """One question through the page's answer path: {"id", "answered", "ranked", "shown"}."""
    try:
        a = answer(searcher, q.question, k=CUT, mode=mode, chapter=q.chapter, previous=q.previous)
    except InputError:
        return {"id": q.id, "answered": False, "ranked": [], "shown": []}
    return {"id": q.id, "answered": a.answered, "ranked": [_hit(h) for h in a.ranked[:CUT]],
            "shown": [_hit(h) for h in a.hits] if a.answered else []}


def evaluate(searcher: Searcher, questions: list[Question], modes: tuple[str, ...] = MODES) -> dict:
    """The report: {"model", "questions", "seconds", "runs": {mode: {"metrics": {split: {group: row}},
    "questions": [entry…]}}}.

    Questions are the outer loop, so a question's embedding (cached by the searcher) is computed
    once and reused by every retriever."""
    for m in modes:
        if m not in MODES:
            raise InputError(f"retriever must be one of {', '.join(MODES)}, got {m!r}")
    entries: dict[str, list[dict]] = {m: [] for m in modes}
    seconds = dict.fromkeys(modes, 0.0)
    start = time.perf_counter()
    for q in questions:
        for m in modes:
            t = time.perf_counter()
            entries[m].append(run_question(searcher, q, m))
            seconds[m] += time.perf_counter() - t
    total = time.perf_counter() - start
    splits = sorted({q.split or "all" for q in questions}, key=lambda s: ("dev", "test", "all").index(s)
                    if s in ("dev", "test", "all") else 3)
    if len(splits) > 1:
        splits.append("all")
    runs = {}
    for m in modes:
        metrics = {}
        for s in splits:
            pick = [i for i, q in enumerate(questions) if s == "all" or q.split == s]
            metrics[s] = summarize([questions[i] for i in pick], [entries[m][i] for i in pick])
        runs[m] = {"metrics": metrics, "questions": entries[m]}
    return {"model": searcher.embedder.name, "questions": len(questions),
            "seconds": {"total": round(total, 2), **{m: round(v, 2) for m, v in seconds.items()}}, "runs": runs}


def judged_split(report: dict) -> str:
    """The split the gate judges: test when the report has it, else the only one (or all)."""
    metrics = next(iter(report["runs"].values()))["metrics"]
    return "test" if "test" in metrics else ("all" if "all" in metrics else next(iter(metrics)))


def gate_failures(report: dict, gate: dict = GATE, ceilings: dict = GATE_MAX) -> list[str]:
    """What falls short of the gate: hybrid's floors and ceilings on the judged split, and hybrid
    below dense on accuracy@1 for any single-answer type. A metric the question set cannot
    measure (no question of that type) is not judged."""
    runs, split = report["runs"], judged_split(report)
    failures = []
    if "hybrid" not in runs:
        return failures
    hybrid = runs["hybrid"]["metrics"][split]
    for key, bound in [*((k, (v, 1)) for k, v in gate.items()), *((k, (v, -1)) for k, v in ceilings.items())]:
        group, name = key.split(" ")
        value = hybrid.get(group, {}).get(name)
        limit, sign = bound
        if value is not None and (value - limit) * sign < -1e-9:
            word = "below the gate" if sign > 0 else "above the ceiling"
            failures.append(f"hybrid {key} on {split} = {value:.3f} is {word} {limit}")
    if "dense" in runs:
        dense = runs["dense"]["metrics"][split]
        for typ in (*SINGLE, "single"):
            h, d = hybrid.get(typ, {}).get("accuracy@1"), dense.get(typ, {}).get("accuracy@1")
            if h is not None and d is not None and h + 1e-9 < d:
                failures.append(f"hybrid accuracy@1 on {split} {typ} ({h:.3f}) is below dense ({d:.3f})")
    return failures


# (label, metric, which groups have it)
ROWS = (
    ("accuracy@1", "accuracy@1", (*SINGLE, "single")),
    ("accuracy@5", "accuracy@5", (*SINGLE, "single")),
    ("MRR@10", "mrr@10", (*SINGLE, "single")),
    ("recall@10", "recall@10", (LIST,)),
    ("shown precision", "shown_precision", (LIST,)),
    ("quotes shown", "shown", (LIST,)),
    ("abstention precision", "abstention_precision", ("all",)),
    ("abstention recall", "abstention_recall", (UNANSWERABLE, "all")),
    ("answerable refused", "refused", (*SINGLE, LIST, "single", "all")),
)
GROUP_NAMES = {"single": "answerable single-answer", "all": "all questions"}


def table_rows(report: dict, split: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows (group, metric, one cell per retriever) of one split's table."""
    modes = list(report["runs"])
    metrics = {m: report["runs"][m]["metrics"][split] for m in modes}
    first = metrics[modes[0]]
    rows = []
    for group in (*TYPES, "single", "all"):
        if group not in first:
            continue
        label = f"{GROUP_NAMES.get(group, group)} ({first[group]['questions']})"
        for name, key, groups in ROWS:
            if group not in groups or key not in first[group]:
                continue
            cells = []
            for m in modes:
                v = metrics[m][group].get(key)
                cells.append("-" if v is None else f"{v:.2f}" if key == "shown" else f"{v:.3f}")
            rows.append([label, name, *cells])
            label = ""
    return ["group (n)", "metric", *modes], rows


def format_table(report: dict, markdown: bool = False) -> str:
    """Every split's metrics per question type, retrievers side by side."""
    out = []
    for split in report["runs"][next(iter(report["runs"]))]["metrics"]:
        head, rows = table_rows(report, split)
        title = "all questions" if split == "all" else f"{split} split"
        out.append(f"### {title}" if markdown else title)
        out.append("")
        if markdown:
            out.append("| " + " | ".join(head) + " |")
            out.append("| --- | --- | " + " | ".join("---:" for _ in head[2:]) + " |")
            out += ["| " + " | ".join(r) + " |" for r in rows]
        else:
            w0 = max(len(r[0]) for r in [head, *rows])
            ws = [max(9, len(h) + 2) for h in head[2:]]
            out += [f"{r[0]:<{w0}}  {r[1]:<21}" + "".join(f"{c:>{w}}" for c, w in zip(r[2:], ws)) for r in [head, *rows]]
        out.append("")
    s = report["seconds"]
    out.append(f"{report['questions']} questions x {len(report['runs'])} retrievers in {s['total']:.1f} s ("
               + ", ".join(f"{m} {s[m]:.1f} s" for m in report["runs"]) + ")")
    return "\n".join(out)


def write_report(report: dict, path: Path) -> None:
    Path(path).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


__all__ = ["SPLITS", "GATE", "GATE_MAX", "load_split", "evaluate", "gate_failures", "format_table", "write_report",
           "load_questions"]
