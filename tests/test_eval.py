import json
import subprocess
import sys
from collections import Counter

import pytest
from conftest import ROOT, SEEDS
from planqa.eval.metrics import LIST, SINGLE, TYPES, Question, load_questions, summarize
from planqa.eval.run import GATE, GATE_MAX, SPLITS, evaluate, format_table, gate_failures, load_split
from planqa.index.text import normalize

# The least of each type a split holds (about half of each type's questions).
MIN_PER_SPLIT = {"fact": 20, "paraphrase": 17, "entity": 18, "colloquial": 50, "followup": 21, "english": 40,
                 "list": 23, "unanswerable": 40}


def test_splits_are_stratified_halves_with_gold_in_the_plan(passages):
    dev, test = load_split("dev"), load_split("test")
    assert {q.split for q in dev} == {"dev"} and {q.split for q in test} == {"test"}
    assert not {q.id for q in dev} & {q.id for q in test}
    # A question asked twice (in either split) is named by its dev id, so it can be replaced without opening test.
    seen = Counter(q.question for q in dev + test)
    assert not [q.id for q in dev if seen[q.question] > 1]
    assert len(seen) == len(dev + test)
    # The d2-, d3-, d4- and d5- questions were added to dev later (training for the fitted ranker and abstainer): the
    # halves are the questions before them.
    counts = {name: Counter(q.type for q in qs if not q.id.startswith(("d2-", "d3-", "d4-", "d5-")))
              for name, qs in (("dev", dev), ("test", test))}
    for typ in TYPES:
        assert min(counts["dev"][typ], counts["test"][typ]) >= MIN_PER_SPLIT[typ], typ
        assert abs(counts["dev"][typ] - counts["test"][typ]) <= 1, typ
    texts = [normalize(p.text) for p in passages]
    for q in dev + test:
        for g in q.gold:
            where = [i for i, t in enumerate(texts) if normalize(g) in t]
            assert where, (q.id, g)
            if q.type == LIST:
                assert len(where) == 1, (q.id, g, len(where))  # one gold substring per sentence
        if q.type == LIST:
            assert len({[i for i, t in enumerate(texts) if normalize(g) in t][0] for g in q.gold}) == len(q.gold), q.id


def _write(tmp_path, *rows) -> "Path":  # noqa: F821
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


GOOD = {"id": "a", "question": "今年新建几家养老服务驿站？", "gold": ["养老服务驿站"], "type": "fact"}


@pytest.mark.parametrize("bad, message", [
    ({"id": "b", "question": "民生方面有哪些实事？", "gold": [], "type": "list"},
     'q.jsonl:2: b: a list question needs gold substrings ("gold": [] only for type unanswerable)'),
    ({"id": "b", "question": "那托育呢？", "gold": ["托位"], "type": "followup"},
     'q.jsonl:2: b: a followup question needs "previous", the question asked before it'),
    ({"id": "b", "question": "区长是谁？", "gold": ["区"], "type": "unanswerable"},
     "q.jsonl:2: b: an unanswerable question has no gold"),
    ({"id": "b", "question": "?", "gold": ["x"], "type": "chapter"},
     "q.jsonl:2: b: type 'chapter' is not one of fact, paraphrase, entity, colloquial, followup, english, list, "
     "unanswerable"),
    ({"id": "a", "question": "?", "gold": ["x"], "type": "fact"}, "q.jsonl:2: duplicate id 'a'"),
])
def test_loader_names_the_bad_line(tmp_path, bad, message):
    with pytest.raises(ValueError) as e:
        load_questions(_write(tmp_path, GOOD, bad))
    assert str(e.value).endswith(message)


def test_loader_reads_previous_chapter_and_labels_the_split(tmp_path):
    row = {"id": "f", "previous": "今年新开几所公办幼儿园？", "question": "那托育呢？", "gold": ["托位"],
           "type": "followup", "chapter": "6"}
    [q] = load_questions(_write(tmp_path, row), split="dev")
    assert q == Question("f", "那托育呢？", ("托位",), "followup", previous="今年新开几所公办幼儿园？", chapter=6,
                         split="dev")


def hit(text: str) -> dict:
    return {"id": text, "text": text, "document": "d"}


def entry(qid: str, answered: bool, ranked: list[str], shown: list[str] | None = None) -> dict:
    return {"id": qid, "answered": answered, "ranked": [hit(t) for t in ranked],
            "shown": [hit(t) for t in (ranked[:1] if shown is None else shown)] if answered else []}


