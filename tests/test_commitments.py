"""Commitments: the rows a first reader found wrong (issue 10), exact records, filters, the API dicts."""
import pytest
from conftest import DOC, by_text, pid
from planqa.index.errors import InputError
from planqa.qa.commitments import commitment_dicts, commitments, extract, extract_all
from planqa.qa.measures import Quantity


@pytest.fixture(scope="module")
def rows(passages):
    return {c.id: c for c in extract_all(passages)}


def one(rows, label, part=""):
    return rows[pid(label) + part]


def labels(found):
    from conftest import _plan_passages

    label = {p.id: p.label for p in _plan_passages()}
    return [label.get(c.id, label.get(c.id.rsplit("-", 1)[0], "?") + "-2") for c in found]


# --- every bullet of the list of wrong rows -------------------------------------------

def test_a_voltage_is_not_a_target(rows):
    c = one(rows, "1.2.1")  # "创意园220千伏变电站": a substation's specification
    assert c.quantities == () and not c.quantified
    assert (c.milestone, c.milestone_word) == ("in_use", "投入使用")


def test_five_belongs_to_the_home_centres_whose_verb_the_source_lost(rows):
    c = one(rows, "5.1.4")  # "稳步推进南大街项目试点片区腾退改造、5个家园中心" (no verb, no 。)
    assert c.quantities == (Quantity("5", "个", "", 18, 20, "家园中心"),)
    assert c.quote[18:20] == "5个"
    assert (c.milestone, c.milestone_word, c.object) == ("effort", "稳步", "南大街项目试点片区")
    assert c.notes == ("原文句末缺字：“5个家园中心”没有动词，计划未说明对其做什么",)


def test_east_sixth_ring_is_only_ready_for_traffic(rows):
    c = one(rows, "1.1.7")
    assert (c.milestone, c.milestone_word, c.milestone_span) == ("ready", "具备通车条件", (7, 13))
    assert c.object == "东六环入地改造" and c.object_span == (0, 7)


def test_actions_the_first_table_missed(rows):
    kindergartens = one(rows, "6.1.4")  # "推进新开公办幼儿园6所,增加学前学位1080个。"
    assert (kindergartens.milestone, kindergartens.milestone_word, kindergartens.object) == ("in_use", "新开", "公办幼儿园")
    assert [(q.text, q.counts) for q in kindergartens.quantities] == [("6所", "公办幼儿园"), ("1080个", "学位")]
    coverage = one(rows, "6.1.6")
    assert (coverage.milestone, coverage.milestone_word, coverage.object) == ("effort", "推动", "全区集团化办学覆盖率")
    assert [q.text for q in coverage.quantities] == ["超过65%"]
    jobs = one(rows, "6.2.1")
    assert (jobs.milestone, jobs.milestone_word, jobs.object) == ("effort", "促进", "城乡劳动力就业")
    assert [q.text for q in jobs.quantities] == ["不少于1.5万人"]


@pytest.mark.parametrize(("label", "first", "second", "milestones"), [
    ("1.4.1", "统筹开展张家湾古镇建设,加快推进张家湾设计小镇重点项目开工建设", "加速实施台湖演艺小镇图书城和京城重工升级改造。",
     ("started", "effort")),
    ("7.1.3", '加速推进"村居融合"治理取得突破', "启动集体经营性建设用地入市试点项目建设。", ("effort", "started")),
])
def test_sentences_run_together_are_two_commitments(rows, label, first, second, milestones):
    a, b = one(rows, label), one(rows, label, "-2")
    assert (a.quote, b.quote) == (first, second)
    assert (a.milestone, b.milestone) == milestones
    assert b.id == pid(label) + "-2" and b.offset == len(first)
    assert sum(c.id.startswith(pid(label)) for c in rows.values()) == 2


def test_places_the_first_table_missed(rows):
    assert [p.name for p in one(rows, "1.1.5").places] == ["路县故城"]
    assert [p.name for p in one(rows, "2.2.1").places] == ["中关村通州园"]
    assert [p.name for p in one(rows, "7.1.1").places] == ["中关村通州园"]
    assert [(p.name, p.start, p.end) for p in one(rows, "1.1.5").places] == [("路县故城", 2, 6)]


def test_keyword_school_finds_primary_and_middle_schools(passages):
    found = labels(commitments(passages, keyword="学校"))
    assert {"6.1.1", "6.1.2", "6.1.3", "5.3.6"} <= set(found)  # 玉桥小学, 潞苑中学 and 中小学
    assert found == ["1.2.1", "1.2.2", "3.3.3", "5.3.6", "6.1.1", "6.1.2", "6.1.3", "6.1.4", "6.1.5", "6.1.6"]


def test_typo_stays_verbatim_and_is_flagged(rows):
    c = one(rows, "5.1.2")
    assert "22条道路架空线人地" in c.quote
    assert c.notes == ("原文“人地”疑为“入地”之误，引文照录原文",)


# --- records -----------------------------------------------------------------------------------

