"""HTML for the chat page: answers, a passage in its section, the plan as an outline.

Everything taken from a document is escaped, markdown characters included: nothing in a plan is
ever rendered as markup. These are pure functions of records, tested without a browser.
"""
from __future__ import annotations

import html
from collections.abc import Iterable

from planqa.index.records import Passage
from planqa.index.search import Hit

from .answer import Answer, highlight

# Characters markdown would act on, written as entities so they show as themselves.
_MD = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~<>$"})


def esc(text: str) -> str:
    """Text safe to place in the chatbot's markdown-and-HTML renderer."""
    return html.escape(text, quote=True).replace("&", "\0").translate(_MD).replace("\0", "&")


def quote_html(hit: Hit) -> str:
    """A quote with the question's words in <mark>."""
    return "".join(f"<mark>{esc(piece)}</mark>" if hit_ else esc(piece) for piece, hit_ in highlight(hit.passage.text, hit.terms))


def section_context_html(passages: Iterable[Passage], focus: Passage) -> str:
    """The passage's section (or chapter preamble), with the passage itself in bold."""
    same = [p for p in passages if (p.document, p.chapter_no, p.section_no) == (focus.document, focus.chapter_no, focus.section_no)]
    parts = [f"<b class='focus'>{esc(p.text)}</b>" if p.id == focus.id else esc(p.text) for p in same]
    return "".join(parts)


def hit_message(hit: Hit, passages: list[Passage], rank: int) -> str:
    """One quoted passage: the quote, its reference, its id, and its section around it."""
    p = hit.passage
    return (
        f"<div class='planqa-hit'><div class='quote'>{rank}. <span class='qtext'>{quote_html(hit)}</span></div>"
        f"<div class='ref'>{esc(p.reference)}</div>"
        f"<div class='pid'>{esc(p.id)}</div>"
        "<button class='planqa-copy' type='button'>复制引文</button>"
        f"<details><summary>在原文中查看（{esc(p.section or p.chapter_label)}）</summary>"
        f"<div class='context'>{section_context_html(passages, p)}</div></details></div>"
    )


def answer_messages(a: Answer, passages: list[Passage], examples: list[str]) -> list[str]:
    """The assistant's messages for an answer: a lead line, then one message per quote."""
    if a.answered:
        return [esc(a.message)] + [hit_message(h, passages, i) for i, h in enumerate(a.hits, 1)]
    lines = [f"<div class='planqa-none'><b>{esc(a.message)}</b>"]
    chapters = list(dict.fromkeys(h.passage.chapter_label for h in a.hits))[:3]
    if chapters:
        lines.append("<div>最接近的章节（不是答案）：" + "；".join(esc(c) for c in chapters) + "</div>")
    lines.append("<div>可以这样问：" + "；".join(esc(e) for e in examples[:3]) + "</div></div>")
    return ["".join(lines)]


def outline_html(passages: list[Passage]) -> str:
    """The whole plan as chapters › sections › sentences, each sentence with its id."""
    out = []
    doc = chapter = section = None
    for p in passages:
        if p.document != doc:
            if doc is not None:
                out.append("</div>")
            doc, chapter, section = p.document, None, None
            out.append(f"<div class='planqa-doc'><h2>{esc(p.doc_title)}</h2>")
        if p.chapter_no != chapter:
            chapter, section = p.chapter_no, None
            title = "引言" if p.chapter_no == 0 else f"{p.chapter_label[:p.chapter_label.index('【')]}【{p.chapter}】"
            out.append(f"<h3 id='ch-{p.chapter_no}'>{esc(title)}</h3>")
        if p.section_no != section:
            section = p.section_no
            if p.section:
                out.append(f"<h4>{esc(p.section)}</h4>")
        out.append(f"<p class='sent'><code>{esc(p.id)}</code> {esc(p.text)}</p>")
    if doc is not None:
        out.append("</div>")
    return "".join(out)
