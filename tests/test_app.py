"""The page's handlers and HTML, called directly: exact quotes, references, citations, escaping,
limits, the outline. The real plan's index where the real answer matters; the tiny plan otherwise."""
from __future__ import annotations

import pytest
from conftest import pid
from planqa.index.build import build_index
from planqa.index.search import Searcher
from planqa.qa import app as app_module
from planqa.qa.app import (
    ALL_CHAPTERS,
    EXAMPLES,
    build_app,
    capped_history,
    chapter_choices,
    chapter_value,
    echo,
    respond,
)
from planqa.qa.limits import MAX_ECHO_CHARS, MAX_HISTORY_CHARS, MAX_HISTORY_MESSAGES, MAX_K
from planqa.qa.views import anchor, citation, esc, hit_message, outline_html

REF_6_2 = "第六部分【坚持以“人民对美好生活的向往”为导向…】 › 2、全面促进社会保障体系普惠共享"
CITE_6_2_3 = ("新建10家养老服务驿站。\n——《2024年工作的总体思路和主要任务》第六部分"
              "【坚持以\"人民对美好生活的向往\"为导向,大力促进民生福祉厚植增优】› 2、全面促进社会保障体系普惠共享，"
              "编号 " + pid("6.2.3").split(":", 1)[1])


def assistant(history):
    return [m["content"] for m in history if m["role"] == "assistant"]


def passage(passages, label):
    return next(p for p in passages if p.label == label)


# --- pure HTML and text: no index ---------------------------------------------------------------

def test_escaping_happens_once_for_quotes_apostrophes_and_markup():
    assert esc("""What's "this" <b>, 'single', &""") == "What&#39;s &quot;this&quot; &lt;b&gt;, &#39;single&#39;, &amp;"
    assert esc("1.5万 **粗体** [链接](x) #标题") == "1&#46;5万 &#42;&#42;粗体&#42;&#42; &#91;链接&#93;&#40;x&#41; &#35;标题"
    assert esc("&#39;") == "&amp;&#35;39;"  # an entity someone typed shows as typed


def test_echo_shows_the_question_exactly_once_escaped():
    history = echo("""What's "this" <b>, 'single', &""", [])
    assert history == [{"role": "user", "content": "What&#39;s &quot;this&quot; &lt;b&gt;, &#39;single&#39;, &amp;"}]
    long = echo("养" * 600, [])[0]["content"]
    assert long == "养" * MAX_ECHO_CHARS + "…"
    assert echo("  ", [])[0]["content"] == "（空）"


def test_citation_is_the_quote_then_full_titles_and_the_short_id(passages):
    p = passage(passages, "6.2.3")
    assert citation(p) == CITE_6_2_3
    intro = passage(passages, "0.0.1")
    assert citation(intro) == f"{intro.text}\n——《2024年工作的总体思路和主要任务》引言，编号 {intro.short_id}"
    assert "…" not in citation(p) and "“" not in citation(p)  # the source has straight quotes and no cut


def test_hit_message_links_the_id_to_the_outline_and_carries_the_citation(passages):
    from planqa.index.search import Hit

    p = passage(passages, "6.2.3")
    html = hit_message(Hit(p, 0.9, 0.9, 1.0, ("养老服务驿站",)), passages, 1)
    assert html.startswith("<div class='planqa-hit'><div class='quote'>1. "
                           "<span class='qtext'>新建10家<mark>养老服务驿站</mark>。</span></div>")
    assert f"<div class='ref'>{esc(REF_6_2)}</div>" in html
    assert (f"<a class='pid' href='#planqa-s-tongzhou-2024-work-plan_6_2-{p.id[-6:]}' title='在计划全文中查看'>"
            f"编号 {esc(p.short_id)}</a>") in html
    assert "<button class='planqa-copy' type='button'>复制引文</button>" in html
    assert f"<span class='planqa-cite' hidden>{esc(CITE_6_2_3)}</span>" in html
    assert "<b class='focus'>新建10家养老服务驿站。</b>" in html
    assert "促进城乡劳动力就业不少于1&#46;5万人。" in html


