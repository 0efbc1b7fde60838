"""Fast layer: the three retrievers, fusion and the chapter filter on the tiny plan, with exact ranks."""
from __future__ import annotations

import re

import pytest
from conftest import label_of, write_tiny_plan
from fakes import ConstantEmbedder
from planqa.index.build import build_index
from planqa.index.errors import InputError
from planqa.index.search import MODES, Searcher

PLAN_ORDER = ["1.1.1", "1.1.2", "1.2.1", "1.2.2", "2.1.1", "2.1.2", "2.2.1"]


@pytest.fixture(scope="module")
def flat(tmp_path_factory) -> Searcher:
    """The tiny plan with every cosine (both encoders) tied at 1.0: ranks come from the keyword side and the plan's order."""
    tmp = tmp_path_factory.mktemp("flat")
    seeds = write_tiny_plan(tmp / "seeds")
    build_index(seeds, tmp / "index", embedder=ConstantEmbedder(), use=ConstantEmbedder(512))
    return Searcher.load(tmp / "index", seeds, embedder=ConstantEmbedder(), use=ConstantEmbedder(512))


def test_the_three_retrievers_are_modes():
    assert {"hybrid", "dense", "bm25"} <= set(MODES)


def test_bm25_returns_only_sentences_holding_a_question_word(tiny):
    assert label_of(tiny.search("老旧小区改造", k=5, mode="bm25")) == ["1.2.1", "1.1.1"]  # all its words, then 改造
    assert label_of(tiny.search("助餐", k=5, mode="bm25")) == ["2.1.2"]
    assert tiny.search("地铁", k=5, mode="bm25") == []
    hits = tiny.search("通车", k=5, mode="bm25")
    assert sorted(label_of(hits)) == ["1.1.1", "1.1.2"]
    assert [(h.terms, h.dense, h.score) for h in hits] == [(("通车",), 0.0, h.lexical) for h in hits]


def test_dense_ranks_every_sentence_by_cosine(tiny):
    hits = tiny.search("老旧小区改造", k=10, mode="dense")
    assert sorted(label_of(hits)) == PLAN_ORDER  # k past the plan's size: all of it, once
    assert label_of(hits)[:2] == ["1.2.1", "1.1.1"]
    assert [(h.score, h.lexical) for h in hits] == [(h.dense, 0.0) for h in hits]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hybrid_agrees_with_both_when_they_agree(tiny):
    assert label_of(tiny.search("老旧小区改造", k=2, mode="hybrid")) == ["1.2.1", "1.1.1"]
    assert label_of(tiny.search("助餐服务", k=1)) == ["2.1.2"]


def test_chinese_numerals_and_full_width_digits_match_the_plan(tiny):
    top = tiny.search("十家养老服务驿站", k=2, mode="bm25")[0]
    assert (top.passage.label, "10" in top.terms) == ("2.1.1", True)
    same = [[(h.passage.id, h.score) for h in tiny.search(q, k=3)] for q in ("新建１０家养老服务驿站", "新建10家养老服务驿站")]
    assert same[0] == same[1] and same[0][0][0] == top.passage.id


def test_ties_are_broken_by_position_in_the_plan(flat):
    assert label_of(flat.search("任何问题", k=7, mode="dense")) == PLAN_ORDER
    assert label_of(flat.search("任何问题", k=3, mode="hybrid")) == PLAN_ORDER[:3]  # no keyword: dense alone


def test_hand_fusion_adds_a_bounded_keyword_bonus(flat):
    # The cosines tie everywhere, so the keyword side decides: 公园 and 新建 are each in one sentence
    # (same idf) and the shorter sentence, 1.2.2, scores higher; sentences without a keyword tie, in plan order.
    hits = flat.search("新建公园", k=7, mode="hand")
    assert label_of(hits) == ["1.2.2", "2.1.1", "1.1.1", "1.1.2", "1.2.1", "2.1.2", "2.2.1"]
    assert [h.terms for h in hits] == [("公园",), ("新建",)] + [()] * 5
    assert all(h.dense == 1.0 for h in hits) and all(h.lexical == 0.0 for h in hits[2:])
    base = hits[2].score
    bonus = [h.score - base for h in hits]
    assert hits[0].lexical > hits[1].lexical > 0 and bonus[0] > bonus[1] > 0
    assert bonus[2:] == [0.0] * 5
    # bounded: a keyword match lifts a sentence by less than a tenth of a cosine
    assert bonus[0] < 0.1 < hits[0].lexical


def test_chapter_filter(tiny):
    assert sorted(label_of(tiny.search("养老服务驿站", k=5, chapter=2, mode="dense"))) == ["2.1.1", "2.1.2", "2.2.1"]
    assert sorted(label_of(tiny.search("养老服务驿站", k=2, chapter=2))) == ["2.1.1", "2.1.2"]
    assert tiny.search("养老服务驿站", k=5, chapter=1, mode="bm25") == []
    assert label_of(tiny.search("通车", k=1, chapter=1)) == ["1.1.1"]
    assert tiny.search("通车", k=5, chapter=9) == []
    assert label_of(tiny.search("改造", k=7, chapter=0)) == []  # the tiny plan has no introduction


def test_bad_options_are_refused_and_empty_queries_find_nothing(tiny):
    with pytest.raises(InputError, match="k must be >= 1, got 0"):
        tiny.search("养老", k=0)
    with pytest.raises(InputError, match=re.escape(f"retriever must be one of {', '.join(MODES)}, got 'bogus'")):
        tiny.search("养老", mode="bogus")
    assert tiny.search("", k=3) == [] and tiny.search(" \u200b\u3000", k=3) == []
