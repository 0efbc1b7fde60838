"""The 承诺清单 tab: filters, counts per milestone per chapter, the commitments, CSV and XLSX downloads.

`commitments_tab(searcher)` builds the tab inside the caller's gr.Blocks; the handlers are plain
functions of the filter values that tests call directly. The downloads are links to the server's
own routes (`/api/commitments.csv|.xlsx`, qa/api.py) with the filter in the query, so no reply of
the page carries a file or a server path.
"""
from __future__ import annotations

import html
from functools import partial
from urllib.parse import urlencode

from .commitments import chapters, commitments
from .commitments_view import CSS, counts_html, list_html
from .export import download_name

ALL = "all"
MILESTONE_CHOICES = [
    ("全部", ""), ("今年要完成/投用的", "done"), ("今年至少开工的", "begun"), ("投用", "in_use"), ("完工", "finished"),
    ("开工", "started"), ("具备条件", "ready"), ("只是推进", "effort"), ("其他", "other"),
]


def chapter_choices(passages) -> list[tuple[str, int | str]]:
    """全部章节, 引言 (0), then each chapter by its full title."""
    return [("全部章节", ALL)] + [(title, no) for no, title in chapters(passages)]


def filters(chapter, keyword, milestone, quantified) -> dict:
    """The controls' values as the library takes them."""
    return {
        "chapter": None if chapter in (None, "", ALL) else int(chapter),
        "keyword": (keyword or "").strip() or None,
        "milestone": milestone or None,
        "quantified_only": bool(quantified),
    }


def view(passages, chapter, keyword, milestone, quantified) -> tuple[str, str]:
    """(counts, list) HTML for the filters. The counts ignore the milestone filter: they show the spread."""
    f = filters(chapter, keyword, milestone, quantified)
    rows = commitments(passages, **f)
    spread = commitments(passages, **(f | {"milestone": None}))
    total = len(rows)
    summary = (f"<p class='c-summary'><b>共 {total} 条承诺</b>" + ("（已筛选）" if any(f.values()) else "")
               + "　原文标注：<span class='q-ms'>承诺程度</span> <span class='q-obj'>对象</span> <span class='q-num'>数量</span>"
               " <span class='q-pl'>地点</span></p>")
    scope = "（按当前章节、关键词、量化筛选，不按承诺程度）" if any(f.values()) else ""
    caption = f"<p class='c-caption'>各章承诺程度统计{scope}</p>"
    return CSS + caption + counts_html(spread, chapters(passages)), summary + list_html(rows)


def download_query(chapter, keyword, milestone, quantified) -> str:
    """The query string of /api/commitments.csv|.xlsx for the filters (the API's own parameter names)."""
    f = filters(chapter, keyword, milestone, quantified)
    params = {"chapter": f["chapter"], "q": f["keyword"], "milestone": f["milestone"],
              "quantified": "true" if f["quantified_only"] else None}
    return urlencode({k: v for k, v in params.items() if v is not None})


def download_links(chapter, keyword, milestone, quantified) -> str:
    """Two links that download the filtered commitments, named after the filter (relative URLs, so
    they work under a path prefix behind a proxy; the browser sends the page's login cookie)."""
    f = filters(chapter, keyword, milestone, quantified)
    query = download_query(chapter, keyword, milestone, quantified)
    links = []
    for ext, label in (("csv", "下载 CSV（筛选结果）"), ("xlsx", "下载 Excel（筛选结果）")):
        name = download_name(f["chapter"], f["keyword"], f["milestone"], f["quantified_only"], ext)
        href = f"api/commitments.{ext}" + (f"?{query}" if query else "")
        links.append(f"<a class='c-download' id='planqa-c-{ext}' href='{html.escape(href)}' "
                     f"download='{html.escape(name)}'>{label}</a>")
    return "<div class='c-downloads'>" + "".join(links) + "</div>"


def commitments_tab(searcher):
    """Build the 承诺清单 tab inside the current gr.Blocks."""
    import gradio as gr

    passages = searcher.passages
    counts0, list0 = view(passages, ALL, "", "", False)
    with gr.Tab("承诺清单", elem_id="planqa-ctab"):
        gr.Markdown("计划中的每一句任务：承诺到什么程度（投用 > 完工 > 开工 > 具备条件 > 只是推进）、对象、数量、地点、期限，"
                    "原文照录并标出各项出处。")
        with gr.Row():
            c_chapter = gr.Dropdown(choices=chapter_choices(passages), value=ALL, label="章节", scale=2, min_width=260,
                                    filterable=False, elem_id="planqa-c-chapter")
            c_milestone = gr.Dropdown(choices=MILESTONE_CHOICES, value="", label="承诺程度", scale=1, min_width=220,
                                      filterable=False, elem_id="planqa-c-milestone")
            c_word = gr.Textbox(label="关键词（含同类词：学校→小学、中学…）", placeholder="如：学校、养老、马驹桥",
                                scale=2, min_width=220, max_length=50, elem_id="planqa-c-word")
        with gr.Row():
            c_quant = gr.Checkbox(label="只看有量化目标的", value=False, elem_id="planqa-c-quant")
            links = gr.HTML(download_links(ALL, "", "", False), elem_id="planqa-c-downloads")
        counts = gr.HTML(counts0, elem_id="planqa-c-counts")
        listing = gr.HTML(list0, elem_id="planqa-commitments")
        inputs = [c_chapter, c_word, c_milestone, c_quant]
        events = [c_chapter.change, c_milestone.change, c_quant.change, c_word.submit, c_word.change]
        gr.on(events, partial(view, passages), inputs=inputs, outputs=[counts, listing], api_name=False,
              show_progress="hidden", trigger_mode="always_last")
        gr.on(events, download_links, inputs=inputs, outputs=links, api_name=False, show_progress="hidden",
              trigger_mode="always_last")
    return c_chapter, c_milestone, c_word, c_quant, links
