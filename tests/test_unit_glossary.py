"""Fast layer: the everyday-word glossary (index/glossary.py): the file's format, finding the
words in a question, the rewritten question, and the keyword bridge's exact scores."""
from __future__ import annotations

import math

import numpy as np
import pytest
from planqa.index.glossary import FEATURES, GLOSSARY, Bridge, Glossary, default_glossary, idf
from planqa.index.rank import FEATURES as RANKER_FEATURES

TEXT = """# a comment
胡同\t背街小巷 街巷
小胡同\t背街小巷

步道\t绿道 慢行系统
"""


def test_parse_reads_entries_in_order_and_skips_comments_and_blank_lines():
    g = Glossary.parse(TEXT)
    assert g.entries == {"胡同": ("背街小巷", "街巷"), "小胡同": ("背街小巷",), "步道": ("绿道", "慢行系统")}


@pytest.mark.parametrize("text, message", [
    ("胡同 背街小巷\n", "line 1: expected an everyday word, a tab, then official words"),
    ("# c\n河\t河道\n", "line 2: the everyday word '河' is shorter than 2 characters"),
    ("胡同\t\n", "line 1: '胡同' names no official word after the tab"),
    ("胡同\t街巷\n胡同\t背街小巷\n", "line 2: '胡同' is listed twice; merge the two lines"),
])
def test_a_bad_line_is_refused_with_its_number(text, message):
    with pytest.raises(ValueError, match=message):
        Glossary.parse(text, "g.tsv")


def test_find_takes_the_longest_word_at_each_place_once():
    g = Glossary.parse(TEXT)
    assert g.find("老城区的小胡同和胡同") == ["小胡同", "胡同"]
    assert g.find("小胡同,小胡同") == ["小胡同"]
    assert g.find("河边会修步道吗?") == ["步道"]
    assert g.find("没有日常说法") == []


def test_rewrite_puts_the_first_official_word_in_place_of_each_everyday_word():
    g = Glossary.parse(TEXT)
    assert g.rewrite("小胡同和步道") == "背街小巷和绿道"
    assert g.rewrite("没有日常说法") == ""


def test_the_shipped_glossary_loads_and_bridges_the_everyday_words_of_issue_9():
    g = default_glossary()
    assert g == Glossary.load(GLOSSARY)
    assert len(g.entries) > 400
    assert g.entries["步道"][0] == "绿道"
    assert g.entries["小胡同"] == ("背街小巷",)
    assert g.entries["照护站点"][0] == "养老服务驿站"
    assert g.entries["入园名额"][0] == "学前学位"
    assert g.entries["看病"][0] == "就医"
    assert g.entries["找工作"][0] == "就业"
    assert g.entries["老房子"][0] == "老旧小区"
    assert g.rewrite("河边会修步道吗?") == "滨河会修绿道吗?"


def test_idf_is_bm25s():
    assert idf(1, 4) == pytest.approx(math.log(1 + 3.5 / 1.5))
    assert idf(4, 4) == pytest.approx(math.log(1 + 0.5 / 4.5))


def test_bridge_scores_each_sentence_by_the_rarest_official_word_it_holds():
    texts = ["完善全域绿道体系", "启动慢行系统建设,完善绿道", "整治背街小巷87条", "新建养老服务驿站"]
    b = Bridge(Glossary.parse(TEXT), texts)
    green, slow, lanes = idf(2, 4), idf(1, 4), idf(1, 4)
    # 步道 -> the best of 绿道 (two sentences) and 慢行系统 (one); 小胡同 -> 背街小巷.
    assert b.scores("河边会修步道吗") == pytest.approx(np.array([green, slow, 0, 0], np.float32))
    assert b.scores("小胡同和步道") == pytest.approx(np.array([green, slow, lanes, 0], np.float32))
    assert b.scores("没有日常说法").tolist() == [0, 0, 0, 0]


def test_the_glossary_features_are_ranker_features_in_order():
    start = RANKER_FEATURES.index(FEATURES[0])
    assert RANKER_FEATURES[start:start + len(FEATURES)] == FEATURES


def test_the_searcher_gives_the_ranker_the_bridge_and_the_rewritten_question(tiny):
    from planqa.index.glossary import columns
    from planqa.index.query import analyze
    from planqa.index.rank import squash

    labels = [p.label for p in tiny.passages]
    cand = np.arange(len(labels))
    got = columns(tiny, analyze("老人的照护站点今年要增加多少？"), cand)
    # 老人 -> 养老 and 照护站点 -> 养老服务驿站: both in the two sentences of 2.1, in two of seven sentences.
    expected = {label: squash(2 * idf(2, 7)) if label in ("2.1.1", "2.1.2") else 0.0 for label in labels}
    assert dict(zip(labels, got["glossary"].tolist())) == pytest.approx(expected)
    # The rewritten question, embedded by both encoders, as z-scores against the plan.
    rv = tiny._embed_query("老年人的养老服务驿站今年要增加多少?")
    ru = tiny._embed_use("老年人的养老服务驿站今年要增加多少?")
    assert got["gl_e5_z"] == pytest.approx(tiny._z(tiny.vectors @ rv, tiny._background @ rv))
    assert got["gl_use_z"] == pytest.approx(tiny._z(tiny.use_vectors @ ru, tiny._use_background @ ru))
    plain = columns(tiny, analyze("新建养老服务驿站"), cand)
    assert [plain[f].tolist() for f in FEATURES] == [[0.0] * 7] * 3