def test_single_answer_metrics():
    qs = [Question("a", "?", ("甲",), "fact"), Question("b", "?", ("乙",), "colloquial"),
          Question("c", "?", ("丙",), "colloquial")]
    results = [entry("a", True, ["甲乙", "丁"]), entry("b", False, ["丁", "戊", "己", "庚", "乙"]),
               entry("c", True, ["丁"] * 10 + ["丙"])]  # rank 11 is past the cut
    m = summarize(qs, results)
    assert m["colloquial"] == {"questions": 2, "answerable": 2, "accuracy@1": 0.0, "accuracy@5": 0.5,
                               "mrr@10": pytest.approx(0.1), "abstained": 1, "abstention_precision": 0.0,
                               "abstention_recall": None, "wrongly_refused": 1, "refused": 0.5}
    assert m["single"]["accuracy@1"] == pytest.approx(1 / 3) and m["single"]["accuracy@5"] == pytest.approx(2 / 3)
    assert m["single"]["mrr@10"] == pytest.approx((1 + 0.2) / 3)
    assert set(m) == {"fact", "colloquial", "single", "all"}


def test_list_recall_counts_sentences_in_the_top_ten_and_precision_what_is_shown():
    twelve = tuple(f"句{i:02d}" for i in range(12))
    qs = [Question("l1", "?", ("甲", "乙", "丙", "丁"), "list"), Question("l2", "?", twelve, "list"),
          Question("l3", "?", ("甲", "乙"), "list")]
    results = [
        # 2 of 4 in the top 10 (乙 at rank 11 does not count); shows 甲, 戊: precision 1/2
        entry("l1", True, ["甲", "戊", "丙"] + ["己"] * 7 + ["乙"], shown=["甲", "戊"]),
        # 9 of 12 gold in the top 10, counted against min(12, 10): recall 0.9; shows 3 gold: precision 1
        entry("l2", True, list(twelve[:9]) + ["戊"], shown=list(twelve[:3])),
        # refused: recall from its ranking (1 of 2), no shown precision
        entry("l3", False, ["甲乙", "戊"]),
    ]
    row = summarize(qs, results)["list"]
    assert row["recall@10"] == pytest.approx((0.5 + 0.9 + 1.0) / 3)  # "甲乙" holds both gold of l3
    assert row["shown_precision"] == pytest.approx((0.5 + 1.0) / 2)
    assert row["shown"] == pytest.approx(2.5)
    assert (row["wrongly_refused"], row["refused"]) == (1, pytest.approx(1 / 3))
    assert "accuracy@1" not in row and "single" not in summarize(qs, results)


def test_followup_accuracy_and_abstention():
    qs = [Question("f1", "那托育呢？", ("托位",), "followup", previous="幼儿园？"),
          Question("f2", "它什么时候完工？", ("枢纽",), "followup", previous="副中心站？"),
          Question("u1", "区长是谁？", (), "unanswerable"), Question("u2", "明天下雨吗？", (), "unanswerable"),
          Question("u3", "几号供暖？", (), "unanswerable")]
    results = [entry("f1", True, ["新增普惠托位", "枢纽"]), entry("f2", False, ["托位", "枢纽"]),
               entry("u1", False, ["区养老院"]), entry("u2", True, ["下雨"]), entry("u3", False, [])]
    m = summarize(qs, results)
    assert (m["followup"]["accuracy@1"], m["followup"]["accuracy@5"], m["followup"]["mrr@10"]) == (0.5, 1.0, 0.75)
    assert m["unanswerable"]["abstention_recall"] == pytest.approx(2 / 3)
    a = m["all"]
    assert (a["abstained"], a["wrongly_refused"]) == (3, 1)
    assert a["abstention_precision"] == pytest.approx(2 / 3) and a["abstention_recall"] == pytest.approx(2 / 3)
    assert a["refused"] == 0.5


def fake_report(dense_colloquial: float = 0.0, **hybrid_by_group) -> dict:
    """A report with hybrid metrics on the test split ("group__metric"=value) and dense's colloquial accuracy@1."""
    groups: dict = {}
    for key, value in hybrid_by_group.items():
        group, name = key.split("__")
        groups.setdefault(group, {})[name] = value
    dense = {"colloquial": {"accuracy@1": dense_colloquial}}
    return {"runs": {"hybrid": {"metrics": {"dev": {}, "test": groups}},
                     "dense": {"metrics": {"dev": {}, "test": dense}}}}


AT_THE_GATE = {k.replace(" ", "__"): v for k, v in {**GATE, **GATE_MAX}.items()}


