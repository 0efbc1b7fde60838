import hashlib

from conftest import PLAN, SEEDS, by_text, pid
from planqa.index.parse import parse_seeds, parse_text
from planqa.index.text import dewrap, normalize

CHAPTERS = [
    "坚持以实施副中心控规为引领,全面推动城市副中心高质量发展迈入新阶段",
    "坚持以增强内生动力为重点,助力经济高质量发展提档加速",
    '坚持以"一体化"为带动,加快打造京津冀协同发展"桥头堡"',
    '坚持以"双碳"行动为牵引,高标准建设国家绿色发展示范区',
    '坚持以"精治""智治""品质"为支撑,努力构建现代化城市治理体系',
    '坚持以"人民对美好生活的向往"为导向,大力促进民生福祉厚植增优',
    "坚持以改革开放为动力,持续激发城市发展新活力",
]


def test_seven_chapters_in_order_with_clean_titles(passages):
    seen = {}
    for p in passages:
        seen.setdefault(p.chapter_no, p.chapter)
    assert list(seen) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [seen[n] for n in range(1, 8)] == CHAPTERS


def test_passage_count_and_title(passages):
    assert len(passages) == 125
    assert {p.doc_title for p in passages} == {"2024年工作的总体思路和主要任务"}
    assert [p.id for p in passages if p.chapter_no == 0] == [pid("0.0.1"), pid("0.0.2")]


def test_section_heading_at_chapter_depth_is_a_section(passages):
    # "## 1、聚焦集群化增强发展源动力" sits at the same # depth as the chapter headings.
    p = by_text(passages, "全球财富管理中心")
    assert (p.chapter_no, p.section_no, p.section) == (2, 1, "1、聚焦集群化增强发展源动力")


def test_chapter_closed_by_square_bracket(passages):
    p = by_text(passages, "通清路、厂通路")
    assert p.chapter_no == 3
    assert p.chapter_label == "第三部分【坚持以“一体化”为带动…】"


def test_sentence_broken_across_paragraphs_is_one_passage(passages):
    p = by_text(passages, "东直门医院")
    assert p.text == "加快北大人民医院、东直门医院两个国家医学中心、区疾控中心建设。"
    assert p.id == pid("6.1.7")
    assert not [q for q in passages if q.text.startswith("疾控中心")]


def test_lines_without_final_punctuation_are_passages(passages):
    assert by_text(passages, "22号线").text == "推动轨道交通22号线建设全面提速"
    assert by_text(passages, "重大技术").text == "加快推动京津冀国家技术创新中心通州中心重大技术"
    # A closing quote ends a line but does not continue into the next paragraph.
    assert by_text(passages, "路口渠化").text == '大力开展路口渠化等"微改造"'


def test_line_wrap_spaces_removed_in_quotes(passages):
    assert "再出新成果" in passages[0].text
    assert by_text(passages, "运河商务区重点组团").text == "加快运河商务区重点组团建设,力争累计完工500万平方米。"


def test_reference_string(passages):
    p = by_text(passages, "养老服务驿站")
    assert p.reference == "第六部分【坚持以“人民对美好生活的向往”为导向…】 › 2、全面促进社会保障体系普惠共享"
    assert p.id == pid("6.2.3")
    assert passages[0].reference == "引言"
    assert by_text(passages, "用心、用情、用力").reference == "第六部分【坚持以“人民对美好生活的向往”为导向…】"


def test_every_passage_traces_back_to_its_source_offsets(passages, plan_text):
    for p in passages:
        assert dewrap(plan_text[p.start:p.end]) == p.text, p.id


def test_ids_stable_across_parses(passages):
    again = parse_seeds(SEEDS)
    assert [p.id for p in again] == [p.id for p in passages]
    assert len({p.id for p in passages}) == len(passages)


# SHA-256 of the plan as published (the copy in the team's shared folder has the same bytes).
# Every quote and id depends on these bytes: the plan is never edited.
PLAN_SHA256 = "2e585784273688e45b5a1511b2e3d157a4ec828fafafca2530e0b82e7e489d96"


def test_the_plan_is_byte_identical_to_the_published_one():
    assert hashlib.sha256(PLAN.read_bytes()).hexdigest() == PLAN_SHA256


def test_plain_text_without_headings(tmp_path):
    (tmp_path / "notes.txt").write_text("今年完成十个老旧小区改造。\n\n新建公园两座；开放 图书馆\n", encoding="utf-8")
    ps = parse_seeds(tmp_path)
    assert [(p.label, p.text, p.reference) for p in ps] == [
        ("0.0.1", "今年完成十个老旧小区改造。", "引言"),
        ("0.0.2", "新建公园两座；", "引言"),
        ("0.0.3", "开放图书馆", "引言"),
    ]
    # The id is the section and the sentence's own hash: sha1 of its normalised text.
    assert [p.id for p in ps] == ["notes:0.0-" + hashlib.sha1(normalize(p.text).encode()).hexdigest()[:6] for p in ps]


def test_ids_survive_a_neighbour_split_differently():
    """A citation stays valid when the sentence before it is split in two (or joined)."""
    joined = parse_text("## 【章】\n\n## 1、节\n\n新建公园两座，开放图书馆。完成十个老旧小区改造。\n", "d")
    split = parse_text("## 【章】\n\n## 1、节\n\n新建公园两座。开放图书馆。完成十个老旧小区改造。\n", "d")
    assert [p.label for p in joined] == ["1.1.1", "1.1.2"] and [p.label for p in split] == ["1.1.1", "1.1.2", "1.1.3"]
    assert joined[-1].id == split[-1].id == "d:1.1-" + hashlib.sha1("完成十个老旧小区改造。".encode()).hexdigest()[:6]


def test_repeated_sentence_in_a_section_gets_a_distinct_id():
    ps = parse_text("## 【章】\n\n## 1、节\n\n加快建设。加快建设。\n", "d")
    assert ps[1].id == ps[0].id + "~2"


def test_heading_variants():
    src = "# 标题\n\n□ 【第一章,内容】\n\n#### 2. 小节\n\n句子一。句子二！\n"
    ps = parse_text(src, "d")
    assert [(p.chapter, p.section, p.text) for p in ps] == [
        ("第一章,内容", "2、小节", "句子一。"),
        ("第一章,内容", "2、小节", "句子二！"),
    ]
