"""HTML for the chat page: answers, a passage in its section, the plan as an outline.

Everything taken from a document is escaped once, markdown characters included: nothing in a plan
(or a question) is ever rendered as markup. These are pure functions of records, tested without a
browser; the page's script (app.py) only reads what they write.
"""
from __future__ import annotations

from collections.abc import Iterable

from planqa.index.records import Passage, ordinal_zh
from planqa.index.search import Hit

from .answer import TIERS, Answer, highlight

# One pass, one entity per character: HTML's specials, then the characters markdown would act on
# (written as numeric entities so they show as themselves). Escaping "&" first and the rest after
# would turn the "#" of "&#39;" into an entity too, and the page would show "What&#x27;s".
_ESC = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    **{c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~$"},
})


def esc(text: str) -> str:
    """Text safe to place in the chatbot's markdown-and-HTML renderer, shown exactly as written."""
    return text.translate(_ESC)


def anchor(p: Passage) -> str:
    """The HTML id of a sentence in the 计划全文 outline."""
    return "planqa-s-" + _slug(p.id)


def _slug(text: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in text)


def chapter_heading(p: Passage) -> str:
    """`第六部分【坚持以"人民对美好生活的向往"为导向,大力促进民生福祉厚植增优】`: the full title as published."""
    if p.chapter_no == 0:
        return "引言"
    return f"第{ordinal_zh(p.chapter_no)}部分【{p.chapter}】"


def citation(p: Passage) -> str:
    """What 复制引文 copies: the quote as published, then where it stands, in full, and its id."""
    where = chapter_heading(p) + (f"› {p.section}" if p.section else "")
    return f"{p.text}\n——《{p.doc_title}》{where}，编号 {p.short_id}"


def quote_html(hit: Hit) -> str:
    """A quote with the question's words in <mark>."""
    return "".join(f"<mark>{esc(piece)}</mark>" if hit_ else esc(piece) for piece, hit_ in highlight(hit.passage.text, hit.terms))


def section_context_html(passages: Iterable[Passage], focus: Passage) -> str:
    """The passage's section (or chapter preamble), with the passage itself in bold."""
    same = [p for p in passages if (p.document, p.chapter_no, p.section_no) == (focus.document, focus.chapter_no, focus.section_no)]
    parts = [f"<b class='focus'>{esc(p.text)}</b>" if p.id == focus.id else esc(p.text) for p in same]
    return "".join(parts)


def hit_message(hit: Hit, passages: list[Passage], rank: int) -> str:
    """One quoted passage: the quote, its reference, its id (a link into the outline), a copy
    button, and its section around it. The full citation rides along hidden, for the copy button."""
    p = hit.passage
    return (
        f"<div class='planqa-hit'><div class='quote'>{rank}. <span class='qtext'>{quote_html(hit)}</span></div>"
        f"<div class='ref'>{esc(p.reference)}</div>"
        f"<div class='meta'><a class='pid' href='#{anchor(p)}' title='在计划全文中查看'>编号 {esc(p.short_id)}</a>"
        "<button class='planqa-copy' type='button'>复制引文</button></div>"
        f"<span class='planqa-cite' hidden>{esc(citation(p))}</span>"
        f"<details><summary>在原文中查看（{esc(p.section or p.chapter_label)}）</summary>"
        f"<div class='context'>{section_context_html(passages, p)}</div></details></div>"
    )


