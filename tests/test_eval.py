import json
import subprocess
import sys

import pytest
from conftest import ROOT, SEEDS
from planqa.eval.metrics import Question, load_questions, summarize
from planqa.eval.run import GATE, QUESTIONS, evaluate, gate_failures

TYPES = {"fact", "paraphrase", "entity", "english", "chapter", "unanswerable"}


def test_question_set_shape(plan_text):
    questions = load_questions(QUESTIONS)
    assert len(questions) >= 120
    counts = {t: sum(1 for q in questions if q.type == t) for t in TYPES}
    assert counts["unanswerable"] >= 15 and all(counts[t] >= 10 for t in TYPES)
    flat = "".join(plan_text.split())
    for q in questions:
        assert q.type in TYPES
        assert bool(q.gold) == (q.type != "unanswerable"), q.id
        for g in q.gold:
            assert g in flat, (q.id, g)


def test_metrics_on_a_hand_made_report():
    qs = [Question("a", "?", ("甲",), "fact"), Question("b", "?", ("乙",), "fact"), Question("c", "?", (), "unanswerable")]
    results = [
        {"answered": True, "relevant": 1, "hits": [{"text": "甲乙"}, {"text": "丙"}]},
        {"answered": False, "relevant": 1, "hits": [{"text": "丙"}, {"text": "丁"}, {"text": "乙"}]},
        {"answered": False, "relevant": 0, "hits": [{"text": "丙"}]},
    ]
    m = summarize(qs, results, k=5)["overall"]
    assert m["accuracy@1"] == 0.5 and m["accuracy@3"] == 1.0
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3) / 2)
    assert m["ndcg@5"] == pytest.approx((1 + 0.5) / 2)
    assert (m["abstained"], m["abstention_precision"], m["abstention_recall"], m["wrongly_rejected"]) == (2, 0.5, 1.0, 1)


def test_gate_on_the_real_index(searcher):
    """The CI gate: hybrid at or above the measured thresholds, never below dense for any type."""
    report = evaluate(searcher, load_questions(QUESTIONS))
    assert gate_failures(report) == []
    hybrid, dense = report["runs"]["hybrid"]["metrics"], report["runs"]["dense"]["metrics"]
    assert hybrid["overall"]["accuracy@1"] > dense["overall"]["accuracy@1"]
    assert hybrid["overall"]["accuracy@1"] >= GATE["accuracy@1"]


def test_report_recomputes_to_the_same_metrics(index_root, tmp_path):
    report_path = tmp_path / "report.json"
    out = subprocess.run(
        [sys.executable, "-m", "planqa", "eval", "--index", str(index_root), "--seeds", str(SEEDS),
         "--retriever", "hybrid", "--retriever", "bm25", "--report", str(report_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert "accuracy@1" not in out.stderr
    assert "hybrid acc@1" in out.stdout and "abstention" in out.stdout
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert set(report["runs"]) == {"hybrid", "bm25"}
    questions = load_questions(QUESTIONS)
    for run in report["runs"].values():
        entries = run["questions"]
        assert [e["id"] for e in entries] == [q.id for q in questions]
        assert all(set(h) >= {"id", "text", "document"} for e in entries for h in e["hits"])
        assert summarize(questions, entries, report["k"]) == run["metrics"]


def test_gate_failure_exits_non_zero(index_root, tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text(json.dumps({"id": "x", "question": "东六环", "gold": ["不存在的句子"], "type": "fact"},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "planqa", "eval", "--questions", str(bad), "--index", str(index_root),
                          "--seeds", str(SEEDS)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and "GATE FAILED" in out.stderr