def test_outline_has_a_linked_table_of_contents_and_short_ids(passages):
    html = outline_html(passages)
    toc, body = html.split("</nav>", 1)
    chapters = sorted({p.chapter_no for p in passages})
    assert chapters == list(range(8))
    assert toc.count("href='#planqa-ch-tongzhou-2024-work-plan-") == 8
    sections = {(p.chapter_no, p.section_no) for p in passages if p.section}
    assert toc.count("href='#planqa-sec-") == len(sections)
    assert ("<a href='#planqa-ch-tongzhou-2024-work-plan-6'>"
            "第六部分【坚持以&quot;人民对美好生活的向往&quot;为导向,大力促进民生福祉厚植增优】</a>") in toc
    assert "<a href='#planqa-sec-tongzhou-2024-work-plan-6-2'>2、全面促进社会保障体系普惠共享</a>" in toc
    for p in passages:
        assert f"<p class='sent' id='{anchor(p)}'><code title='位置 {esc(p.label)}'>{esc(p.short_id)}</code> {esc(p.text)}</p>" in body
    assert "tongzhou&#45;2024&#45;work&#45;plan:" not in body  # no document stem before every sentence
    assert body.count("<h3") == 8 and "<h4 id='planqa-sec-tongzhou-2024-work-plan-6-2'>" in body


def test_chapter_choices_include_the_introduction_and_all_means_none(passages):
    choices = chapter_choices(passages)
    assert choices[:2] == [("全部章节", ALL_CHAPTERS), ("引言", 0)]
    assert [no for _, no in choices[1:]] == list(range(8))
    assert choices[7] == ("第六部分【坚持以“人民对美好生活的向往”为导向…】", 6)
    assert [chapter_value(v) for v in (ALL_CHAPTERS, None, "", 0, "3", 7)] == [None, None, None, 0, 3, 7]


def test_a_huge_or_odd_client_history_is_cut_not_echoed_back():
    huge = [{"role": "user", "content": "x" * 1_000_000}]
    assert capped_history(huge) == []
    many = [{"role": "assistant", "content": f"m{i}"} for i in range(500)]
    kept = capped_history(many)
    assert len(kept) == MAX_HISTORY_MESSAGES and kept[-1]["content"] == "m499"
    big = [{"role": "user", "content": "y" * 60_000} for _ in range(10)]
    assert sum(len(m["content"]) for m in capped_history(big)) == 180_000 <= MAX_HISTORY_CHARS
    odd = ["text", {"role": "system", "content": "s"}, {"role": "user", "content": {"path": "/etc/passwd"}},
           {"role": "user", "content": [{"type": "file", "file": {"path": "/etc/passwd"}}]},
           {"role": "user", "content": [{"type": "text", "text": "问"}]}, {"role": "assistant", "content": "答"}]
    assert capped_history(odd) == [{"role": "user", "content": "问"}, {"role": "assistant", "content": "答"}]
    assert capped_history("not a list") == []


# --- handlers on the tiny plan (fake embedder) ---------------------------------------------------

@pytest.fixture
def calls(monkeypatch):
    """Records what respond passes to answer()."""
    seen = []
    real = app_module.answer

    def spy(searcher, question, **kw):
        seen.append((question, kw))
        return real(searcher, question, **kw)

    monkeypatch.setattr(app_module, "answer", spy)
    return seen


def test_follow_up_passes_the_previous_question_raw(tiny, calls):
    history, box, prev = respond(tiny, "新建多少家养老服务驿站？", [], ALL_CHAPTERS, 5)
    assert (box, prev) == ("", "新建多少家养老服务驿站？")
    history, _, prev = respond(tiny, "  那幼儿园呢？ ", history, ALL_CHAPTERS, 5, previous=prev)
    assert prev == "  那幼儿园呢？ "
    assert [kw["previous"] for _, kw in calls] == [None, "新建多少家养老服务驿站？"]
    assert [m["content"] for m in history if m["role"] == "user"] == ["新建多少家养老服务驿站？", "那幼儿园呢？"]
    # a refused question does not replace the previous one
    _, _, kept = respond(tiny, "？！", history, ALL_CHAPTERS, 5, previous=prev)
    assert kept == prev


def test_count_is_clamped_to_the_controls_limit(tiny, calls):
    for asked, used in ((25, MAX_K), (0, 5), (None, 5), ("3", 3), (1, 1)):
        respond(tiny, "养老", [], ALL_CHAPTERS, asked)
        assert calls[-1][1]["k"] == used
    respond(tiny, "养老", [], 0, 3)
    assert calls[-1][1]["chapter"] == 0  # the introduction, not "all chapters"
    respond(tiny, "养老", [], ALL_CHAPTERS, 3)
    assert calls[-1][1]["chapter"] is None


def test_the_count_control_offers_exactly_one_to_the_limit(tiny):
    demo = build_app(tiny)
    k = next(c for c in demo.config["components"] if c.get("props", {}).get("elem_id") == "planqa-k")
    assert [v for _, v in k["props"]["choices"]] == list(range(1, MAX_K + 1))
    assert k["props"]["value"] == 5