def answer_messages(a: Answer, passages: list[Passage], examples: list[str]) -> list[str]:
    """The assistant's messages for an answer: a lead line, then the quotes.

    One question, one answer: the best quote, then any close ones under a visible "较相关" /
    "可能相关" label. A list question: its quotes grouped under their sections, in plan order.
    With a chapter that held nothing, the lead says "本章未找到" and the quotes (from all
    chapters) carry their chapter › section."""
    if a.answered:
        tiers = a.tiers or ("best",) * len(a.hits)
        lead = esc(a.message)
        if a.widened:
            head, _, rest = a.message.partition("。")
            lead = f"<div class='planqa-widened'><b>{esc(head)}</b>。{esc(rest)}</div>"
        if a.kind == "list":
            return [lead] + _grouped(a, tiers, passages)
        return [lead] + [(_tier_label(t) if t != prev else "") + hit_message(h, passages, i)
                         for i, (h, t, prev) in enumerate(zip(a.hits, tiers, ("",) + tiers), 1)]
    lines = [f"<div class='planqa-none'><b>{esc(a.message)}</b>"]
    chapters = list(dict.fromkeys(h.passage.chapter_label for h in a.hits))[:3]
    if chapters:
        lines.append("<div>最接近的章节（不是答案）：" + "；".join(esc(c) for c in chapters) + "</div>")
    lines.append("<div>可以这样问：" + "；".join(esc(e) for e in examples[:3]) + "</div></div>")
    return ["".join(lines)]


def _tier_label(tier: str) -> str:
    """Nothing for the best quote; a visible label for the weaker ones."""
    if tier == "best":
        return ""
    return f"<div class='planqa-tier planqa-tier-{tier}'>{esc(TIERS[tier])}</div>"


def _grouped(a: Answer, tiers: tuple[str, ...], passages: list[Passage]) -> list[str]:
    """A list answer: one message per section, its title (a heading) then its quotes, sections in
    plan order; quotes numbered 1, 2, 3 in the order shown, a tier label once where a tier starts."""
    groups: dict[tuple, list] = {}
    for h, t in sorted(zip(a.hits, tiers), key=lambda ht: ht[0].passage.position):
        p = h.passage
        groups.setdefault((p.document, p.chapter_no, p.section_no), []).append((h, t))
    out, number, shown_tier = [], 0, "best"
    for items in groups.values():
        p = items[0][0].passage
        parts = [f"<div class='planqa-section' role='heading' aria-level='3'><b>{esc(p.section or p.chapter_label)}</b></div>"]
        for h, t in items:
            number += 1
            if t != shown_tier and t != "best":
                parts.append(_tier_label(t))
                shown_tier = t
            parts.append(hit_message(h, passages, number))
        out.append("".join(parts))
    return out


def outline_html(passages: list[Passage]) -> str:
    """The whole plan as chapters › sections › sentences: a linked table of contents, then every
    sentence with its short id (and its position, "6.2.3"), each an anchor that answers link to."""
    toc, body = [], []
    doc = chapter = section = None
    for p in passages:
        if p.document != doc:
            if doc is not None:
                toc.append("</ul></li></ul>" if chapter is not None else "</ul>")
                body.append("</div>")
            doc, chapter, section = p.document, None, None
            toc.append(f"<div class='planqa-toc-doc'>{esc(p.doc_title)}</div><ul>")
            body.append(f"<div class='planqa-doc'><h2>{esc(p.doc_title)}</h2>")
        if p.chapter_no != chapter:
            if chapter is not None:
                toc.append("</ul></li>")
            chapter, section = p.chapter_no, None
            ch_id = f"planqa-ch-{_slug(p.document)}-{p.chapter_no}"
            toc.append(f"<li><a href='#{ch_id}'>{esc(chapter_heading(p))}</a><ul>")
            body.append(f"<h3 id='{ch_id}'>{esc(chapter_heading(p))}</h3>")
        if p.section_no != section:
            section = p.section_no
            if p.section:
                sec_id = f"planqa-sec-{_slug(p.document)}-{p.chapter_no}-{p.section_no}"
                toc.append(f"<li><a href='#{sec_id}'>{esc(p.section)}</a></li>")
                body.append(f"<h4 id='{sec_id}'>{esc(p.section)}</h4>")
        body.append(f"<p class='sent' id='{anchor(p)}'><code title='位置 {esc(p.label)}'>{esc(p.short_id)}</code> "
                    f"{esc(p.text)}</p>")
    if doc is not None:
        toc.append("</ul></li></ul>" if chapter is not None else "</ul>")
        body.append("</div>")
    return ("<div class='planqa-outline'><nav class='planqa-toc' aria-label='目录'><b>目录</b>" + "".join(toc)
            + "</nav><div class='planqa-body'>" + "".join(body) + "</div></div>")
