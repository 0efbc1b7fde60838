"""HTML for the chat page: answers, a passage in its section, the plan as an outline.

Everything taken from a document is escaped, markdown characters included: nothing in a plan is
ever rendered as markup. These are pure functions of records, tested without a browser.
"""
from __future__ import annotations

import html
from collections.abc import Iterable

from planqa.index.records import Passage
from planqa.index.search import Hit

from .answer import TIERS, Answer, highlight

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
        return [lead] + [_tier_label(t) + hit_message(h, passages, i) for i, (h, t) in enumerate(zip(a.hits, tiers), 1)]
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
    """A list answer: one message per section, its title then its quotes, sections in plan order."""
    ranked = {h.passage.id: i for i, h in enumerate(a.hits, 1)}
    groups: dict[tuple, list] = {}
    for h, t in sorted(zip(a.hits, tiers), key=lambda ht: ht[0].passage.position):
        p = h.passage
        groups.setdefault((p.document, p.chapter_no, p.section_no), []).append((h, t))
    out = []
    for items in groups.values():
        p = items[0][0].passage
        title = f"<div class='planqa-section'>{esc(p.section or p.chapter_label)}</div>"
        out.append(title + "".join(_tier_label(t) + hit_message(h, passages, ranked[h.passage.id]) for h, t in items))
    return out


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
