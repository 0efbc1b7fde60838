"""answer: retrieve, decide whether the plan covers the question, and shape the answer like it.

There is no generator: an answer is the matching passages quoted as published, or the statement
that the plan does not cover the question. A weak best match is never presented as an answer;
quotes after the first are shown only while they stay close to it, marked by how close (tiers).
A list question ("有哪些安排") gets every sentence that stays close, grouped by section by the
page; a follow-up in a chat is read with the question before it (followup.py).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from planqa.index.errors import InputError
from planqa.index.query import Query, analyze
from planqa.index.records import check_chapter
from planqa.index.search import DEFAULT_K, DEFAULT_MODE, FUSIONS, Hit, Searcher
from planqa.index.text import normalize, normalize_with_map

from .followup import read_with_previous
from .rules import covered_by, is_list_question, learned_covered, unknown_names

MAX_QUESTION_CHARS = 500
# The page's API accepts a question of any size; past this many characters it is refused before
# any work is done on it, so a 10 MB "question" costs nothing.
MAX_RAW_CHARS = 20 * MAX_QUESTION_CHARS
NOT_FOUND = "计划中未找到与该问题直接相关的内容"
NOT_IN_CHAPTER = "本章未找到"

# Tiers: how far below the best quote another one may stand and still be shown, (较相关, 可能相关,
# a list question's sentences), in the units of the mode's score. The learned ranking's score is a
# logit: measured on eval/dev.jsonl with cross-validated weights (eval/README.md, "Levers"), 1 / 2
# show 1.6 quotes a single-answer question with a correct one among them for 93%, and 3 shows a
# list question 4.5 quotes of which 82% belong (4: 5.9 and 76%). The hand-weighted modes score in
# cosines: 0.015 / 0.03 showed 2.3 quotes and 92%; 0.04 for a list, 5.2 quotes and 76%.
GAPS = {"learned": (1.0, 2.0, 3.0), "fused": (0.015, 0.03, 0.04)}
RELATED_WITHIN, POSSIBLE_WITHIN, LIST_WITHIN = GAPS["fused"]
# A list question is searched this deep before its sentences are gathered (`gathered`), and the
# section of the best hit counts as agreed when one of the next AGREE - 1 hits shares it.
LIST_DEPTH = 50
AGREE = 3
TIERS = {"best": "最相关", "related": "较相关", "possible": "可能相关"}
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    hits: tuple[Hit, ...]  # what the page shows
    message: str  # the lead line shown above the quotes
    unknown: tuple[str, ...] = ()  # names in the question the plan never mentions
    ranked: tuple[Hit, ...] = ()  # the retrieval ranking behind the answer (up to k), for metrics
    tiers: tuple[str, ...] = ()  # one per hit: "best", "related" or "possible" (TIERS)
    kind: str = "single"  # "list" for a question asking for several things ("有哪些…")
    read_as: str = ""  # the question as searched: a follow-up with what it borrowed from the one before
    chapter: int | None = None  # the chapter the question was asked in (None = all)
    widened: bool = False  # nothing in that chapter: `hits` come from all chapters


def clean_question(question: str) -> str:
    """The question without control or invisible characters; refuses empty and overlong ones."""
    if not isinstance(question, str):
        raise InputError("问题必须是文字")
    if len(question) > MAX_RAW_CHARS:
        raise InputError(_too_long(len(question)))
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in question
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    kept = " ".join(kept.split())
    if len(kept) > MAX_QUESTION_CHARS:
        raise InputError(_too_long(len(kept)))
    if not any(ch.isalnum() for ch in normalize(kept)):
        raise InputError("请输入一个问题，例如：今年新建多少家养老服务驿站？")
    return kept


def _too_long(n: int) -> str:
    return f"问题太长：最多 {MAX_QUESTION_CHARS} 字，收到 {n} 字。请只问一件事。"


def _previous(previous: str | None) -> str | None:
    try:
        return clean_question(previous) if previous else None
    except InputError:
        return None  # a previous turn that was refused gives nothing to borrow


def answer(searcher: Searcher, question: str, k: int = DEFAULT_K, chapter: int | None = None,
           mode: str = DEFAULT_MODE, previous: str | None = None) -> Answer:
    """The passages that answer a question, or an honest statement that the plan does not.

    `previous` is the question asked before this one in a conversation (the chat page passes it;
    the CLI asks one question at a time). With a `chapter` that holds no answer, the same search
    runs over all chapters and the answer says so (`widened`)."""
    q = clean_question(question)
    if chapter is not None:  # one meaning everywhere: 0 = the introduction, 1..N = the chapters
        check_chapter(chapter, {p.chapter_no for p in searcher.passages})
    read = read_with_previous(q, _previous(previous))
    query = analyze(read)
    hits = _search(searcher, query, k, mode, chapter)
    own = analyze(q) if read != q else None
    learned = FUSIONS[mode].abstainer
    covered, unknown = judge(searcher, query, hits, own, learned)
    if not covered and chapter is not None and not unknown:
        wide = _search(searcher, query, k, mode, None)
        if judge(searcher, query, wide, own, learned)[0]:
            return _shaped(q, read, query, wide, chapter, widened=True, mode=mode)
    if not covered:
        why = f"（计划中没有提到：{'、'.join(unknown)}）" if unknown else ""
        return Answer(q, False, tuple(hits), NOT_FOUND + why, unknown, ranked=tuple(hits), read_as=read,
                      chapter=chapter)
    return _shaped(q, read, query, hits, chapter, widened=False, mode=mode)


def _search(searcher: Searcher, query: Query, k: int, mode: str, chapter: int | None) -> list[Hit]:
    """The ranking behind an answer; a list question's sentences gathered where its best ones agree."""
    if not query.is_list:
        return searcher.search(query, k=k, mode=mode, chapter=chapter)
    return gathered(searcher.search(query, k=max(k, LIST_DEPTH), mode=mode, chapter=chapter))[:k]