def test_the_page_sets_only_chinese_labels(tiny):
    demo = build_app(tiny)
    props = [c.get("props", {}) for c in demo.config["components"]]
    labels = {p.get("label") for p in props} - {None}
    assert {"问答", "承诺清单", "计划全文", "对话", "章节范围", "最多显示条数"} <= labels
    texts = labels | {p.get("placeholder") for p in props if isinstance(p.get("placeholder"), str)}
    assert [t for t in texts if isinstance(t, str) and t.isascii()] == []


def test_chat_turn_echoes_first_and_leaves_the_box_alone_after(tiny):
    import gradio as gr

    steps = list(app_module.chat_turn(tiny, 0.0, "新建多少家养老服务驿站？", [], ALL_CHAPTERS, 5, None))
    first, last = steps
    assert first[0] == [{"role": "user", "content": "新建多少家养老服务驿站？"}] and first[1] == ""
    assert first[4].value == "检索中…"
    assert last[0][0] == first[0][0] and last[0][1]["role"] == "assistant"
    assert last[1] == gr.skip()  # what was typed meanwhile stays in the box
    assert last[2] == last[0] and last[3] == "新建多少家养老服务驿站？" and last[4].value == "提问"


# --- the real plan --------------------------------------------------------------------------------

def test_answer_lead_line_quote_and_reference(searcher):
    history, box, _ = respond(searcher, "今年新建多少家养老服务驿站？", [], ALL_CHAPTERS, 5)
    assert box == ""
    assert history[0] == {"role": "user", "content": "今年新建多少家养老服务驿站？"}
    first = next(r for r in assistant(history) if "planqa-hit" in r)
    assert "<span class='qtext'><mark>新建</mark>10家<mark>养老服务驿站</mark>。</span>" in first
    assert f"<div class='ref'>{esc(REF_6_2)}</div>" in first
    assert f"编号 {esc(pid('6.2.3').split(':', 1)[1])}</a>" in first
    assert f"<span class='planqa-cite' hidden>{esc(CITE_6_2_3)}</span>" in first


def test_abstention_is_said_plainly_with_closest_chapters_and_examples(searcher):
    replies = assistant(respond(searcher, "地铁M101线什么时候开通？", [], ALL_CHAPTERS, 5)[0])
    assert len(replies) == 1
    assert replies[0].startswith("<div class='planqa-none'><b>计划中未找到与该问题直接相关的内容")
    assert esc(EXAMPLES[0]) in replies[0]
    assert "planqa-hit" not in replies[0]  # no passage is presented as the answer


@pytest.mark.parametrize("bad, expected", [
    ("", "请输入一个问题"),
    ("   \u200b ", "请输入一个问题"),
    ("？！。", "请输入一个问题"),
    ("养" * 100_000, "问题太长：最多 500 字，收到 100000 字"),
])
def test_bad_input_gets_a_message_not_an_error(tiny, bad, expected):
    history, _, _ = respond(tiny, bad, [], ALL_CHAPTERS, 5)
    replies = assistant(history)
    assert len(replies) == 1 and expected in replies[0]
    assert len(history[0]["content"]) <= MAX_ECHO_CHARS + 1  # the echo of a huge question is cut


def test_corpus_text_is_escaped_never_rendered(tmp_path):
    from fakes import NgramEmbedder, NgramUse

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "evil.md").write_text(
        "# 计划\n\n## 【第一章】\n\n### 1、公园\n\n新建<script>alert(1)</script>公园**两座**[点我](javascript:x)。\n",
        encoding="utf-8")
    build_index(seeds, tmp_path / "idx", embedder=NgramEmbedder(), use=NgramUse())
    s = Searcher.load(tmp_path / "idx", seeds, embedder=NgramEmbedder(), use=NgramUse())
    html = "".join(assistant(respond(s, "新建公园", [], ALL_CHAPTERS, 5)[0]))
    assert "<script>" not in html and "](" not in html and "**" not in html
    assert "&lt;script&gt;" in html
    assert "<script>" not in outline_html(s.passages)


def test_a_ten_quote_answer_fits_the_history_limit(searcher):
    history, _, _ = respond(searcher, "民生方面有哪些实事？", [], ALL_CHAPTERS, MAX_K)
    size = sum(len(m["content"]) for m in history)
    assert size < MAX_HISTORY_CHARS // 4, size
