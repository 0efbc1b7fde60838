"""Fast layer: the ranker's cross-validation folds, by question and grouped by gold sentence."""
from __future__ import annotations

from types import SimpleNamespace

from planqa.eval import fit
from planqa.eval.metrics import Question


def _q(i: str, gold: tuple[str, ...], typ: str = "fact") -> Question:
    return Question(id=i, question="问题" + i, gold=gold, type=typ)


def test_grouped_folds_keep_a_group_in_one_fold(monkeypatch):
    monkeypatch.setattr(fit, "GROUPS", {"q1": "a", "q2": "a", "q3": "a", "q4": "b", "q5": "c", "q6": "d"})
    qs = [_q(f"q{i}", ("甲",)) for i in range(1, 7)]
    # the largest group first, then each to the fold holding the fewest questions
    assert fit.folds_of(qs, 2) == {"q1": 0, "q2": 0, "q3": 0, "q4": 1, "q5": 1, "q6": 1}


def test_folds_by_question_deal_each_type_round_robin(monkeypatch):
    monkeypatch.setattr(fit, "GROUPS", {})
    qs = [_q(f"q{i}", ("甲",)) for i in range(4)] + [_q(f"c{i}", ("甲",), "colloquial") for i in range(2)]
    folds = fit.folds_of(qs, 2)
    assert sorted(folds[q.id] for q in qs[:4]) == [0, 0, 1, 1]
    assert sorted(folds[q.id] for q in qs[4:]) == [0, 1]


def test_gold_groups_join_single_answer_questions_sharing_a_sentence():
    passages = [SimpleNamespace(id=f"p{i}", text=t) for i, t in enumerate(["甲乙", "丙丁", "戊己"])]
    qs = [_q("q1", ("甲",)), _q("q2", ("乙",), "colloquial"), _q("q3", ("甲", "丙"), "list"),
          _q("q4", ("丙",)), _q("q5", (), "unanswerable")]
    g = fit.gold_groups(SimpleNamespace(passages=passages), qs)
    assert g["q1"] == g["q2"]
    assert len({g["q1"], g["q3"], g["q4"], g["q5"]}) == 4  # a list question and a refusal stand alone
    assert (g["q3"], g["q5"]) == ("q3", "q5")
