"""HTML of the 承诺清单 tab: counts per milestone per chapter, and the commitments, a table on wide
screens and one card per commitment (quote first, fields under it) below 600 px.

Everything from the document is escaped. The quote is shown as published, with the extracted fields
marked in it (milestone, object, quantities, places), so a reader sees what each field came from.
"""
from __future__ import annotations

from collections import Counter
from html import escape

from .extract import level

ORDER = ("in_use", "finished", "started", "ready", "effort", "other")
FIELDS = ("原文", "承诺程度", "对象", "数量", "地点", "期限", "出处")

CSS = """
<style>
#planqa-ctab .c-counts { border-collapse: collapse; font-size: 0.85em; margin: 4px 0 8px; }
#planqa-ctab .c-counts th, #planqa-ctab .c-counts td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
#planqa-ctab .c-counts th:first-child, #planqa-ctab .c-counts td:first-child { text-align: left; white-space: nowrap; }
#planqa-ctab .c-list { display: grid; grid-template-columns: minmax(14em, 2.4fr) 7em minmax(8em, 1.3fr) 6em 6em 4.5em minmax(11em, 1.6fr);
  border-top: 1px solid #ddd; font-size: 0.92em; }
#planqa-ctab .c-row, #planqa-ctab .c-head { display: contents; }
#planqa-ctab .c-row > div, #planqa-ctab .c-head > div { padding: 6px; border-bottom: 1px solid #eee; overflow-wrap: anywhere; }
#planqa-ctab .c-head > div { font-weight: bold; background: #f6f6f6; }
#planqa-ctab .c-row .k { display: none; color: #666; margin-right: 4px; }
#planqa-ctab .ms { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 0.9em; white-space: nowrap; }
#planqa-ctab .ms-in_use { background: #d9f7be; } #planqa-ctab .ms-finished { background: #b7eb8f; }
#planqa-ctab .ms-started { background: #bae0ff; } #planqa-ctab .ms-ready { background: #fff1b8; }
#planqa-ctab .ms-effort { background: #f0f0f0; } #planqa-ctab .ms-other { background: #fafafa; color: #666; }
#planqa-ctab .q-ms { background: #fff1b8; } #planqa-ctab .q-obj { text-decoration: underline; text-decoration-color: #1677ff; }
#planqa-ctab .q-num { font-weight: bold; color: #a8071a; } #planqa-ctab .q-pl { color: #006d75; }
#planqa-ctab .pid { color: #777; font-family: monospace; font-size: 0.85em; overflow-wrap: anywhere; }
#planqa-ctab .note { color: #a8071a; font-size: 0.85em; }
#planqa-ctab .planqa-copy { font-size: 0.85em; border: 1px solid #ccc; border-radius: 4px; padding: 1px 8px; margin-top: 4px; }
#planqa-ctab .none { color: #999; }
#planqa-ctab .c-caption { color: #555; font-size: 0.9em; margin: 0; }
#planqa-ctab .c-summary { margin: 4px 0; }
#planqa-ctab .c-downloads { display: flex; flex-wrap: wrap; gap: 8px; }
#planqa-ctab .c-download { display: inline-block; padding: 8px 16px; border: 1px solid #d9d9d9; border-radius: 6px;
  background: #f5f5f5; color: #222; font-weight: 600; text-decoration: none; }
#planqa-ctab .c-download:hover, #planqa-ctab .c-download:focus { background: #e6f4ff; border-color: #1677ff; }
#planqa-ctab .c-summary span { padding: 0 2px; }
@media (max-width: 600px) {
  #planqa-ctab .c-list { display: block; border-top: none; }
  #planqa-ctab .c-head { display: none; }
  #planqa-ctab .c-row { display: block; border: 1px solid #ddd; border-radius: 8px; margin: 0 0 10px; padding: 8px 10px; }
  #planqa-ctab .c-row > div { border: none; padding: 2px 0; }
  #planqa-ctab .c-row > .quote { font-size: 1.05em; line-height: 1.7; padding-bottom: 6px; }
  #planqa-ctab .c-row .k { display: inline; }
  #planqa-ctab .c-row > .f-none { display: none; }
  #planqa-ctab .c-counts { font-size: 0.8em; }
  #planqa-ctab .c-counts th, #planqa-ctab .c-counts td { padding: 2px 3px; }
}
</style>
"""


