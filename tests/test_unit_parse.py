"""Fast layer: how the parser reads structure, on inline plans (the real plan: tests/test_parse.py)."""
from __future__ import annotations

import pytest
from planqa.index.errors import SeedsError
from planqa.index.parse import parse_seeds, parse_text, seed_documents
from planqa.index.text import dewrap


def shape(passages) -> list[tuple[str, str, str, str]]:
    return [(p.label, p.chapter, p.section, p.text) for p in passages]


def test_a_numbered_line_is_a_section_only_when_it_reads_like_a_heading():
    src = ("【章】\n"
           "1、短标题\n"
           "甲。\n"
           "2、完成任务。\n"  # ends like a sentence: text
           "3、这一行以数字开头但它是一段很长的正文而不是标题因为它超过了四十个字还在继续写下去\n"  # over 40 characters: text
           "## 4、带井号的标题即使很长也是标题因为它以井号开头所以不论长短都算作小节标题来处理\n"
           "乙。\n")
    long_text = "3、这一行以数字开头但它是一段很长的正文而不是标题因为它超过了四十个字还在继续写下去"
    assert shape(parse_text(src, "d")) == [
        ("1.1.1", "章", "1、短标题", "甲。"),
        ("1.1.2", "章", "1、短标题", "2、完成任务。"),
        ("1.1.3", "章", "1、短标题", long_text),
        ("1.4.1", "章", "4、带井号的标题即使很长也是标题因为它以井号开头所以不论长短都算作小节标题来处理", "乙。"),
    ]


def test_chapter_headings_lose_their_decorations():
    src = "□[【坚持以城市建设为重点,推动城市更新】]\n甲。\n## 【第二章\n乙。\n【一】和【二】不是章\n"
    ps = parse_text(src, "d")
    assert [(p.chapter_no, p.chapter) for p in ps] == [(1, "坚持以城市建设为重点,推动城市更新"), (2, "第二章"), (2, "第二章")]
    assert ps[0].chapter_label == "第一部分【坚持以城市建设为重点…】"
    assert ps[2].text == "【一】和【二】不是章"  # two 【 on one line: text, not a heading


def test_a_paragraph_that_stops_mid_sentence_joins_the_next():
    src = ("【章】\n1、节\n"
           "新开公办幼儿园6所，\n\n增加学前学位1080个。\n"  # a comma: continues
           "加快北大人民医院、东直门医院两个国家医学中心、区\n\n疾控中心建设。\n"  # a two-character tail after 、
           '大力开展路口渠化等"微改造"\n\n提升通行效率。\n')  # a closing quote ends the paragraph
    assert [p.text for p in parse_text(src, "d")] == [
        "新开公办幼儿园6所，增加学前学位1080个。",
        "加快北大人民医院、东直门医院两个国家医学中心、区疾控中心建设。",
        '大力开展路口渠化等"微改造"',
        "提升通行效率。",
    ]


def test_the_title_is_the_first_plain_heading_else_the_document_name():
    assert {p.doc_title for p in parse_text("# 2024年测试计划\n## 另一个标题\n甲。\n", "d")} == {"2024年测试计划"}
    assert {p.doc_title for p in parse_text("甲。\n", "notes")} == {"notes"}


def test_offsets_point_into_the_source_across_wrap_spaces_and_crlf():
    src = "# 计划\r\n【章】\r\n1、节\r\n完成10个老旧 小区改造；新建\u3000公园。\r\n  开放图书馆，\r\n\r\n两座。\r\n"
    ps = parse_text(src, "d")
    assert [p.text for p in ps] == ["完成10个老旧小区改造；", "新建公园。", "开放图书馆，两座。"]
    assert [src[p.start:p.end] for p in ps] == ["完成10个老旧 小区改造；", "新建\u3000公园。", "开放图书馆，\r\n\r\n两座。"]
    assert all(dewrap(src[p.start:p.end]) == p.text for p in ps)


def test_seed_files_are_read_as_utf8_and_named_by_their_path(tmp_path):
    (tmp_path / "plan.md").write_bytes("\ufeff甲。\n".encode())  # a BOM is not text
    (tmp_path / "plan.txt").write_text("乙。\n", encoding="utf-8")
    (tmp_path / "2023").mkdir()
    (tmp_path / "2023" / "old.md").write_text("丙。\n", encoding="utf-8")
    (tmp_path / ".hidden.md").write_text("丁。\n", encoding="utf-8")
    (tmp_path / "notes.docx").write_bytes(b"PK")
    assert [name for _, name in seed_documents(tmp_path)] == ["2023/old", "plan.md", "plan.txt"]
    assert [(p.document, p.text, p.start) for p in parse_seeds(tmp_path)] == [
        ("2023/old", "丙。", 0), ("plan.md", "甲。", 0), ("plan.txt", "乙。", 0)]


def test_unusable_seeds_are_refused_with_what_to_do(tmp_path):
    with pytest.raises(SeedsError, match=f"^seeds folder not found: {tmp_path / 'none'}$"):
        parse_seeds(tmp_path / "none")
    with pytest.raises(SeedsError, match=f"^no .md or .txt plan in {tmp_path}$"):
        parse_seeds(tmp_path)
    (tmp_path / "plan.md").write_bytes("计划".encode("gb18030"))
    with pytest.raises(SeedsError, match=f"^{tmp_path / 'plan.md'} is not UTF-8 text .*; save it as UTF-8$"):
        parse_seeds(tmp_path)
