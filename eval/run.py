"""Run a question set against an index with each retriever; report and gate the metrics."""
from __future__ import annotations

import json
from pathlib import Path

from planqa.index.errors import InputError
from planqa.index.search import MODES, Searcher
from planqa.qa.answer import clean_question, judge

from .metrics import TYPES, Question, load_questions, summarize

QUESTIONS = Path(__file__).with_name("questions.jsonl")
# The CI gate for hybrid retrieval, set from the measurement in eval/README.md.
GATE = {"accuracy@1": 0.78, "accuracy@5": 0.90, "mrr@10": 0.83, "abstention_precision": 0.80, "abstention_recall": 0.60}


def run_questions(searcher: Searcher, questions: list[Question], mode: str, k: int = 5) -> list[dict]:
    """Per-question results in the report's format (hits as id, text, document)."""
    results = []
    for q in questions:
        try:
            text = clean_question(q.question)
        except InputError:
            results.append({"id": q.id, "answered": False, "hits": [], "relevant": 0})
            continue
        hits = searcher.search(text, k=max(k, 10), mode=mode)
        answered, _ = judge(searcher, text, hits)
        relevant = sum(1 for p in searcher.passages if q.answerable and q.matches(p.text, p.document))
        results.append({
            "id": q.id,
            "answered": answered,
            "relevant": relevant,
            "hits": [{"id": h.passage.id, "text": h.passage.text, "document": h.passage.document,
                      "score": round(h.score, 4)} for h in hits],
        })
    return results


def evaluate(searcher: Searcher, questions: list[Question], modes: tuple[str, ...] = MODES, k: int = 5) -> dict:
    """The report: {"runs": {mode: {"metrics": …, "questions": […]}}}."""
    runs = {}
    for mode in modes:
        results = run_questions(searcher, questions, mode, k)
        runs[mode] = {"metrics": summarize(questions, results, k), "questions": results}
    return {"k": k, "model": searcher.embedder.name, "runs": runs}


def gate_failures(report: dict, gate: dict = GATE) -> list[str]:
    """What falls short of the gate (hybrid overall, and hybrid vs dense per type)."""
    runs = report["runs"]
    failures = []
    if "hybrid" in runs:
        overall = runs["hybrid"]["metrics"]["overall"]
        for name, floor in gate.items():
            value = overall.get(name)
            if value is None or value < floor:
                failures.append(f"hybrid {name} = {value} is below the gate {floor}")
        if "dense" in runs:
            for typ, row in runs["hybrid"]["metrics"].items():
                dense_row = runs["dense"]["metrics"].get(typ, {})
                for name in ("accuracy@1", "mrr@10"):
                    if name in row and row[name] + 1e-9 < dense_row.get(name, 0):
                        failures.append(f"hybrid {name} on {typ} ({row[name]:.3f}) is below dense ({dense_row[name]:.3f})")
    return failures


def format_table(report: dict) -> str:
    """Metrics per type, retrievers side by side."""
    k = report["k"]
    names = ["accuracy@1", "accuracy@3", f"accuracy@{k}", "mrr@10", f"ndcg@{k}"]
    modes = list(report["runs"])
    lines = [f"{'type':<13}{'n':>4}  " + "  ".join(f"{m + ' ' + n.replace('accuracy', 'acc'):>17}" for n in names for m in modes)]
    groups = [t for t in TYPES if t in report["runs"][modes[0]]["metrics"]]
    groups += [t for t in report["runs"][modes[0]]["metrics"] if t not in groups and t != "overall"] + ["overall"]
    for typ in groups:
        row0 = report["runs"][modes[0]]["metrics"][typ]
        cells = []
        for n in names:
            for m in modes:
                v = report["runs"][m]["metrics"][typ].get(n)
                cells.append(f"{'-' if v is None else f'{v:.3f}':>17}")
        lines.append(f"{typ:<13}{row0['questions']:>4}  " + "  ".join(cells))
    lines.append("")
    lines.append("abstention (abstaining is the positive class):")
    for m in modes:
        o = report["runs"][m]["metrics"]["overall"]
        p, r = o.get("abstention_precision"), o.get("abstention_recall")
        lines.append(
            f"  {m:<7} abstained {o['abstained']:>3}  precision {'-' if p is None else f'{p:.3f}'}"
            f"  recall {'-' if r is None else f'{r:.3f}'}  answerable wrongly rejected {o['wrongly_rejected']}"
            f" of {o['answerable']}"
        )
    return "\n".join(lines)


def write_report(report: dict, path: Path) -> None:
    Path(path).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


__all__ = ["QUESTIONS", "GATE", "evaluate", "gate_failures", "format_table", "write_report", "load_questions"]