def label(key: str) -> str:
    return level(key)["label"]


def counts_html(rows, chapters: list[tuple[int, str]]) -> str:
    """Commitments per milestone (columns) per chapter (rows), with totals."""
    n = Counter((c.chapter_no, c.milestone) for c in rows)
    head = "".join(f"<th>{escape(label(k))}</th>" for k in ORDER)
    body = []
    for no, _title in chapters:
        cells = [n[(no, k)] for k in ORDER]
        if sum(cells):
            name = "引言" if no == 0 else f"第{no}章"
            body.append(f"<tr><td>{name}</td>" + "".join(f"<td>{v or ''}</td>" for v in cells) + f"<td>{sum(cells)}</td></tr>")
    totals = [sum(n[(no, k)] for no, _ in chapters) for k in ORDER]
    body.append("<tr><td><b>合计</b></td>" + "".join(f"<td><b>{v}</b></td>" for v in totals) + f"<td><b>{sum(totals)}</b></td></tr>")
    return f"<table class='c-counts'><tr><th>章节</th>{head}<th>合计</th></tr>{''.join(body)}</table>"


def marked_quote(c) -> str:
    """The quote, escaped, with each extracted field wrapped in a span of its class."""
    classes = [set() for _ in c.quote]
    spans = [("q-ms", c.milestone_span), ("q-obj", c.object_span)]
    spans += [("q-num", (q.start, q.end)) for q in c.quantities] + [("q-pl", (p.start, p.end)) for p in c.places]
    for name, span in spans:
        if span:
            for i in range(*span):
                classes[i].add(name)
    out, run, current = [], "", None
    for ch, cls in zip(c.quote, classes):
        key = " ".join(sorted(cls))
        if key != current and run:
            out.append(_span(run, current))
            run = ""
        current = key
        run += ch
    if run:
        out.append(_span(run, current))
    return "".join(out)


def _span(text: str, cls: str | None) -> str:
    return f"<span class='{cls}'>{escape(text)}</span>" if cls else escape(text)


def _field(key: str, value: str, cls: str = "") -> str:
    empty = not value
    shown = "<span class='none'>—</span>" if empty else value
    return f"<div class='{cls}{' f-none' if empty else ''}'><span class='k'>{key}：</span>{shown}</div>"


def row_html(c) -> str:
    quantities = "；".join(escape(q.text + (f"（{q.counts}）" if q.counts else "")) for q in c.quantities)
    notes = "".join(f"<div class='note'>{escape(n)}</div>" for n in c.notes)
    ref = (f"{escape(c.reference)}<div class='pid'>{escape(c.id)}</div>"
           "<button class='planqa-copy' type='button'>复制引文</button>"
           f"<span class='planqa-cite' hidden>{escape(c.citation)}</span>")
    return (
        f"<div class='c-row planqa-hit' data-id='{escape(c.id)}' data-milestone='{c.milestone}'>"
        f"<div class='quote'><span class='qtext'>{marked_quote(c)}</span>{notes}</div>"
        + _field("承诺程度", f"<span class='ms ms-{c.milestone}'>{escape(label(c.milestone))}</span>"
                 + (f" {escape(c.milestone_word)}" if c.milestone_word else ""))
        + _field("对象", escape(c.object)) + _field("数量", quantities)
        + _field("地点", "、".join(escape(p.name) for p in c.places)) + _field("期限", escape(c.deadline.text))
        + f"<div class='ref'><span class='k'>出处：</span>{ref}</div></div>"
    )


def list_html(rows) -> str:
    if not rows:
        return "<p>没有符合条件的承诺。换个关键词，或放宽筛选条件。</p>"
    head = "<div class='c-head'>" + "".join(f"<div>{f}</div>" for f in FIELDS) + "</div>"
    return f"<div class='c-list'>{head}{''.join(row_html(c) for c in rows)}</div>"
