"""Fast layer: the question without its everyday place word (index/places.py) and its ranker features."""
from __future__ import annotations

import numpy as np
import pytest
from planqa.index.glossary import Glossary, default_glossary
from planqa.index.places import FEATURES, without_places
from planqa.index.rank import FEATURES as RANKER_FEATURES

GLOSSARY = Glossary.parse("河边\t滨河 滨水\n村里\t农村\n家门口\t社区\n步道\t绿道\n小诊所\t卫生室\n")


@pytest.mark.parametrize("question, core", [
    ("河边会修步道吗?", "会修步道吗?"),  # where, then what: the place word goes
    ("村里看病的小诊所会统一管起来吗?", "看病的小诊所会统一管起来吗?"),
    ("想在河边散散步", "想在散散步"),  # after a particle
    ("大运河边写字楼扎堆的那片", "大运河边写字楼扎堆的那片"),  # inside a name: kept
    ("居民家门口办事", "居民家门口办事"),  # part of a longer phrase: kept
    ("有步道吗?", "有步道吗?"),  # no place word: the question itself
    ("河边?", "河边?"),  # nothing else left: the question itself
])
def test_the_place_word_is_left_out_only_where_it_sets_the_scene(question, core):
    assert without_places(GLOSSARY, question) == core


def test_the_shipped_glossary_reads_the_issue_9_question_without_its_river_bank():
    assert without_places(default_glossary(), "河边会修步道吗?") == "会修步道吗?"


def test_the_place_features_are_the_last_ranker_features():
    assert RANKER_FEATURES[-len(FEATURES):] == FEATURES


def test_the_searcher_gives_the_ranker_the_question_without_its_place(tiny):
    from planqa.index.places import columns
    from planqa.index.query import analyze

    cand = np.arange(len(tiny.passages))
    got = columns(tiny, analyze("河边会新建养老服务驿站吗？"), cand)
    v, u = tiny._embed_query("会新建养老服务驿站吗?"), tiny._embed_use("会新建养老服务驿站吗?")
    assert got["core_e5_z"] == pytest.approx(tiny._z(tiny.vectors @ v, tiny._background @ v))
    assert got["core_use_z"] == pytest.approx(tiny._z(tiny.use_vectors @ u, tiny._use_background @ u))
    assert got["core_use"] == pytest.approx(tiny.use_vectors @ u)
    # Without a place word the features are the question's own.
    plain = columns(tiny, analyze("新建养老服务驿站"), cand)
    own = tiny.text_z(analyze("新建养老服务驿站").norm, cand)
    assert plain["core_e5_z"] == pytest.approx(own[0]) and plain["core_use_z"] == pytest.approx(own[1])