def gathered(hits: list[Hit]) -> list[Hit]:
    """A list question's ranking with the part of the plan its best hits agree on moved up: a
    chapter's lead sentence first brings that chapter's sentences, a section holding two of the
    best three brings that section's; each part in score order, the rest after."""
    if not hits:
        return hits
    top = hits[0]
    if top.passage.section_no == 0 and top.passage.chapter_no > 0:
        def belongs(h: Hit) -> bool:
            return same_chapter(h, top)
    elif sum(same_section(h, top) for h in hits[1:AGREE]) >= 1:
        def belongs(h: Hit) -> bool:
            return same_section(h, top)
    else:
        return hits
    return [top] + [h for h in hits[1:] if belongs(h)] + [h for h in hits[1:] if not belongs(h)]


def same_section(a: Hit, b: Hit) -> bool:
    return same_chapter(a, b) and a.passage.section_no == b.passage.section_no


def _shaped(q: str, read: str, query: Query, hits: list[Hit], chapter: int | None, widened: bool,
            mode: str) -> Answer:
    kind = "list" if is_list_question(query) else "single"
    shown, tiers = shown_hits(hits, kind, GAPS["learned" if FUSIONS[mode].learned else "fused"])
    lead = f"在全部章节中找到 {len(shown)} 处相关内容：" if widened else f"计划中有 {len(shown)} 处相关内容："
    if widened:
        lead = f"{NOT_IN_CHAPTER}。{lead}"
    return Answer(q, True, shown, lead, ranked=tuple(hits), tiers=tiers, kind=kind, read_as=read,
                  chapter=chapter, widened=widened)


def shown_hits(hits: list[Hit], kind: str, gaps: tuple[float, float, float] = GAPS["fused"]
               ) -> tuple[tuple[Hit, ...], tuple[str, ...]]:
    """The quotes that earn their place, with their tiers: the best, then those close to it
    (`gaps`: how far below the best a 较相关, a 可能相关 and a list question's quote may stand)."""
    if not hits:
        return (), ()
    related_within, possible_within, list_within = gaps
    top = hits[0].score
    shown, tiers = [hits[0]], ["best"]
    for h in hits[1:]:
        gap = top - h.score
        if kind == "list":
            # A chapter's lead sentence first ("民生方面有哪些实事"): the list is that chapter's tasks.
            if gap > list_within and not (hits[0].passage.section_no == 0 and same_chapter(h, hits[0])):
                continue
            tier = "related"
        elif gap <= related_within:
            tier = "related"
        elif gap <= possible_within:
            tier = "possible"
        else:
            break
        shown.append(h)
        tiers.append(tier)
    return tuple(shown), tuple(tiers)


def same_chapter(a: Hit, b: Hit) -> bool:
    return (a.passage.document, a.passage.chapter_no) == (b.passage.document, b.passage.chapter_no)


def judge(searcher: Searcher, question: str | Query, hits: list[Hit], own: Query | None = None,
          learned: bool = False) -> tuple[bool, tuple[str, ...]]:
    """(whether the plan covers the question, names in it the plan never mentions); `own` is a
    follow-up's own words, from which what it asks for is read (rules.covered_by). `learned`:
    the fitted abstainer judges (rules.learned_covered; the hits come from the fitted ranker)."""
    query = question if isinstance(question, Query) else analyze(question)
    coverage = searcher.coverage(query, second=learned)
    english = searcher.terms.get("english", {})
    unknown = unknown_names(query, coverage.corpus_text, english.keys())
    if not hits or unknown:
        return False, unknown
    if learned:
        return learned_covered(query, hits, coverage, own, english.keys()), unknown
    return covered_by(query, hits, coverage, own), unknown


def highlight(text: str, terms: tuple[str, ...]) -> list[tuple[str, bool]]:
    """Split a quote into (piece, matched) runs, marking where the question's words occur."""
    if not terms:
        return [(text, False)]
    norm, src = normalize_with_map(text)
    marked = np.zeros(len(text), dtype=bool)
    for term in sorted(set(terms), key=len, reverse=True):
        t = normalize(term)
        if not t or (len(t) == 1 and _HAN.match(t)):  # a lone 家 or 个 marks noise, not meaning
            continue
        for m in re.finditer(re.escape(t), norm):
            marked[src[m.start()]: src[m.end() - 1] + 1] = True
    runs: list[tuple[str, bool]] = []
    for ch, flag in zip(text, marked):
        if runs and runs[-1][1] == bool(flag):
            runs[-1] = (runs[-1][0] + ch, bool(flag))
        else:
            runs.append((ch, bool(flag)))
    return runs
