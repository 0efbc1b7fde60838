"""The page's handlers, called directly: exact quotes and references, abstention, bad input, escaping."""
from __future__ import annotations

import csv

import pytest
from conftest import pid
from planqa.index.build import build_index
from planqa.index.search import Searcher
from planqa.qa.app import EXAMPLES, build_app, chapter_choices, commitment_rows, commitments_csv, respond
from planqa.qa.views import esc, outline_html

REF_6_2 = "第六部分【坚持以“人民对美好生活的向往”为导向…】 › 2、全面促进社会保障体系普惠共享"


def assistant(history):
    return [m["content"] for m in history if m["role"] == "assistant"]


def test_answer_lead_line_quote_and_reference(searcher):
    history, box = respond(searcher, "今年新建多少家养老服务驿站？", [], 0, 5)
    assert box == ""
    assert history[0] == {"role": "user", "content": "今年新建多少家养老服务驿站？"}
    replies = assistant(history)
    assert replies[0] == f"计划中有 {len(replies) - 1} 处相关内容："
    first = replies[1]
    assert "<span class='qtext'><mark>新建</mark>10家<mark>养老服务驿站</mark>。</span>" in first
    assert f"<div class='ref'>{esc(REF_6_2)}</div>" in first
    assert f"<div class='pid'>{esc(pid('6.2.3'))}</div>" in first
    # the section around it, with the passage itself in bold
    assert "<b class='focus'>新建10家养老服务驿站。</b>" in first
    assert "促进城乡劳动力就业不少于1&#46;5万人。" in first


def test_abstention_is_said_plainly_with_closest_chapters_and_examples(searcher):
    replies = assistant(respond(searcher, "地铁M101线什么时候开通？", [], 0, 5)[0])
    assert len(replies) == 1
    assert replies[0].startswith("<div class='planqa-none'><b>计划中未找到与该问题直接相关的内容")
    assert "最接近的章节（不是答案）" in replies[0]
    assert esc(EXAMPLES[0]) in replies[0]
    assert "planqa-hit" not in replies[0]  # no passage is presented as the answer


@pytest.mark.parametrize("bad, expected", [
    ("", "请输入一个问题"),
    ("   \u200b ", "请输入一个问题"),
    ("？！。", "请输入一个问题"),
    ("养" * 100_000, "问题太长：最多 500 字，收到 100000 字"),
])
def test_bad_input_gets_a_message_not_an_error(searcher, bad, expected):
    history, _ = respond(searcher, bad, [], 0, 5)
    replies = assistant(history)
    assert len(replies) == 1 and expected in replies[0]
    assert len(history[0]["content"]) <= 210  # the echo of a huge question is cut


def test_emoji_and_mixed_scripts(searcher):
    replies = assistant(respond(searcher, "😀东六环 when 通车？", [], 0, 5)[0])
    assert replies[0].startswith("计划中有")
    assert "东六环入地改造具备通车条件" in replies[1].replace("<mark>", "").replace("</mark>", "")


def test_follow_up_is_a_new_search_and_history_is_kept(searcher):
    history, _ = respond(searcher, "今年新建多少家养老服务驿站？", [], 0, 5)
    history, _ = respond(searcher, "东六环什么时候通车？", history, 0, 3)
    users = [m["content"] for m in history if m["role"] == "user"]
    assert users == ["今年新建多少家养老服务驿站？", "东六环什么时候通车？"]
    last = history[-len(assistant(history)):]  # the latest answer's messages
    latest = [m["content"] for m in history[users and len(history) - 1:]]
    assert "东六环" in "".join(latest) and last


def test_chapter_filter_and_k(searcher):
    replies = assistant(respond(searcher, "养老", [], 3, 1)[0])
    assert replies[0] == "计划中有 1 处相关内容："
    assert "促进优质<mark>养老</mark>服务资源向周边地区延伸布局。" in replies[1]
    assert "第三部分【坚持以“一体化”为带动…】" in replies[1]


def test_chapter_choices(searcher):
    choices = chapter_choices(searcher)
    assert choices[0] == ("全部章节", 0)
    assert [no for _, no in choices] == list(range(8))
    assert choices[6] == ("第六部分【坚持以“人民对美好生活的向往”为导向…】", 6)


def test_corpus_text_is_escaped_never_rendered(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "evil.md").write_text(
        "# 计划\n\n## 【第一章】\n\n### 1、公园\n\n新建<script>alert(1)</script>公园**两座**[点我](javascript:x)。\n",
        encoding="utf-8")
    build_index(seeds, tmp_path / "idx")
    s = Searcher.load(tmp_path / "idx", seeds)
    replies = assistant(respond(s, "新建公园", [], 0, 5)[0])
    html = "".join(replies)
    assert "<script>" not in html and "](" not in html and "**" not in html
    assert "&lt;script&gt;" in html
    assert "<script>" not in outline_html(s.passages)


def test_commitments_table_and_csv(searcher):
    rows = commitment_rows(searcher, 6, "养老服务驿站")
    assert len(rows) == 1 and rows[0][-2:] == ["新建10家养老服务驿站。", pid("6.2.3")]
    path = commitments_csv(searcher, 6, "养老")
    raw = open(path, "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert [r[-1] for r in table[1:]] == [pid("6.2.2"), pid("6.2.3")]


def test_outline_lists_every_passage_with_its_id(searcher):
    html = outline_html(searcher.passages)
    for p in searcher.passages:
        assert esc(p.id) in html
    assert html.count("<h3") == 8  # introduction and seven chapters


def test_app_builds_without_launching(searcher):
    demo = build_app(searcher)
    labels = {c.get("props", {}).get("label") for c in demo.config["components"]}
    assert {"问答", "承诺清单", "计划全文", "对话", "章节范围"} <= labels
