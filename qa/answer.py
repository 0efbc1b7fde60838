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
from planqa.index.search import DEFAULT_K, DEFAULT_MODE, Hit, Searcher
from planqa.index.text import normalize, normalize_with_map

from .followup import read_with_previous
from .rules import covered_by, is_list_question, unknown_names

MAX_QUESTION_CHARS = 500
# The page's API accepts a question of any size; past this many characters it is refused before
# any work is done on it, so a 10 MB "question" costs nothing.
MAX_RAW_CHARS = 20 * MAX_QUESTION_CHARS
NOT_FOUND = "计划中未找到与该问题直接相关的内容"
NOT_IN_CHAPTER = "本章未找到"

# Tiers: how far (fused score) below the best quote another one may stand and still be shown.
# Measured on eval/dev.jsonl (eval/README.md, "Levers"): 0.015 / 0.03 show 2.3 quotes a
# single-answer question with a correct one among them for 92% (0.03 / 0.06: 4.3 and 96%).
RELATED_WITHIN = 0.015  # 较相关
POSSIBLE_WITHIN = 0.03  # 可能相关
# A list question's sentences sit close together below the first: at 0.04, 69% of the quotes
# shown for dev list questions belong to the list (0.06: 60%).
LIST_WITHIN = 0.04
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
    hits = searcher.search(query, k=k, mode=mode, chapter=chapter)
    covered, unknown = judge(searcher, query, hits)
    if not covered and chapter is not None and not unknown:
        wide = searcher.search(query, k=k, mode=mode)
        if judge(searcher, query, wide)[0]:
            return _shaped(q, read, query, wide, chapter, widened=True)
    if not covered:
        why = f"（计划中没有提到：{'、'.join(unknown)}）" if unknown else ""
        return Answer(q, False, tuple(hits), NOT_FOUND + why, unknown, ranked=tuple(hits), read_as=read,
                      chapter=chapter)
    return _shaped(q, read, query, hits, chapter, widened=False)


def _shaped(q: str, read: str, query: Query, hits: list[Hit], chapter: int | None, widened: bool) -> Answer:
    kind = "list" if is_list_question(query) else "single"
    shown, tiers = shown_hits(hits, kind)
    lead = f"在全部章节中找到 {len(shown)} 处相关内容：" if widened else f"计划中有 {len(shown)} 处相关内容："
    if widened:
        lead = f"{NOT_IN_CHAPTER}。{lead}"
    return Answer(q, True, shown, lead, ranked=tuple(hits), tiers=tiers, kind=kind, read_as=read,
                  chapter=chapter, widened=widened)


def shown_hits(hits: list[Hit], kind: str) -> tuple[tuple[Hit, ...], tuple[str, ...]]:
    """The quotes that earn their place, with their tiers: the best, then those close to it."""
    if not hits:
        return (), ()
    top = hits[0].score
    shown, tiers = [hits[0]], ["best"]
    for h in hits[1:]:
        gap = top - h.score
        if kind == "list":
            # A chapter's lead sentence first ("民生方面有哪些实事"): the list is that chapter's tasks.
            if gap > LIST_WITHIN and not (hits[0].passage.section_no == 0 and same_chapter(h, hits[0])):
                continue
            tier = "related"
        elif gap <= RELATED_WITHIN:
            tier = "related"
        elif gap <= POSSIBLE_WITHIN:
            tier = "possible"
        else:
            break
        shown.append(h)
        tiers.append(tier)
    return tuple(shown), tuple(tiers)


def same_chapter(a: Hit, b: Hit) -> bool:
    return (a.passage.document, a.passage.chapter_no) == (b.passage.document, b.passage.chapter_no)


def judge(searcher: Searcher, question: str | Query, hits: list[Hit]) -> tuple[bool, tuple[str, ...]]:
    """(whether the plan covers the question, names in it the plan never mentions)."""
    query = question if isinstance(question, Query) else analyze(question)
    coverage = searcher.coverage(query)
    unknown = unknown_names(query, coverage.corpus_text)
    return bool(hits) and not unknown and covered_by(query, hits, coverage), unknown


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
