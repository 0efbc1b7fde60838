"""Fast layer: an English question's words, the government glossary, its Chinese rendering and the
rendering's keyword features, with exact outcomes."""
from __future__ import annotations

import numpy as np
import pytest
from planqa.index.english import rendering_features
from planqa.index.expand import GLOSSARY, english_words, glossary, translate
from planqa.index.query import analyze


def test_english_words_drop_filler_and_undo_irregular_forms():
    assert english_words("Are any new power substations being built?") == ["power", "substation", "build"]
    assert english_words("Is there anything for private businesses?") == ["private", "business"]
    assert english_words("More parking for children, renovated buildings") == ["parking", "child", "renovat", "building"]
    assert english_words("Housing in spring") == ["housing", "spring"]


def test_the_glossary_reads_phrases_as_questions_are_read(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("# a header\nDaycare place\t托位\nthe\t的\nring road\t环线\nring roads\t环路\n", encoding="utf-8")
    assert glossary(path) == {"daycare place": "托位", "ring road": "环路"}  # stop words only: left out; later wins
    path.write_text("ring road 环路\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"g.txt:1: expected 'English<TAB>Chinese'"):
        glossary(path)


def test_the_bundled_glossary_renders_public_service_english():
    table = glossary(GLOSSARY)
    assert translate("Will there be more nursery spots for toddlers?", table) == "托位婴幼儿"
    assert translate("When will the ring road tunnel be usable?", table) == "环路隧道通车"
    assert translate("How many old neighbourhoods get renovated?", table) == "老旧小区改造"
    assert translate("Xyzzy?", table) == ""


def test_the_glossary_wins_over_cc_cedict_in_the_index(tiny):
    # CC-CEDICT alone rendered "nursery" as 托儿所 and "ring road" as 环线.
    assert tiny._rewrite(analyze("Will there be more nursery spots for toddlers?")) == "托位婴幼儿"
    assert tiny._rewrite(analyze("When will the ring road tunnel be usable?")) == "环路隧道通车"
    assert tiny._rewrite(analyze("今年建几家养老驿站？")) == ""


def test_rendering_features_search_the_rendering_by_keyword(tiny):
    cand = np.arange(len(tiny.passages))
    labels = [p.label for p in tiny.passages]
    got = rendering_features("老旧小区改造", cand, tiny.lexical, tiny._norm_texts)
    assert {labels[i] for i in np.flatnonzero(got["en_zh_bm25"])} == {"1.1.1", "1.2.1"}
    assert got["en_zh_bm25"][labels.index("1.2.1")] > got["en_zh_bm25"][labels.index("1.1.1")]
    assert dict(zip(labels, got["en_zh_pairs"].tolist())) == {
        "1.1.1": 0.25, "1.1.2": 0.0, "1.2.1": 1.0, "1.2.2": 0.0, "2.1.1": 0.0, "2.1.2": 0.0, "2.2.1": 0.0}
    none = rendering_features("", cand[:3], tiny.lexical, tiny._norm_texts)
    assert none["en_zh_bm25"].tolist() == [0.0] * 3 and none["en_zh_pairs"].tolist() == [0.0] * 3