def test_gate_passes_at_the_floor_and_names_each_shortfall():
    assert gate_failures(fake_report(**AT_THE_GATE)) == []
    floor, ceiling = GATE["english accuracy@5"], GATE_MAX["all refused"]
    worse = {**AT_THE_GATE, "english__accuracy@5": floor - 0.01, "all__refused": ceiling + 0.01}
    assert gate_failures(fake_report(dense_colloquial=1.0, **worse)) == [
        f"hybrid english accuracy@5 on test = {floor - 0.01:.3f} is below the gate {floor}",
        f"hybrid all refused on test = {ceiling + 0.01:.3f} is above the ceiling {ceiling}",
        f"hybrid accuracy@1 on test colloquial ({GATE['colloquial accuracy@1']:.3f}) is below dense (1.000)",
    ]


def test_gate_does_not_judge_what_the_set_cannot_measure():
    no_english = {k: v for k, v in AT_THE_GATE.items() if not k.startswith("english")}
    assert gate_failures(fake_report(**no_english)) == []  # a set without English questions


def test_markdown_table_lists_every_group_per_retriever():
    qs = [Question("a", "?", ("甲",), "fact", split="test"), Question("u", "?", (), "unanswerable", split="test")]
    metrics = summarize(qs, [entry("a", True, ["甲"]), entry("u", False, [])])
    report = {"questions": 2, "seconds": {"total": 1.0, "hybrid": 0.5, "dense": 0.5},
              "runs": {"hybrid": {"metrics": {"test": metrics}}, "dense": {"metrics": {"test": metrics}}}}
    assert format_table(report, markdown=True).splitlines() == [
        "### test split", "",
        "| group (n) | metric | hybrid | dense |",
        "| --- | --- | ---: | ---: |",
        "| fact (1) | accuracy@1 | 1.000 | 1.000 |",
        "|  | accuracy@5 | 1.000 | 1.000 |",
        "|  | MRR@10 | 1.000 | 1.000 |",
        "|  | answerable refused | 0.000 | 0.000 |",
        "| unanswerable (1) | abstention recall | 1.000 | 1.000 |",
        "| answerable single-answer (1) | accuracy@1 | 1.000 | 1.000 |",
        "|  | accuracy@5 | 1.000 | 1.000 |",
        "|  | MRR@10 | 1.000 | 1.000 |",
        "|  | answerable refused | 0.000 | 0.000 |",
        "| all questions (2) | abstention precision | 1.000 | 1.000 |",
        "|  | abstention recall | 1.000 | 1.000 |",
        "|  | answerable refused | 0.000 | 0.000 |",
        "",
        "2 questions x 2 retrievers in 1.0 s (hybrid 0.5 s, dense 0.5 s)",
    ]


def test_gate_on_the_real_index(searcher):
    """The CI gate on the test split: hybrid at or above every floor, under the ceiling, and never
    below dense on accuracy@1 for a single-answer type."""
    report = evaluate(searcher, load_split("test"))
    hybrid = report["runs"]["hybrid"]["metrics"]["test"]
    for key in [*GATE, *GATE_MAX]:
        group, name = key.split(" ")
        assert hybrid[group][name] is not None, key  # every gate metric is measured on the test split
    assert gate_failures(report) == []
    assert set(report["runs"]) >= {"hybrid", "dense", "bm25"}
    assert [t for t in SINGLE if t in hybrid] == list(SINGLE)


@pytest.mark.subprocess
def test_report_recomputes_to_the_same_metrics(index_root, tmp_path):
    report_path = tmp_path / "report.json"
    out = subprocess.run(
        [sys.executable, "-m", "planqa", "eval", "--index", str(index_root), "--seeds", str(SEEDS), "--split", "dev",
         "--retriever", "hybrid", "--retriever", "bm25", "--report", str(report_path), "--markdown", "--no-gate"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("### dev split\n\n| group (n) | metric | hybrid | bm25 |\n")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert set(report["runs"]) == {"hybrid", "bm25"} and report["questions"] == len(load_split("dev"))
    questions = load_questions(SPLITS["dev"])
    for run in report["runs"].values():
        entries = run["questions"]
        assert [e["id"] for e in entries] == [q.id for q in questions]
        assert all(set(h) >= {"id", "text", "document"} for e in entries for h in e["ranked"] + e["shown"])
        assert {"dev": summarize(questions, entries)} == run["metrics"]


@pytest.mark.subprocess
def test_gate_failure_exits_non_zero(index_root, tmp_path):
    bad = _write(tmp_path, {"id": "x", "question": "东六环", "gold": ["不存在的句子"], "type": "fact"})
    out = subprocess.run([sys.executable, "-m", "planqa", "eval", "--questions", str(bad), "--index", str(index_root),
                          "--seeds", str(SEEDS)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "GATE FAILED: hybrid single accuracy@1 on all = 0.000 is below the gate" in out.stderr