def test_whole_record_and_citation(passages):
    [c] = extract(by_text(passages, "新建10家养老服务驿站"), passages)
    assert (c.id, c.document, c.chapter_no, c.quote) == (pid("6.2.3"), DOC, 6, "新建10家养老服务驿站。")
    assert c.chapter == "第六部分【坚持以“人民对美好生活的向往”为导向,大力促进民生福祉厚植增优】"
    assert c.section == "2、全面促进社会保障体系普惠共享"
    assert (c.milestone, c.milestone_word, c.milestone_span) == ("finished", "新建", (0, 2))
    assert (c.object, c.object_span) == ("养老服务驿站", (5, 11))
    assert c.quantities == (Quantity("10", "家", "", 2, 5, "养老服务驿站"),)
    assert (c.deadline.text, c.deadline.start) == ("2024年", None)  # the plan's year: the sentence names none
    assert c.citation == ("新建10家养老服务驿站。\n——《2024年工作的总体思路和主要任务》第六部分【坚持以“人民对美好生活的向往”为导向,"
                          f"大力促进民生福祉厚植增优】› 2、全面促进社会保障体系普惠共享，编号 {pid('6.2.3').split(':')[1]}")


def test_citation_of_a_split_sentence_names_its_part(rows):
    c = one(rows, "7.1.3", "-2")
    assert c.citation.startswith("启动集体经营性建设用地入市试点项目建设。\n——《2024年工作的总体思路和主要任务》第七部分【")
    assert c.citation.endswith(f"› 1、激发改革创新新动能，编号 {pid('7.1.3').split(':')[1]}-2")


def test_field_offsets_lead_back_to_the_source(rows, plan_text):
    from planqa.qa.commitments import source_span

    c = one(rows, "1.2.1")  # the source wraps a line inside "安贞医院通州院 区"
    s, e = source_span(c, plan_text, c.object_span)
    assert plan_text[s:e].replace(" ", "").replace("\n", "") == c.object
    assert " " in plan_text[s:e] or "\n" in plan_text[s:e]
    second = one(rows, "1.4.1", "-2")  # offsets of a split sentence's second part count from its own quote
    s, e = source_span(second, plan_text, (second.places[0].start, second.places[0].end))
    assert plan_text[s:e] == "台湖"


def test_written_deadline_has_its_offsets(rows):
    c = one(rows, "1.3.1")
    assert (c.deadline.text, c.deadline.start, c.deadline.end) == ("2024年", 2, 7)


@pytest.mark.parametrize(("label", "milestone", "word"), [
    ("6.2.2", "in_use", "投入运营"), ("6.3.2", "started", "开工"), ("6.1.1", "finished", "完工"),
    ("1.1.5", "in_use", "向公众开放"), ("1.3.2", "effort", "大力"),  # "拿地即开工" is a quoted model's name
    ("6.1.3", "effort", "加快"),  # "新建项目": 新建 names the project, it promises nothing
    ("3.3.2", "effort", "推进"),  # "先行启动区" is a zone
    ("2.2.5", "other", ""),  # "公平有序的营商环境": 有序 is not an effort here
])
def test_milestones(rows, label, milestone, word):
    assert (one(rows, label).milestone, one(rows, label).milestone_word) == (milestone, word)


def test_not_quantities(rows):
    for label in ("0.0.2", "2.0.1", "3.1.2", "1.3.1", "6.1.7"):  # "11311", "3+1", 22号线, 2024年, 两个
        assert one(rows, label).quantities == ()


# --- filters and the API's dicts ----------------------------------------------------------------

def test_filters(passages):
    assert labels(commitments(passages, chapter=0)) == ["0.0.1", "0.0.2"]
    assert labels(commitments(passages, milestone="done", chapter=6)) == ["6.1.1", "6.1.4", "6.1.5", "6.1.9", "6.2.2", "6.2.3"]
    assert labels(commitments(passages, quantified_only=True)) == [
        "1.1.1", "1.3.3", "4.3.3", "5.1.2", "5.1.3", "5.1.4", "6.1.4", "6.1.5", "6.1.6", "6.2.1", "6.2.3", "6.2.4"]
    assert labels(commitments(passages, keyword="潮白河")) == ["3.1.1", "3.3.1", "3.3.2"]
    assert labels(commitments(passages, keyword="社会保障")) == ["6.2.1", "6.2.2", "6.2.3", "6.2.4"]  # the section
    assert labels(commitments(passages, keyword="６５％")) == ["6.1.6"]  # full-width, normalized
    assert labels(commitments(passages, milestone="今年要完成/投用的", keyword="养老")) == ["6.2.2", "6.2.3"]
    assert len(commitments(passages, keyword="  ")) == 127
    assert commitments(passages, keyword="火星基地") == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"chapter": 8}, "chapter must be 0 (the introduction) to 7, got 8"),
    ({"chapter": -1}, "got -1"),
    ({"chapter": "six"}, "got 'six'"),
    ({"milestone": "soon"}, "unknown milestone 'soon'"),
])
def test_bad_filters_name_the_value(passages, kwargs, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        commitment_dicts(passages, **kwargs)


def test_commitment_dicts_are_json_ready(passages):
    import json

    [d] = commitment_dicts(passages, keyword="普惠托位")
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d
    assert {k: d[k] for k in ("id", "milestone", "milestone_label", "object", "quantity", "unit", "places", "deadline")} == {
        "id": pid("6.1.5"), "milestone": "in_use", "milestone_label": "投用 in use", "object": "普惠托位",
        "quantity": ["1180"], "unit": ["个"], "places": [], "deadline": "2024年"}
    assert d["spans"]["quantities"] == [[6, 11]] and d["quote"][6:11] == "1180个"
